/* SPDX-License-Identifier: MIT */
/* `azrelay listen --metrics HOST:PORT`: the listener's counters (azr_listener_get_stats) served as
 * OpenMetrics text to GET /metrics, for Prometheus and friends. Polled from the CLI's loop, never
 * blocking it: a client that does not send its request head within 2 s is dropped. */
#ifndef AZR_TOOLS_METRICS_H
#define AZR_TOOLS_METRICS_H

#include <stddef.h>

#include "azrelay.h"

struct metrics_server;

/* Binds HOST:PORT (an IPv4 address, a bracketed IPv6 address or a name; port 0 picks a free one).
 * NULL on failure, with the reason in err. */
struct metrics_server *metrics_open(const char *host_port, char *err, size_t err_len);
/* The bound port (after metrics_open). */
unsigned metrics_port(const struct metrics_server *m);
/* Accepts and answers what is ready now; never waits. */
void metrics_tick(struct metrics_server *m, azr_listener *l);
void metrics_close(struct metrics_server *m);

/* The OpenMetrics exposition of @p s into @p out (always NUL-terminated); returns its length. */
size_t metrics_format(const azr_listener_stats *s, char *out, size_t cap);

#endif
