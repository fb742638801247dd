/* SPDX-License-Identifier: MIT */
/* RFC 6455 opening handshake, both sides, sans-I/O. */
#ifndef AZR_PROTO_WS_HANDSHAKE_H
#define AZR_PROTO_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/http1.h"
#include "util/buf.h"

/* base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) into out (29 bytes with NUL); an
 * empty string for a key over 90 bytes (never valid) or when memory runs out. */
void azr__ws_accept_value(const char *client_key, size_t key_len, char out[29]);

/* A fresh random Sec-WebSocket-Key (base64 of 16 random bytes) into out (25 bytes with NUL). */
int azr__ws_new_key(char out[25]);

/* Client request for `path_and_query` on `host_header` ("host" or "host:port"), with key.
 * extra_headers: NULL or pairs {name, value, name, value, ..., NULL}. AZR_E_INVALID_ARG (nothing
 * appended) for CR/LF in any text, a ':' in a name, a target with spaces or controls, an odd list. */
int azr__ws_client_request(struct azr__buf *out, const char *host_header, const char *path_and_query,
                           const char *key, const char *const *extra_headers);

/* Validates a server's response head to our key: status 101, Upgrade: websocket, Connection:
 * upgrade, one matching Sec-WebSocket-Accept, no Sec-WebSocket-Extensions (we offer none), and a
 * Sec-WebSocket-Protocol only if we offered some (comma-separated offered_protocols), then exactly
 * one of ours (case-sensitive). Returns 0, or -1 with a reason in err (size err_len). A non-101
 * status gives -1 too; the caller reads head->status_code for that. */
int azr__ws_client_check_response(const struct azr__http_head *head, const char *key,
                                  const char *offered_protocols, char *err, size_t err_len);

/* Checks a client's upgrade request: GET, HTTP/1.1 or later, Host, Upgrade: websocket, Connection:
 * upgrade, Sec-WebSocket-Version: 13, one Sec-WebSocket-Key of 16 base64-decoded bytes. 0 or -1
 * with a reason. */
int azr__ws_server_check_request(const struct azr__http_head *head, char *err, size_t err_len);

/* 101 response for the client key; subprotocol may be NULL (then no header). AZR_E_INVALID_ARG
 * (nothing appended) for an empty subprotocol or one with CR/LF. */
int azr__ws_server_response(struct azr__buf *out, const char *client_key, const char *subprotocol);

#endif
