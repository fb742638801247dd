/* SPDX-License-Identifier: MIT */
/* The TCP side of azrelay connect --local-port. */
#ifndef AZR_CLI_CONNECT_TCP_H
#define AZR_CLI_CONNECT_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct bridge;

#include "azrelay.h"

struct tcp_bridge_server {
  uv_loop_t *loop;
  uv_tcp_t server;
  const char *path;
  /* Makes a configured client (connection string, TLS, settings) for one local connection. */
  int (*make_client)(struct tcp_bridge_server *srv, azr_client **out);
  /* Words a refused relayed connection (cli_explain_failure); returns the exit code it maps to. */
  int (*explain)(struct tcp_bridge_server *srv, int status, int http_status, const char *description, char *out,
                 size_t out_len);
  void *ud;
  struct bridge *bridges; /* live local connections (connect_tcp.c) */
};

/* Starts accepting on bind_addr:port; returns a CLI exit status (CLI_OK on success). */
int tcp_bridge_listen(struct tcp_bridge_server *srv, const char *bind_addr, int port);

/* Stops accepting and closes every relayed connection (1001 "going away") and local client; the
 * caller runs the loop briefly so the close frames leave, then exits. */
void tcp_bridge_stop(struct tcp_bridge_server *srv);

#endif
