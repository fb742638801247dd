/* SPDX-License-Identifier: MIT */
/* WebSocket endpoint, server side: takes over a stream whose upgrade request was validated, writes
 * the 101 answer and feeds the bytes that came after the request to the session, from the loop. */
#include <stdio.h>

#include "azrelay/common.h"
#include "io/websocket_internal.h"
#include "proto/ws_handshake.h"
#include "util/limits.h"

void azr__ws_server_leftover(struct azr__ws *ws) {
  if (ws->state != WS_OPEN || !ws->leftover.len) return;
  int rc = azr__ws_session_recv(&ws->session, ws->leftover.data, ws->leftover.len);
  azr__buf_free(&ws->leftover);
  azr__ws_after_input(ws, rc);
}

int azr__ws_accept(struct azr__stream *s, const char *client_key, const char *subprotocol, const uint8_t *leftover,
                   size_t leftover_len, const struct azr__ws_options *opt, const struct azr__ws_callbacks *cb,
                   void *ud, struct azr__ws **out) {
  struct azr__ws *ws = azr__ws_create(s->loop, s->mem, opt, cb, ud, WS_OPEN);
  if (!ws) return AZR_E_NOMEM;
  struct azr__buf resp;
  azr__buf_init(&resp, ws->mem, AZR_MAX_HTTP_HEAD);
  int rc = azr__ws_server_response(&resp, client_key, subprotocol);
  if (!rc) rc = azr__ws_start_session(ws, false);
  if (!rc && leftover_len) rc = azr__buf_append(&ws->leftover, leftover, leftover_len);
  if (!rc) rc = azr__stream_write(s, resp.data, resp.len);
  azr__buf_free(&resp);
  if (rc) {
    azr__ws_destroy(ws);
    return rc;
  }
  if (subprotocol) snprintf(ws->protocol, sizeof ws->protocol, "%s", subprotocol);
  ws->stream = s;
  azr__stream_set_owner(s, &azr__ws_stream_callbacks, ws);
  azr__ws_watch_drain(s);
  azr__ws_opened(ws);
  if (ws->leftover.len) azr__ws_arm_soon(ws);
  *out = ws;
  return AZR_OK;
}
