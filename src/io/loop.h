/* SPDX-License-Identifier: MIT */
/* Running a libuv loop for a bounded time (the reference's DoEvents), and closing one for good. */
#ifndef AZR_IO_LOOP_H
#define AZR_IO_LOOP_H

#include <stdbool.h>
#include <uv.h>

/* Runs `loop` for at most timeout_ms (0 = what is ready now; negative = until *stop is set and
 * uv_stop is called, or nothing is left to do). */
void azr__loop_run(uv_loop_t *loop, int timeout_ms, const bool *stop);
/* Closes every handle still open on a loop the caller owns, runs the close callbacks, and closes the
 * loop. */
void azr__loop_close_all(uv_loop_t *loop);

#endif
