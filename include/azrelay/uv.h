/* SPDX-License-Identifier: MIT */
/**
 * @file uv.h
 * Running a listener on the application's own libuv loop. This is the only azrelay header that
 * includes <uv.h>.
 */
#ifndef AZRELAY_UV_H
#define AZRELAY_UV_H

#include <uv.h>

#include "azrelay/client.h"
#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Creates a listener whose handles live on @p loop; the application runs the loop (uv_run) and must
 *  not call azr_listener_run(). After azr_listener_free() the application keeps running the loop
 *  until the listener's handles have closed (uv_run returns when nothing else is active). */
AZR_EXTERN AZR_NODISCARD int azr_listener_new_on_uv(azr_listener **out, uv_loop_t *loop);

/** A sender client on the application's loop (same rules as azr_listener_new_on_uv). */
AZR_EXTERN AZR_NODISCARD int azr_client_new_on_uv(azr_client **out, uv_loop_t *loop);

#ifdef __cplusplus
}
#endif
#endif
