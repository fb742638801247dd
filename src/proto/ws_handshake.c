/* SPDX-License-Identifier: MIT */
/* RFC 6455 §4 opening handshake: the client's upgrade request and its check of the 101 response, the
 * server's check of the request and its 101 response (sub-protocol rules of §4.2 of the protocol
 * notes). */
#include "proto/ws_handshake.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/crypto.h"
#include "util/encoding.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void azr__ws_accept_value(const char *client_key, size_t key_len, char out[29]) {
  uint8_t digest[20];
  char in[128];
  out[0] = 0;
  /* Keys are 24 characters; anything much longer cannot be valid and gets an empty answer. */
  if (key_len > sizeof in - sizeof ws_guid) return;
  memcpy(in, client_key, key_len);
  memcpy(in + key_len, ws_guid, sizeof ws_guid - 1);
  azr__sha1((const uint8_t *)in, key_len + sizeof ws_guid - 1, digest);
  struct azr__buf b;
  azr__buf_init(&b, NULL, 64);
  if (azr__base64_encode(&b, digest, sizeof digest) == AZR_OK && b.len == 28) memcpy(out, b.data, 29);
  azr__buf_free(&b);
}

int azr__ws_new_key(char out[25]) {
  uint8_t nonce[16];
  out[0] = 0;
  if (azr__random_bytes(nonce, sizeof nonce) != 0) return AZR_E_IO;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 64);
  int rc = azr__base64_encode(&b, nonce, sizeof nonce);
  if (rc == AZR_OK && b.len == 24) memcpy(out, b.data, 25);
  else if (rc == AZR_OK) rc = AZR_E_PARSE;
  azr__buf_free(&b);
  return rc;
}

/* Header text must not be able to end the line it is written on. */
static bool header_safe(const char *s) {
  for (; *s; s++)
    if (*s == '\r' || *s == '\n') return false;
  return true;
}

/* A request target: visible ASCII without spaces. */
static bool target_safe(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f) return false;
  return true;
}

int azr__ws_client_request(struct azr__buf *out, const char *host_header, const char *path_and_query,
                           const char *key, const char *const *extra_headers) {
  if (!out || !host_header || !*host_header || !path_and_query || !key || !header_safe(host_header) ||
      !target_safe(path_and_query) || !header_safe(key))
    return AZR_E_INVALID_ARG;
  if (extra_headers)
    for (size_t i = 0; extra_headers[i]; i += 2)
      if (!extra_headers[i + 1] || !*extra_headers[i] || !header_safe(extra_headers[i]) ||
          strchr(extra_headers[i], ':') || !header_safe(extra_headers[i + 1]))
        return AZR_E_INVALID_ARG;
  size_t start = out->len;
  int rc = azr__buf_printf(out,
                           "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
                           path_and_query, host_header, key);
  if (extra_headers)
    for (size_t i = 0; !rc && extra_headers[i]; i += 2)
      rc = azr__buf_printf(out, "%s: %s\r\n", extra_headers[i], extra_headers[i + 1]);
  if (!rc) rc = azr__buf_append(out, "\r\n", 2);
  if (rc) {
    out->len = start;
    if (out->data) out->data[start] = 0;
  }
  return rc;
}

static int refuse(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* True when the comma-separated list contains item exactly (sub-protocol names are case-sensitive
 * tokens, RFC 6455 §4.1). */
static bool list_contains(const char *list, struct azr__span item) {
  struct azr__span rest = azr__span_of(list);
  while (rest.len) {
    struct azr__span one = azr__span_trim(azr__span_cut(rest, ',', &rest));
    if (one.len && one.len == item.len && memcmp(one.ptr, item.ptr, item.len) == 0) return true;
  }
  return false;
}

static size_t header_count(const struct azr__http_head *h, const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < h->header_count; i++)
    if (azr__span_ieq(h->headers[i].name, name)) n++;
  return n;
}

