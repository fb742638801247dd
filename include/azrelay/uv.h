/* SPDX-License-Identifier: MIT */
/**
 * @file uv.h
 * @brief Running a listener or a sender client on the application's own libuv loop.
 *
 * This is the only azrelay header that includes <uv.h>. The application creates the loop, runs it
 * with uv_run() on one thread, and makes every call on the listener or client from that thread
 * (typically from its own libuv callbacks or the library's). The library adds handles to the loop
 * (timers, sockets) and removes them when freed; it never runs the loop itself, which is why a send
 * with a Timeout does not block on such a listener. azr_listener_interrupt_run() and
 * azr_conn_interrupt() call uv_stop() on this loop.
 * @since 1.0.0
 */
#ifndef AZRELAY_UV_H
#define AZRELAY_UV_H

#include <uv.h>

#include "azrelay/client.h"
#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Creates a listener whose handles live on the application's @p loop.
 *
 * The application runs the loop (uv_run()) and must not call azr_listener_run(). After
 * azr_listener_free() the application keeps running the loop until the listener's handles have
 * closed (uv_run() in UV_RUN_DEFAULT mode returns when nothing else is active); only then may it
 * close the loop.
 * @param[out] out receives the listener; free it with azr_listener_free(). Untouched on failure.
 * @param loop     an initialised loop that outlives the listener; not owned by the listener.
 * @return AZR_OK; AZR_E_INVALID_ARG (@p out or @p loop NULL); AZR_E_NOMEM; another status if
 *         libcurl cannot be initialised.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_new_on_uv(azr_listener **out, uv_loop_t *loop);

/**
 * @brief Creates a sender client on the application's @p loop (same rules as
 * azr_listener_new_on_uv(); do not call azr_client_run()).
 * @param[out] out receives the client; free it with azr_client_free(). Untouched on failure.
 * @param loop     an initialised loop that outlives the client; not owned by the client.
 * @return AZR_OK; AZR_E_INVALID_ARG (@p out or @p loop NULL); AZR_E_NOMEM; another status if
 *         libcurl cannot be initialised.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_new_on_uv(azr_client **out, uv_loop_t *loop);

#ifdef __cplusplus
}
#endif
#endif
