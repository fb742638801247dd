/* SPDX-License-Identifier: MIT */
/* azbridge's per-stream preamble and reply: encoder, incremental decoders, the listener's decisions
 * (docs/internals/azbridge.md). */
#include "proto/azbridge.h"

#include <limits.h>
#include <string.h>

#include "azrelay/common.h"

/* The characters azbridge accepts in a port name (its RelayNameRegex). */
static bool name_char_ok(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '/' || c == '_' ||
         c == '-' || c == '.';
}

/* One name byte through the UTF-8 validator and the character set. Non-ASCII characters are judged
 * when complete, so a broken sequence reads as a UTF-8 error, a whole one as an unwanted character. */
static int name_byte(struct azr__utf8 *v, uint8_t c, const char **why) {
  if (!azr__utf8_feed(v, &c, 1)) {
    *why = "azbridge port name is not UTF-8";
    return AZR_E_UTF8;
  }
  if (c < 0x80 ? !name_char_ok(c) : azr__utf8_complete(v)) {
    *why = "azbridge port name has a character outside [0-9A-Za-z/_.-]";
    return AZR_E_PARSE;
  }
  return AZR_OK;
}

/* After the last name byte: a sequence cut short is a UTF-8 error. */
static int name_end(const struct azr__utf8 *v, const char **why) {
  if (!azr__utf8_complete(v)) {
    *why = "azbridge port name ends inside a UTF-8 sequence";
    return AZR_E_UTF8;
  }
  return AZR_OK;
}

int azr__azbridge_port_name_check(const char *name, size_t len, const char **out_why) {
  const char *why = NULL;
  int rc = AZR_OK;
  if (!name && len) {
    why = "azbridge port name is NULL";
    rc = AZR_E_INVALID_ARG;
  } else if (len == 0) {
    why = "azbridge port name is empty";
    rc = AZR_E_PARSE;
  } else {
    struct azr__utf8 v = AZR__UTF8_INIT;
    for (size_t i = 0; i < len && rc == AZR_OK; i++) rc = name_byte(&v, (uint8_t)name[i], &why);
    if (rc == AZR_OK) rc = name_end(&v, &why);
    /* Length last, so an over-long name with a bad byte reports the bad byte as the decoder would. */
    if (rc == AZR_OK && len > AZR__AZBRIDGE_MAX_PORT_NAME) {
      why = "azbridge port name is longer than 255 bytes";
      rc = AZR_E_TOO_BIG;
    }
  }
  if (out_why) *out_why = why;
  return rc;
}

int azr__azbridge_preamble_encode(const char *port_name, enum azr__azbridge_mode mode, uint8_t *out,
                                  size_t out_cap, size_t *out_len) {
  if (!port_name || !out || !out_len) return AZR_E_INVALID_ARG;
  if (mode != AZR__AZBRIDGE_MODE_STREAM && mode != AZR__AZBRIDGE_MODE_DATAGRAM) return AZR_E_INVALID_ARG;
  size_t n = strlen(port_name);
  int rc = azr__azbridge_port_name_check(port_name, n, NULL);
  if (rc != AZR_OK) return rc;
  if (out_cap < AZR__AZBRIDGE_HEADER_LEN + n) return AZR_E_TOO_BIG;
  out[0] = AZR__AZBRIDGE_VERSION_MAJOR;
  out[1] = AZR__AZBRIDGE_VERSION_MINOR;
  out[2] = (uint8_t)mode;
  out[3] = (uint8_t)n; /* n <= 255, checked above */
  memcpy(out + AZR__AZBRIDGE_HEADER_LEN, port_name, n);
  *out_len = AZR__AZBRIDGE_HEADER_LEN + n;
  return AZR_OK;
}

void azr__azbridge_preamble_init(struct azr__azbridge_preamble *p) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->utf8 = (struct azr__utf8)AZR__UTF8_INIT;
  p->reject_reply = AZR__AZBRIDGE_REPLY_NONE;
}

static int preamble_fail(struct azr__azbridge_preamble *p, int rc, enum azr__azbridge_reply reply,
                         const char *why) {
  p->status = rc;
  p->reject_reply = reply;
  p->why = why;
  return rc;
}