int azr__ws_client_check_response(const struct azr__http_head *head, const char *key,
                                  const char *offered_protocols, char *err, size_t err_len) {
  if (head->is_request || head->status_code != 101)
    return refuse(err, err_len, "expected status 101, got %d", head->status_code);
  if (!azr__http_head_has_token(head, "Upgrade", "websocket"))
    return refuse(err, err_len, "the response lacks Upgrade: websocket");
  if (!azr__http_head_has_token(head, "Connection", "upgrade"))
    return refuse(err, err_len, "the response lacks Connection: Upgrade");
  const struct azr__http_header *accept = azr__http_head_find(head, "Sec-WebSocket-Accept");
  if (!accept || header_count(head, "Sec-WebSocket-Accept") != 1)
    return refuse(err, err_len, "the response lacks a single Sec-WebSocket-Accept");
  char expected[29];
  azr__ws_accept_value(key, strlen(key), expected);
  if (!expected[0]) return refuse(err, err_len, "cannot compute the expected Sec-WebSocket-Accept");
  if (!azr__span_eq(accept->value, expected))
    return refuse(err, err_len, "Sec-WebSocket-Accept does not match the key");
  const struct azr__http_header *ext = azr__http_head_find(head, "Sec-WebSocket-Extensions");
  if (ext && ext->value.len) return refuse(err, err_len, "the server selected an extension we did not offer");
  const struct azr__http_header *proto = azr__http_head_find(head, "Sec-WebSocket-Protocol");
  if (proto) {
    if (!offered_protocols || !*offered_protocols)
      return refuse(err, err_len, "the server selected a sub-protocol although none was offered");
    if (header_count(head, "Sec-WebSocket-Protocol") != 1 || !list_contains(offered_protocols, proto->value))
      return refuse(err, err_len, "the server selected a sub-protocol that was not offered");
  }
  return 0;
}

int azr__ws_server_check_request(const struct azr__http_head *head, char *err, size_t err_len) {
  if (!head->is_request || !azr__span_eq(head->method, "GET"))
    return refuse(err, err_len, "the method must be GET");
  if (head->http_major < 1 || (head->http_major == 1 && head->http_minor < 1))
    return refuse(err, err_len, "HTTP/1.1 or later is required");
  if (!azr__http_head_find(head, "Host")) return refuse(err, err_len, "the Host header is missing");
  if (!azr__http_head_has_token(head, "Upgrade", "websocket"))
    return refuse(err, err_len, "Upgrade: websocket is missing");
  if (!azr__http_head_has_token(head, "Connection", "upgrade"))
    return refuse(err, err_len, "Connection: Upgrade is missing");
  const struct azr__http_header *version = azr__http_head_find(head, "Sec-WebSocket-Version");
  if (!version || !azr__span_eq(version->value, "13"))
    return refuse(err, err_len, "Sec-WebSocket-Version must be 13");
  const struct azr__http_header *key = azr__http_head_find(head, "Sec-WebSocket-Key");
  if (!key || header_count(head, "Sec-WebSocket-Key") != 1)
    return refuse(err, err_len, "Sec-WebSocket-Key is missing");
  struct azr__buf raw;
  azr__buf_init(&raw, NULL, 64);
  int rc = azr__base64_decode(&raw, key->value.ptr, key->value.len);
  size_t n = raw.len;
  azr__buf_free(&raw);
  if (rc == AZR_E_NOMEM) return refuse(err, err_len, "out of memory");
  if (rc || n != 16 || key->value.len != 24)
    return refuse(err, err_len, "Sec-WebSocket-Key is not 16 bytes in base64");
  return 0;
}

int azr__ws_server_response(struct azr__buf *out, const char *client_key, const char *subprotocol) {
  if (!out || !client_key || (subprotocol && (!*subprotocol || !header_safe(subprotocol))))
    return AZR_E_INVALID_ARG;
  char accept[29];
  azr__ws_accept_value(client_key, strlen(client_key), accept);
  if (!accept[0]) return AZR_E_INVALID_ARG;
  size_t start = out->len;
  int rc = azr__buf_printf(out,
                           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: %s\r\n",
                           accept);
  if (!rc && subprotocol) rc = azr__buf_printf(out, "Sec-WebSocket-Protocol: %s\r\n", subprotocol);
  if (!rc) rc = azr__buf_append(out, "\r\n", 2);
  if (rc) {
    out->len = start;
    if (out->data) out->data[start] = 0;
  }
  return rc;
}
