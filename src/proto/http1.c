/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 parsing over http-parser 2.9. http-parser's callbacks only record what happened and pause
 * the parser at the end of a head and of a message; the feed loop then checks the caps and calls the
 * user's on_head / on_complete outside of http-parser, so a stop lands exactly on a message
 * boundary. */
#include "proto/http1.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/limits.h"

/* A header while the head is being read: offsets into the storage, which may still move. */
struct field {
  size_t name_off, name_len, value_off, value_len;
};

#define NO_VALUE SIZE_MAX

enum piece { PIECE_NONE, PIECE_TARGET, PIECE_REASON, PIECE_NAME, PIECE_VALUE };

struct http1_impl {
  http_parser parser;
  struct azr__http1 *owner; /* set on every entry, so the public struct may move between calls */
  struct azr__http_head head;
  struct field *fields;
  size_t field_count, field_cap;
  size_t target_off, target_len, reason_off, reason_len;
  enum piece piece;    /* what the storage's last bytes belong to */
  bool in_head;        /* between the start of a message and the end of its head */
  bool head_ready;     /* paused at the end of a head: on_head is due */
  bool message_done;   /* paused at the end of a message: on_complete is due */
  bool stopped;        /* a user callback asked to stop */
  bool upgraded;       /* the bytes after the last head belong to another protocol */
  bool failed;
  bool cb_failed;      /* one of our callbacks failed; owner->error says why */
  bool no_body_next;   /* the next final response answers a HEAD request */
};

static struct http1_impl *impl_of(http_parser *hp) { return hp->data; }

static void set_error(struct azr__http1 *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct azr__http1 *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->error, sizeof p->error, fmt, ap);
  va_end(ap);
}

/* Fails the current callback; http-parser then stops with an HPE_CB_* error. */
static int cb_fail(struct http1_impl *im, int status) {
  im->cb_failed = true;
  if (status == AZR_E_NOMEM) set_error(im->owner, "out of memory");
  else set_error(im->owner, "head too large");
  return -1;
}

/* Ends the current piece of head text with a NUL, so every span is also a C string. */
static int end_piece(struct http1_impl *im) {
  if (im->piece == PIECE_NONE) return AZR_OK;
  im->piece = PIECE_NONE;
  return azr__buf_append_byte(&im->head.storage, 0);
}

static int start_piece(struct http1_impl *im, enum piece kind, size_t *off) {
  if (im->piece == kind) return AZR_OK;
  int rc = end_piece(im);
  im->piece = kind;
  *off = im->head.storage.len;
  return rc;
}

static int on_message_begin(http_parser *hp) {
  struct http1_impl *im = impl_of(hp);
  const struct azr__mem *mem = im->owner->mem;
  azr__http_head_free(&im->head);
  memset(&im->head, 0, sizeof im->head);
  /* The stored text is shorter than the head it came from, so capping it at max_head never
   * refuses a head that the byte count below would accept. */
  azr__buf_init(&im->head.storage, mem, im->owner->max_head ? im->owner->max_head : AZR_MAX_HTTP_HEAD);
  im->field_count = 0;
  im->target_off = im->target_len = im->reason_off = im->reason_len = 0;
  im->piece = PIECE_NONE;
  im->in_head = true;
  return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len) {
  struct http1_impl *im = impl_of(hp);
  if (!im->in_head) return 0;
  int rc = start_piece(im, PIECE_TARGET, &im->target_off);
  if (!rc) rc = azr__buf_append(&im->head.storage, at, len);
  if (rc) return cb_fail(im, rc);
  im->target_len += len;
  return 0;
}

