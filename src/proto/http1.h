/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 message parsing over http-parser (sans-I/O): heads with capped size and header count,
 * then body bytes (Content-Length or chunked, decoded) as events. One parser serves a keep-alive
 * connection's successive messages. Swapping http-parser for llhttp touches only http1.c. */
#ifndef AZR_PROTO_HTTP1_H
#define AZR_PROTO_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

struct azr__http_header {
  struct azr__span name;  /* as received (case kept), points into the head's storage */
  struct azr__span value; /* leading/trailing white space removed */
};

/* A parsed request or response head. All spans point into `storage`, owned by the head. */
struct azr__http_head {
  bool is_request;
  int http_major, http_minor;
  struct azr__span method;  /* requests */
  struct azr__span target;  /* requests: the request-target as sent */
  int status_code;          /* responses */
  struct azr__span reason;  /* responses: the reason phrase */
  struct azr__http_header *headers;
  size_t header_count;
  bool upgrade;             /* Connection: upgrade + Upgrade present (or 101 response) */
  bool keep_alive;          /* per HTTP version and Connection header */
  bool chunked;             /* Transfer-Encoding: chunked */
  bool has_content_length;
  uint64_t content_length;
  struct azr__buf storage;
};

void azr__http_head_free(struct azr__http_head *h);
/* First header named `name` (case-insensitive) or NULL. */
const struct azr__http_header *azr__http_head_find(const struct azr__http_head *h, const char *name);
/* All values of `name` joined with ", " (the HTTP list rule); empty span if absent. The result is
 * written to out. */
int azr__http_head_join(const struct azr__http_head *h, const char *name, struct azr__buf *out);
/* True when a comma-separated header `name` contains `token` (case-insensitive). */
bool azr__http_head_has_token(const struct azr__http_head *h, const char *name, const char *token);

enum azr__http1_type { AZR__HTTP1_REQUEST, AZR__HTTP1_RESPONSE };

struct azr__http1_callbacks {
  /* The head is complete. The callee may take ownership of *head by copying the struct and then
   * zeroing *head (azr__http_head_free on a zeroed head is a no-op); otherwise the head stays valid
   * until the next message starts. Returning non-zero stops the parser (feed returns what it
   * consumed so far, including the head). A message without body (or an upgrade) ends with its
   * head: its on_complete follows at once, even when on_head stopped the parser. */
  int (*on_head)(void *ud, struct azr__http_head *head);
  /* Decoded body bytes (chunk framing removed). Non-zero return stops the parser; the count feed
   * returns may then leave out the body's last byte: feed the rest again after resume (nothing is
   * delivered twice). */
  int (*on_body)(void *ud, const uint8_t *data, size_t len);
  /* The message (head + body) is complete. Non-zero return stops the parser. */
  int (*on_complete)(void *ud);
};

struct azr__http1 {
  void *impl; /* the http_parser and head under construction */
  const struct azr__mem *mem;
  struct azr__http1_callbacks cb;
  void *ud;
  size_t max_head; /* bytes of head (request/status line + headers + blank line); default
                    * AZR_MAX_HTTP_HEAD; http-parser refuses heads over 80 KiB whatever this says */
  size_t max_headers; /* default AZR_MAX_HTTP_HEADERS; trailers of chunked bodies are not kept */
  char error[128]; /* detail when feed fails */
};

int azr__http1_init(struct azr__http1 *p, enum azr__http1_type type, const struct azr__mem *mem,
                    const struct azr__http1_callbacks *cb, void *ud);
void azr__http1_free(struct azr__http1 *p);
/* Feeds bytes. Returns the number consumed (>= 0) or -1 on a parse error or a cap exceeded (see
 * p->error; over-long heads report "head too large", for a 431 answer, too many headers "too many
 * headers"); errors are final. After on_head of an upgrade (or a 101 response) parsing stops and the
 * remaining bytes belong to the new protocol: feed returns the count up to the end of the head, and 0
 * from then on. Stopping via a callback return is not an error: feed returns 0 until resume. Header
 * names keep their case, values lose surrounding white space, repeated headers stay separate
 * entries; every span is also NUL-terminated. Note: Debian's http-parser is built non-strict (it
 * skips some CR/LF and constant checks). */
long azr__http1_feed(struct azr__http1 *p, const uint8_t *data, size_t len);
/* Tells the parser the connection reached EOF (completes a response delimited by close). Returns 0,
 * or -1 if a message was cut short. */
int azr__http1_finish(struct azr__http1 *p);
/* After a callback stopped the parser, allow it to continue with the next feed. */
void azr__http1_resume(struct azr__http1 *p);
/* For responses to HEAD requests: the next response has no body. */
void azr__http1_expect_no_body(struct azr__http1 *p);

/* Standard reason phrase for a status code ("OK", "Not Found", ...), or "Unknown". */
const char *azr__http_reason(int status);

#endif
