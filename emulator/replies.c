/* SPDX-License-Identifier: MIT */
/* Error responses in the service's style (§4.3, §7.8, §10.4). */
#include <stdio.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "util/clock.h"
#include "util/crypto.h"

void azr__emu_error_text(azr_emulator *em, const char *text, const char *tracking_id, const char *entity_path, char *out,
                    size_t out_len) {
  char guid[37];
  char tid[140];
  if (tracking_id && *tracking_id) {
    /* The service appends a gateway suffix unless the id already carries one. */
    snprintf(tid, sizeof tid, "%.120s%s", tracking_id, strstr(tracking_id, "_G") ? "" : "_G0");
  } else {
    azr__guid(guid);
    snprintf(tid, sizeof tid, "%s_G0", guid);
  }
  char ts[20];
  azr__format_utc(azr__wall_s(), ts);
  snprintf(out, out_len, "%s TrackingId:%s, SystemTracker:sb://%s/%s, Timestamp:%s", text, tid, em->namespace_host,
           entity_path ? entity_path : "", ts);
  /* Reason phrases must stay single-line ASCII. */
  for (char *p = out; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = ' ';
}

void azr__emu_reply_ws_error(azr_emulator *em, struct azr__stream *s, int status, const char *text,
                        const char *tracking_id, const char *entity_path) {
  char msg[600];
  azr__emu_error_text(em, text, tracking_id, entity_path, msg, sizeof msg);
  char resp[1400];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n%s",
                   status, msg, strlen(msg), msg);
  EMU_LOG(em, AZR_LOG_VERBOSE, "refused %s:%u with %d %s", s->peer_addr, s->peer_port, status, text);
  if (n > 0) (void)azr__stream_write(s, resp, (size_t)n < sizeof resp ? (size_t)n : sizeof resp - 1);
  azr__stream_close(s, AZR__CLOSE_FLUSH);
}

static void json_escape(struct azr__buf *b, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') azr__buf_printf(b, "\\%c", c);
    else if (c < 0x20) azr__buf_printf(b, "\\u%04x", c);
    else azr__buf_append_byte(b, c);
  }
}

void azr__emu_reply_http_error(azr_emulator *em, struct azr__stream *s, int status, const char *code, const char *text,
                          const char *tracking_id, const char *entity_path, bool keep_alive) {
  char msg[600];
  azr__emu_error_text(em, text, tracking_id, entity_path, msg, sizeof msg);
  struct azr__buf body, resp;
  azr__buf_init(&body, em->mem, 0);
  azr__buf_init(&resp, em->mem, 0);
  azr__buf_append_str(&body, "{\"error\":{\"code\":\"");
  json_escape(&body, code);
  azr__buf_append_str(&body, "\",\"message\":\"");
  json_escape(&body, msg);
  azr__buf_append_str(&body, "\"}}");
  azr__buf_printf(&resp,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n%s\r\n",
                  status, msg, body.len, keep_alive ? "" : "Connection: close\r\n");
  azr__buf_append(&resp, body.data, body.len);
  EMU_LOG(em, AZR_LOG_VERBOSE, "HTTP %d %s for %s:%u", status, code, s->peer_addr, s->peer_port);
  (void)azr__stream_write(s, resp.data, resp.len);
  azr__buf_free(&body);
  azr__buf_free(&resp);
  if (!keep_alive) azr__stream_close(s, AZR__CLOSE_FLUSH);
}