static int on_status(http_parser *hp, const char *at, size_t len) {
  struct http1_impl *im = impl_of(hp);
  if (!im->in_head) return 0;
  int rc = start_piece(im, PIECE_REASON, &im->reason_off);
  if (!rc) rc = azr__buf_append(&im->head.storage, at, len);
  if (rc) return cb_fail(im, rc);
  im->reason_len += len;
  return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len) {
  struct http1_impl *im = impl_of(hp);
  if (!im->in_head) return 0; /* a trailer: not part of the head */
  if (im->piece != PIECE_NAME) {
    size_t max = im->owner->max_headers ? im->owner->max_headers : AZR_MAX_HTTP_HEADERS;
    if (im->field_count >= max) {
      im->cb_failed = true;
      set_error(im->owner, "too many headers (more than %zu)", max);
      return -1;
    }
    if (im->field_count == im->field_cap) {
      size_t cap = im->field_cap ? im->field_cap * 2 : 16;
      if (cap > max) cap = max;
      struct field *f = azr__realloc(im->owner->mem, im->fields, cap * sizeof *f);
      if (!f) return cb_fail(im, AZR_E_NOMEM);
      im->fields = f;
      im->field_cap = cap;
    }
    struct field *f = &im->fields[im->field_count++];
    if (start_piece(im, PIECE_NAME, &f->name_off)) return cb_fail(im, AZR_E_TOO_BIG);
    f->name_len = 0;
    f->value_off = NO_VALUE;
    f->value_len = 0;
  }
  if (azr__buf_append(&im->head.storage, at, len)) return cb_fail(im, AZR_E_TOO_BIG);
  im->fields[im->field_count - 1].name_len += len;
  return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len) {
  struct http1_impl *im = impl_of(hp);
  if (!im->in_head || im->field_count == 0) return 0;
  struct field *f = &im->fields[im->field_count - 1];
  int rc = start_piece(im, PIECE_VALUE, &f->value_off);
  if (!rc) rc = azr__buf_append(&im->head.storage, at, len);
  if (rc) return cb_fail(im, rc);
  f->value_len += len;
  return 0;
}

static struct azr__span stored(struct http1_impl *im, size_t off, size_t len) {
  struct azr__span s = {(const char *)im->head.storage.data + off, len};
  return s;
}

/* Turns the offsets into the head's spans once the storage stops moving. */
static int build_head(struct http1_impl *im) {
  http_parser *hp = &im->parser;
  struct azr__http_head *h = &im->head;
  size_t method_off = 0, method_len = 0;
  int rc = end_piece(im);
  if (!rc && hp->type == HTTP_REQUEST) {
    const char *m = http_method_str((enum http_method)hp->method);
    method_off = h->storage.len;
    method_len = strlen(m);
    rc = azr__buf_append(&h->storage, m, method_len + 1);
  }
  if (!rc && h->storage.data == NULL) rc = azr__buf_reserve(&h->storage, 1);
  if (rc) return rc;
  if (im->field_count) {
    h->headers = azr__calloc(h->storage.mem, im->field_count, sizeof *h->headers);
    if (!h->headers) return AZR_E_NOMEM;
  }
  for (size_t i = 0; i < im->field_count; i++) {
    struct field *f = &im->fields[i];
    h->headers[i].name = stored(im, f->name_off, f->name_len);
    if (f->value_off == NO_VALUE) {
      h->headers[i].value = stored(im, f->name_off + f->name_len, 0); /* the name's NUL */
      continue;
    }
    struct azr__span v = azr__span_trim(stored(im, f->value_off, f->value_len));
    size_t start = v.len ? (size_t)(v.ptr - (const char *)h->storage.data) : f->value_off;
    h->storage.data[start + v.len] = 0; /* the value stays a C string without its trailing space */
    h->headers[i].value = stored(im, start, v.len);
  }
  h->header_count = im->field_count;
  h->is_request = hp->type == HTTP_REQUEST;
  h->http_major = hp->http_major;
  h->http_minor = hp->http_minor;
  /* Absent parts are empty C strings: the buffer's NUL after its content. */
  size_t none = h->storage.len;
  h->method = stored(im, method_len ? method_off : none, method_len);
  h->target = stored(im, im->target_len ? im->target_off : none, im->target_len);
  h->status_code = h->is_request ? 0 : (int)hp->status_code;
  h->reason = stored(im, im->reason_len ? im->reason_off : none, im->reason_len);
  h->chunked = (hp->flags & F_CHUNKED) != 0;
  h->has_content_length = (hp->flags & F_CONTENTLENGTH) != 0;
  h->content_length = h->has_content_length ? hp->content_length : 0;
  return AZR_OK;
}

