/* SPDX-License-Identifier: MIT */
/* A listening TCP socket on the loop that hands each accepted connection's fd to its owner. */
#ifndef AZR_IO_TCP_SERVER_H
#define AZR_IO_TCP_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "util/log.h"
#include "util/mem.h"

struct azr__tcp_server;

/* fd is a new non-blocking socket the callee owns. */
typedef void (*azr__tcp_accept_fn)(void *ud, int fd);

/* Binds host:port (port 0 = any free port; the bound port is returned in *out_port) and listens.
 * host is a numeric IPv4 or IPv6 address or "localhost". Running out of descriptors (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM) pauses accepting for a while instead of spinning on the still-readable
 * socket; the first such pause, and one a minute after it, is logged to `log` (may be NULL). */
int azr__tcp_server_open(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log, const char *host,
                         uint16_t port, azr__tcp_accept_fn on_accept, void *ud, struct azr__tcp_server **out,
                         uint16_t *out_port, char *err, size_t err_len);
/* The bound address as a URL host: "127.0.0.1", "[::1]", "0.0.0.0"... */
const char *azr__tcp_server_address(const struct azr__tcp_server *srv);
/* Stops accepting and releases the socket (asynchronously). */
void azr__tcp_server_close(struct azr__tcp_server *srv);
/* Temporarily stop/restart accepting (connection quotas). */
void azr__tcp_server_pause(struct azr__tcp_server *srv, int paused);

#endif
