/* SPDX-License-Identifier: MIT */
/* `azrelay connect` progress on stderr: bytes each way and the average rate, redrawn in place on a
 * terminal, one line a second otherwise (--progress). Shown once a transfer has run for a second. */
#ifndef AZR_CLI_CONNECT_PROGRESS_H
#define AZR_CLI_CONNECT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct progress {
  uv_timer_t timer;
  bool enabled, tty, running, shown;
  uint64_t start_ms, sent, received, reported_sent, reported_received;
};

/* enabled false: every call below does nothing. tty: redraw one line with '\r'. */
void progress_init(struct progress *p, uv_loop_t *loop, bool enabled, bool tty);
void progress_start(struct progress *p);
void progress_sent(struct progress *p, size_t n);
void progress_received(struct progress *p, size_t n);
/* Prints the final figures if anything was shown, and stops. */
void progress_stop(struct progress *p);

/* "1.5 MiB" style text for n bytes, into out. */
void progress_bytes(uint64_t n, char *out, size_t out_len);

#endif