static int on_headers_complete(http_parser *hp) {
  struct http1_impl *im = impl_of(hp);
  int rc = build_head(im);
  if (rc) return cb_fail(im, rc); /* any return other than 0-2 is an error to http-parser */
  struct azr__http_head *h = &im->head;
  h->upgrade = hp->upgrade || (!h->is_request && h->status_code == 101);
  bool skip_body = false;
  if (!h->is_request && h->status_code >= 200 && im->no_body_next) {
    im->no_body_next = false;
    skip_body = true;
  }
  /* Set now so http_should_keep_alive sees it; http-parser sets it too from our return value. */
  if (skip_body || h->upgrade) hp->flags |= F_SKIPBODY;
  h->keep_alive = http_should_keep_alive(hp) != 0;
  im->in_head = false;
  im->head_ready = true;
  http_parser_pause(hp, 1);
  /* 2: no body, and the rest is another protocol; 1: no body (HEAD response). */
  return h->upgrade ? 2 : skip_body ? 1 : 0;
}

static int on_body(http_parser *hp, const char *at, size_t len) {
  struct http1_impl *im = impl_of(hp);
  struct azr__http1 *p = im->owner;
  if (p->cb.on_body && p->cb.on_body(p->ud, (const uint8_t *)at, len) != 0) {
    im->stopped = true;
    http_parser_pause(hp, 1);
  }
  return 0;
}