/* Checks header byte i as soon as it arrives, so a stranger is turned away early. */
static int header_byte(struct azr__azbridge_preamble *p, size_t i, uint8_t c) {
  p->header[i] = c;
  switch (i) {
  case 0:
  case 1:
    if (c != (i == 0 ? AZR__AZBRIDGE_VERSION_MAJOR : AZR__AZBRIDGE_VERSION_MINOR))
      return preamble_fail(p, AZR_E_PROTOCOL, AZR__AZBRIDGE_REPLY_BAD_VERSION,
                           "azbridge preamble version is not 1.0");
    return AZR_OK;
  case 2:
    if (c != AZR__AZBRIDGE_MODE_STREAM && c != AZR__AZBRIDGE_MODE_DATAGRAM)
      return preamble_fail(p, AZR_E_PROTOCOL, AZR__AZBRIDGE_REPLY_BAD_VERSION,
                           "azbridge preamble mode is neither stream (0) nor datagram (1)");
    p->mode = c;
    return AZR_OK;
  default:
    if (c == 0) return preamble_fail(p, AZR_E_PARSE, AZR__AZBRIDGE_REPLY_NONE, "azbridge port name is empty");
    return AZR_OK;
  }
}

int azr__azbridge_preamble_feed(struct azr__azbridge_preamble *p, const uint8_t *data, size_t len,
                                size_t *out_consumed, bool *out_done) {
  if (!p || !out_consumed || !out_done || (!data && len)) return AZR_E_INVALID_ARG;
  *out_consumed = 0;
  *out_done = p->is_done;
  if (p->status != AZR_OK) return p->status;
  if (p->is_done) return AZR_E_BAD_STATE;
  size_t i = 0;
  int rc = AZR_OK;
  while (i < len && rc == AZR_OK && !p->is_done) {
    uint8_t c = data[i++];
    if (p->got < AZR__AZBRIDGE_HEADER_LEN) {
      rc = header_byte(p, p->got++, c); /* a zero length byte fails here, so N >= 1 below */
      continue;
    }
    const char *why = NULL;
    rc = name_byte(&p->utf8, c, &why);
    if (rc == AZR_OK) {
      p->port_name[p->port_name_len++] = (char)c;
      if (++p->got == AZR__AZBRIDGE_HEADER_LEN + (size_t)p->header[3]) {
        rc = name_end(&p->utf8, &why);
        p->port_name[p->port_name_len] = '\0';
        p->is_done = rc == AZR_OK;
      }
    }
    if (rc != AZR_OK) preamble_fail(p, rc, AZR__AZBRIDGE_REPLY_NONE, why);
  }
  *out_consumed = i;
  *out_done = p->is_done;
  return rc;
}

/* .NET int.TryParse as far as a valid port name can reach it: optional sign, decimal digits,
 * a value within int32. */
static bool is_int32(const char *s) {
  bool neg = false;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  if (!*s) return false;
  long long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (*s - '0');
    if (v > (long long)INT_MAX + 1) return false;
  }
  return neg || v <= INT_MAX;
}

int azr__azbridge_port_lookup(const char *const *names, size_t count, const char *port_name,
                              size_t *out_index) {
  if ((!names && count) || !port_name || !out_index) return AZR_E_INVALID_ARG;
  for (size_t i = 0; i < count; i++) {
    if (names[i] && strcmp(names[i], port_name) == 0) {
      *out_index = i;
      return AZR_OK;
    }
  }
  if (count == 1 && names[0] && is_int32(port_name)) {
    *out_index = 0;
    return AZR_OK;
  }
  return AZR_E_NOT_FOUND;
}

enum azr__azbridge_reply azr__azbridge_reply_for(uint8_t requested_mode, bool port_is_datagram) {
  if (requested_mode != AZR__AZBRIDGE_MODE_STREAM && requested_mode != AZR__AZBRIDGE_MODE_DATAGRAM)
    return AZR__AZBRIDGE_REPLY_BAD_VERSION;
  if (port_is_datagram)
    return requested_mode == AZR__AZBRIDGE_MODE_DATAGRAM ? AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM
                                                         : AZR__AZBRIDGE_REPLY_NEED_DATAGRAM;
  return requested_mode == AZR__AZBRIDGE_MODE_STREAM ? AZR__AZBRIDGE_REPLY_ACCEPT_STREAM
                                                     : AZR__AZBRIDGE_REPLY_NEED_STREAM;
}