static int on_message_complete(http_parser *hp) {
  struct http1_impl *im = impl_of(hp);
  im->message_done = true;
  http_parser_pause(hp, 1);
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int azr__http1_init(struct azr__http1 *p, enum azr__http1_type type, const struct azr__mem *mem,
                    const struct azr__http1_callbacks *cb, void *ud) {
  if (!p) return AZR_E_INVALID_ARG;
  memset(p, 0, sizeof *p);
  p->mem = mem ? mem : azr__mem_default();
  if (cb) p->cb = *cb;
  p->ud = ud;
  p->max_head = AZR_MAX_HTTP_HEAD;
  p->max_headers = AZR_MAX_HTTP_HEADERS;
  struct http1_impl *im = azr__calloc(p->mem, 1, sizeof *im);
  if (!im) return AZR_E_NOMEM;
  http_parser_init(&im->parser, type == AZR__HTTP1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
  im->parser.data = im;
  im->owner = p;
  p->impl = im;
  return AZR_OK;
}

void azr__http1_free(struct azr__http1 *p) {
  if (!p || !p->impl) return;
  struct http1_impl *im = p->impl;
  azr__http_head_free(&im->head);
  azr__free(p->mem, im->fields);
  azr__free(p->mem, im);
  p->impl = NULL;
}

void azr__http1_resume(struct azr__http1 *p) {
  if (p && p->impl) ((struct http1_impl *)p->impl)->stopped = false;
}

void azr__http1_expect_no_body(struct azr__http1 *p) {
  if (p && p->impl) ((struct http1_impl *)p->impl)->no_body_next = true;
}

static long parse_failed(struct http1_impl *im) {
  enum http_errno e = HTTP_PARSER_ERRNO(&im->parser);
  im->failed = true;
  if (im->cb_failed) return -1;
  if (e == HPE_HEADER_OVERFLOW) set_error(im->owner, "head too large");
  else set_error(im->owner, "%s", http_errno_description(e));
  return -1;
}

static long too_large(struct http1_impl *im) {
  im->failed = true;
  set_error(im->owner, "head too large");
  return -1;
}

/* The message ended: the next head is counted from zero (http-parser does not reset its counter
 * after chunked trailers), then the user hears about it. */
static void complete_message(struct http1_impl *im) {
  struct azr__http1 *p = im->owner;
  im->message_done = false;
  im->parser.nread = 0;
  if (im->parser.upgrade) im->upgraded = true;
  if (p->cb.on_complete && p->cb.on_complete(p->ud) != 0) im->stopped = true;
}

/* Runs http-parser over data; *used gets what it consumed. Returns 0, or -1 on failure. After a
 * pause, the parser is running again and the flags say why it paused. */
static int execute(struct http1_impl *im, const uint8_t *data, size_t len, size_t *used) {
  *used = http_parser_execute(&im->parser, &settings, (const char *)data, len);
  enum http_errno e = HTTP_PARSER_ERRNO(&im->parser);
  if (e == HPE_PAUSED) http_parser_pause(&im->parser, 0);
  else if (e != HPE_OK) return -1;
  return 0;
}

static size_t head_limit(const struct azr__http1 *p) { return p->max_head ? p->max_head : AZR_MAX_HTTP_HEAD; }

long azr__http1_feed(struct azr__http1 *p, const uint8_t *data, size_t len) {
  struct http1_impl *im = p->impl;
  if (!im) return -1;
  im->owner = p;
  if (im->failed) return -1;
  size_t off = 0;
  while (off < len && !im->stopped && !im->upgraded) {
    size_t n;
    if (execute(im, data + off, len - off, &n)) return parse_failed(im);
    if (im->head_ready) {
      /* Paused on the LF that ends the head (http-parser has not consumed it yet). */
      im->head_ready = false;
      if (im->parser.nread > head_limit(p)) return too_large(im);
      off += n;
      bool stop = p->cb.on_head && p->cb.on_head(p->ud, &im->head) != 0;
      /* The LF decides what follows: a body, the end of the message, or another protocol. */
      size_t m;
      if (execute(im, data + off, 1, &m)) return parse_failed(im);
      off += 1;
      if (im->message_done) complete_message(im);
      if (stop) im->stopped = true;
      continue;
    }
    off += n;
    if (im->message_done) {
      complete_message(im);
      continue;
    }
    if (im->parser.upgrade) im->upgraded = true; /* http-parser stopped by itself for an upgrade */
    if (im->in_head && im->parser.nread > head_limit(p)) return too_large(im);
    /* Otherwise all input was consumed, or on_body asked to stop. */
  }
  return (long)off;
}

int azr__http1_finish(struct azr__http1 *p) {
  struct http1_impl *im = p->impl;
  if (!im) return -1;
  im->owner = p;
  if (im->failed) return -1;
  if (im->upgraded) return 0;
  size_t n;
  if (execute(im, NULL, 0, &n)) {
    im->failed = true;
    set_error(p, "the connection closed in the middle of a message");
    return -1;
  }
  if (im->message_done) complete_message(im);
  return 0;
}

/* ---- heads ---- */

void azr__http_head_free(struct azr__http_head *h) {
  if (!h) return;
  if (h->headers) azr__free(h->storage.mem, h->headers);
  h->headers = NULL;
  h->header_count = 0;
  azr__buf_free(&h->storage);
}

const struct azr__http_header *azr__http_head_find(const struct azr__http_head *h, const char *name) {
  for (size_t i = 0; i < h->header_count; i++)
    if (azr__span_ieq(h->headers[i].name, name)) return &h->headers[i];
  return NULL;
}

int azr__http_head_join(const struct azr__http_head *h, const char *name, struct azr__buf *out) {
  bool first = true;
  for (size_t i = 0; i < h->header_count; i++) {
    if (!azr__span_ieq(h->headers[i].name, name)) continue;
    int rc = first ? AZR_OK : azr__buf_append(out, ", ", 2);
    if (!rc) rc = azr__buf_append(out, h->headers[i].value.ptr, h->headers[i].value.len);
    if (rc) return rc;
    first = false;
  }
  return AZR_OK;
}

bool azr__http_head_has_token(const struct azr__http_head *h, const char *name, const char *token) {
  for (size_t i = 0; i < h->header_count; i++) {
    if (!azr__span_ieq(h->headers[i].name, name)) continue;
    struct azr__span rest = h->headers[i].value;
    while (rest.len) {
      struct azr__span one = azr__span_trim(azr__span_cut(rest, ',', &rest));
      if (azr__span_ieq(one, token)) return true;
    }
  }
  return false;
}

/* ---- reason phrases (IANA HTTP status code registry) ---- */

const char *azr__http_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 102: return "Processing";
  case 103: return "Early Hints";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 205: return "Reset Content";
  case 206: return "Partial Content";
  case 207: return "Multi-Status";
  case 208: return "Already Reported";
  case 226: return "IM Used";
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 305: return "Use Proxy";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 402: return "Payment Required";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 407: return "Proxy Authentication Required";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 421: return "Misdirected Request";
  case 422: return "Unprocessable Content";
  case 423: return "Locked";
  case 424: return "Failed Dependency";
  case 425: return "Too Early";
  case 426: return "Upgrade Required";
  case 428: return "Precondition Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 451: return "Unavailable For Legal Reasons";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  case 506: return "Variant Also Negotiates";
  case 507: return "Insufficient Storage";
  case 508: return "Loop Detected";
  case 510: return "Not Extended";
  case 511: return "Network Authentication Required";
  default: return "Unknown";
  }
}