static const struct {
  enum azr__azbridge_reply reply;
  uint8_t bytes[AZR__AZBRIDGE_REPLY_LEN];
} replies[] = {
    {AZR__AZBRIDGE_REPLY_ACCEPT_STREAM, {1, 0, 0}}, {AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM, {1, 0, 1}},
    {AZR__AZBRIDGE_REPLY_BAD_VERSION, {0, 0, 0}},   {AZR__AZBRIDGE_REPLY_NEED_DATAGRAM, {0, 0, 1}},
    {AZR__AZBRIDGE_REPLY_NEED_STREAM, {0, 0, 255}},
};

int azr__azbridge_reply_encode(enum azr__azbridge_reply reply, uint8_t out[AZR__AZBRIDGE_REPLY_LEN]) {
  if (!out) return AZR_E_INVALID_ARG;
  for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
    if (replies[i].reply == reply) {
      memcpy(out, replies[i].bytes, AZR__AZBRIDGE_REPLY_LEN);
      return AZR_OK;
    }
  }
  return AZR_E_INVALID_ARG;
}

enum azr__azbridge_reply azr__azbridge_reply_parse(const uint8_t bytes[AZR__AZBRIDGE_REPLY_LEN]) {
  for (size_t i = 0; bytes && i < sizeof replies / sizeof replies[0]; i++)
    if (memcmp(bytes, replies[i].bytes, AZR__AZBRIDGE_REPLY_LEN) == 0) return replies[i].reply;
  return AZR__AZBRIDGE_REPLY_OTHER;
}

void azr__azbridge_reply_init(struct azr__azbridge_reply_reader *r, enum azr__azbridge_mode mode) {
  if (!r) return;
  memset(r, 0, sizeof *r);
  r->mode = (uint8_t)mode;
  r->reply = AZR__AZBRIDGE_REPLY_NONE;
}

static const char *refusal_why(enum azr__azbridge_reply reply) {
  switch (reply) {
  case AZR__AZBRIDGE_REPLY_BAD_VERSION:
    return "azbridge listener does not support preamble version 1.0";
  case AZR__AZBRIDGE_REPLY_NEED_DATAGRAM:
    return "azbridge listener's port is UDP (datagram) but a stream was requested";
  case AZR__AZBRIDGE_REPLY_NEED_STREAM:
    return "azbridge listener's port is TCP (stream) but datagrams were requested";
  case AZR__AZBRIDGE_REPLY_ACCEPT_STREAM:
  case AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM:
    return "azbridge listener accepted a different mode than requested";
  default:
    return "azbridge listener sent an unknown reply";
  }
}

int azr__azbridge_reply_feed(struct azr__azbridge_reply_reader *r, const uint8_t *data, size_t len,
                             size_t *out_consumed, bool *out_done) {
  if (!r || !out_consumed || !out_done || (!data && len)) return AZR_E_INVALID_ARG;
  *out_consumed = 0;
  *out_done = r->is_done;
  if (r->is_done) return AZR_E_BAD_STATE;
  size_t take = AZR__AZBRIDGE_REPLY_LEN - r->got;
  if (take > len) take = len;
  if (take) memcpy(r->bytes + r->got, data, take);
  r->got += take;
  *out_consumed = take;
  if (r->got < AZR__AZBRIDGE_REPLY_LEN) return AZR_OK;
  r->is_done = true;
  *out_done = true;
  r->reply = azr__azbridge_reply_parse(r->bytes);
  enum azr__azbridge_reply want = r->mode == AZR__AZBRIDGE_MODE_DATAGRAM ? AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM
                                                                         : AZR__AZBRIDGE_REPLY_ACCEPT_STREAM;
  if (r->reply == want) return AZR_OK;
  r->why = refusal_why(r->reply);
  return AZR_E_PROTOCOL;
}
