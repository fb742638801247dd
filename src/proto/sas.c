/* SPDX-License-Identifier: MIT */
/* SAS token signing, parsing and verification (§3.1-§3.6). */
#include "proto/sas.h"

#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "util/encoding.h"
#include "util/limits.h"

#define SAS_PREFIX "SharedAccessSignature"

static void restore(struct azr__buf *b, size_t len) {
  b->len = len;
  if (b->data) b->data[len] = 0;
}

static struct azr__span strip_slashes(struct azr__span s) {
  while (s.len && s.ptr[0] == '/') {
    s.ptr++;
    s.len--;
  }
  while (s.len && s.ptr[s.len - 1] == '/') s.len--;
  return s;
}

/* The host part of "host", "host:port", "[v6]" or "[v6]:port"; an unbracketed text with several
 * colons is taken as a bare IPv6 address. */
static struct azr__span host_without_port(struct azr__span h) {
  if (h.len && h.ptr[0] == '[') {
    const char *close = memchr(h.ptr, ']', h.len);
    if (close) h.len = (size_t)(close - h.ptr) + 1;
    return h;
  }
  const char *colon = h.len ? memchr(h.ptr, ':', h.len) : NULL;
  if (colon && !memchr(colon + 1, ':', h.len - (size_t)(colon - h.ptr) - 1)) h.len = (size_t)(colon - h.ptr);
  return h;
}

int azr__sas_audience(struct azr__buf *out, const char *host, const char *entity_path) {
  if (!out || !host) return AZR_E_INVALID_ARG;
  struct azr__span h = host_without_port(azr__span_of(host));
  if (h.len == 0) return AZR_E_INVALID_ARG;
  struct azr__span e = strip_slashes(azr__span_of(entity_path));
  size_t len0 = out->len;
  int rc = azr__buf_append_str(out, "http://");
  for (size_t i = 0; !rc && i < h.len; i++) {
    char c = h.ptr[i];
    rc = azr__buf_append_byte(out, (uint8_t)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  if (!rc) rc = azr__buf_append_byte(out, '/');
  if (!rc && e.len) rc = azr__buf_append(out, e.ptr, e.len);
  if (!rc && e.len) rc = azr__buf_append_byte(out, '/');
  if (rc) restore(out, len0);
  return rc;
}

int azr__sas_sign(struct azr__buf *out, const char *audience, const char *key_name, const char *key,
                  int64_t expiry_s, azr__hmac_sha256_fn hmac) {
  if (!out || !audience || !*audience || !key_name || !*key_name || !key || !*key || !hmac || expiry_s < 0)
    return AZR_E_INVALID_ARG;
  size_t key_len = strlen(key);
  if (strlen(key_name) > AZR_MAX_SAS_KEY || key_len > AZR_MAX_SAS_KEY) return AZR_E_INVALID_ARG;

  /* §3.2: the encoded audience, as it will appear in the token, is what gets signed. */
  struct azr__buf sr, to_sign, sig;
  azr__buf_init(&sr, out->mem, AZR_MAX_TOKEN);
  azr__buf_init(&to_sign, out->mem, AZR_MAX_TOKEN);
  azr__buf_init(&sig, out->mem, 64);
  uint8_t mac[32];
  size_t len0 = out->len;
  int rc = azr__url_encode(&sr, audience, strlen(audience));
  if (!rc) rc = azr__buf_append(&to_sign, sr.data, sr.len);
  if (!rc) rc = azr__buf_printf(&to_sign, "\n%lld", (long long)expiry_s);
  if (!rc && hmac((const uint8_t *)key, key_len, to_sign.data, to_sign.len, mac) != 0) rc = AZR_E_INVALID_ARG;
  if (!rc) rc = azr__base64_encode(&sig, mac, sizeof mac);
  if (!rc) rc = azr__buf_append_str(out, SAS_PREFIX " sr=");
  if (!rc) rc = azr__buf_append(out, sr.data, sr.len);
  if (!rc) rc = azr__buf_append_str(out, "&sig=");
  if (!rc) rc = azr__url_encode(out, (const char *)sig.data, sig.len);
  if (!rc) rc = azr__buf_printf(out, "&se=%lld&skn=", (long long)expiry_s);
  if (!rc) rc = azr__url_encode(out, key_name, strlen(key_name));
  if (rc) restore(out, len0);
  memset(mac, 0, sizeof mac);
  azr__buf_free(&sr);
  azr__buf_free(&to_sign);
  azr__buf_free(&sig);
  return rc;
}

int azr__sas_parse(struct azr__span token, struct azr__sas_fields *out) {
  if (!out || !token.ptr) return AZR_E_BAD_TOKEN;
  memset(out, 0, sizeof *out);
  token = azr__span_trim(token);
  if (token.len > AZR_MAX_TOKEN || !azr__span_istarts(token, SAS_PREFIX)) return AZR_E_BAD_TOKEN;
  struct azr__span rest = {token.ptr + strlen(SAS_PREFIX), token.len - strlen(SAS_PREFIX)};
  if (!rest.len || (rest.ptr[0] != ' ' && rest.ptr[0] != '\t')) return AZR_E_BAD_TOKEN;
  rest = azr__span_trim(rest);

  struct azr__span *slots[4] = {&out->sr, &out->sig, &out->se, &out->skn};
  static const char *const names[4] = {"sr", "sig", "se", "skn"};
  while (rest.len) {
    struct azr__span field = azr__span_cut(rest, '&', &rest);
    if (field.len == 0) continue;
    struct azr__span value;
    if (!memchr(field.ptr, '=', field.len)) return AZR_E_BAD_TOKEN;
    struct azr__span name = azr__span_cut(field, '=', &value);
    for (size_t i = 0; i < 4; i++) {
      if (!azr__span_ieq(name, names[i])) continue;
      if (slots[i]->ptr || value.len == 0) return AZR_E_BAD_TOKEN; /* duplicate or empty */
      *slots[i] = value;
    }
  }
  for (size_t i = 0; i < 4; i++)
    if (!slots[i]->ptr) return AZR_E_BAD_TOKEN;
  uint64_t se;
  if (!azr__span_to_u64(out->se, &se) || se > (uint64_t)INT64_MAX) return AZR_E_BAD_TOKEN;
  out->expiry_s = (int64_t)se;
  return AZR_OK;
}

enum decode_result { DECODED, BAD_ESCAPE, TOO_LONG };

/* Percent-decodes into a caller-sized buffer (no allocation on the verification path). */
static enum decode_result pct_decode(struct azr__span s, bool plus_is_space, char *out, size_t cap, size_t *out_len) {
  size_t n = 0;
  bool too_long = false;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (c == '%') {
      if (i + 2 >= s.len) return BAD_ESCAPE;
      int hi = azr__hex_digit(s.ptr[i + 1]), lo = azr__hex_digit(s.ptr[i + 2]);
      if (hi < 0 || lo < 0) return BAD_ESCAPE;
      c = (char)(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (n == cap) too_long = true; /* keep scanning: a bad escape later still makes the token malformed */
    else out[n++] = c;
  }
  *out_len = n;
  return too_long ? TOO_LONG : DECODED;
}

/* Decodes base64 (padding optional, canonical spelling) of exactly 32 bytes. */
static bool b64_decode_32(const char *s, size_t len, uint8_t out[32]) {
  /* A fixed buffer: its cap (max) stops longer input before any reallocation is attempted. */
  uint8_t room[40];
  struct azr__buf b = {room, 0, sizeof room, sizeof room - 1, NULL};
  if (azr__base64_decode(&b, s, len) != AZR_OK || b.len != 32) return false;
  memcpy(out, room, 32);
  return true;
}

static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n) {
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < n; i++) diff = (uint8_t)(diff | (a[i] ^ b[i]));
  return diff == 0;
}

static bool entity_equal(const char *a, const char *b) {
  struct azr__span x = strip_slashes(azr__span_of(a)), y = strip_slashes(azr__span_of(b));
  return x.len == y.len && (x.len == 0 || strncasecmp(x.ptr, y.ptr, x.len) == 0);
}

static bool key_verifies(const struct azr__sas_check *c, const char *key, const uint8_t *msg, size_t msg_len,
                         const uint8_t want[32]) {
  uint8_t mac[32];
  if (!key || !*key) return false;
  if (c->hmac((const uint8_t *)key, strlen(key), msg, msg_len, mac) != 0) return false;
  bool ok = ct_equal(mac, want, 32);
  memset(mac, 0, sizeof mac);
  return ok;
}

bool azr__sas_audience_matches(struct azr__span aud, const char *const *hosts, size_t host_count,
                               const char *entity_path) {
  /* §3.3: any scheme, "scheme://" required (a bare host name is a wrong audience). */
  size_t i = 0;
  while (i < aud.len && aud.ptr[i] != ':') i++;
  if (i == 0 || i + 3 > aud.len || memcmp(aud.ptr + i, "://", 3) != 0) return false;
  for (size_t k = 0; k < i; k++) {
    char ch = aud.ptr[k];
    bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    bool other = (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.';
    if (!alpha && (k == 0 || !other)) return false;
  }
  struct azr__span rest = {aud.ptr + i + 3, aud.len - i - 3};
  size_t auth_len = 0;
  while (auth_len < rest.len && rest.ptr[auth_len] != '/' && rest.ptr[auth_len] != '?' &&
         rest.ptr[auth_len] != '#')
    auth_len++;
  struct azr__span authority = {rest.ptr, auth_len};
  for (size_t k = authority.len; k > 0; k--) { /* drop any userinfo */
    if (authority.ptr[k - 1] == '@') {
      authority.ptr += k;
      authority.len -= k;
      break;
    }
  }
  struct azr__span host = host_without_port(authority);
  if (host.len == 0) return false;
  bool host_ok = false;
  for (size_t k = 0; hosts && k < host_count && !host_ok; k++) {
    if (!hosts[k]) continue;
    struct azr__span want = host_without_port(azr__span_of(hosts[k]));
    host_ok = want.len == host.len && strncasecmp(want.ptr, host.ptr, host.len) == 0;
  }
  if (!host_ok) return false;

  struct azr__span path = {rest.ptr + auth_len, 0};
  while (auth_len + path.len < rest.len && path.ptr[path.len] != '?' && path.ptr[path.len] != '#') path.len++;
  path = strip_slashes(path);
  struct azr__span entity = strip_slashes(azr__span_of(entity_path));
  if (path.len == 0) return true; /* namespace-wide token */
  if (path.len > entity.len || strncasecmp(path.ptr, entity.ptr, path.len) != 0) return false;
  return path.len == entity.len || entity.ptr[path.len] == '/';
}

enum azr__sas_verdict azr__sas_authorize(const struct azr__sas_check *c, struct azr__span token,
                                         int64_t *out_expiry_s, const struct azr__sas_rule **out_rule) {
  if (out_rule) *out_rule = NULL;
  if (!c || !token.ptr || azr__span_trim(token).len == 0) return AZR__SAS_MISSING;
  struct azr__sas_fields f;
  if (azr__sas_parse(token, &f) != AZR_OK) return AZR__SAS_MALFORMED;
  if (out_expiry_s) *out_expiry_s = f.expiry_s;

  char skn[AZR_MAX_SAS_KEY + 1], sig_text[128], sr[AZR_MAX_TOKEN];
  size_t skn_len, sig_len, sr_len;
  enum decode_result skn_rc = pct_decode(f.skn, false, skn, AZR_MAX_SAS_KEY, &skn_len);
  /* §3.6 step 4: '+' in sig is base64, never a space. */
  enum decode_result sig_rc = pct_decode(f.sig, false, sig_text, sizeof sig_text, &sig_len);
  enum decode_result sr_rc = pct_decode(f.sr, true, sr, sizeof sr, &sr_len);
  if (skn_rc == BAD_ESCAPE || sig_rc == BAD_ESCAPE || sr_rc != DECODED) return AZR__SAS_MALFORMED;
  bool skn_fits = skn_rc == DECODED, sig_fits = sig_rc == DECODED; /* too long: matches no rule / no MAC */

  /* The string to sign uses sr and se exactly as they appear in the token (§3.2). */
  uint8_t msg[AZR_MAX_TOKEN + 1];
  size_t msg_len = f.sr.len + 1 + f.se.len; /* both inside a token of <= AZR_MAX_TOKEN bytes */
  memcpy(msg, f.sr.ptr, f.sr.len);
  msg[f.sr.len] = '\n';
  memcpy(msg + f.sr.len + 1, f.se.ptr, f.se.len);
  uint8_t want[32];
  bool sig_ok = sig_fits && b64_decode_32(sig_text, sig_len, want);

  const struct azr__sas_rule *rule = NULL;
  bool named = false;
  for (size_t i = 0; skn_fits && c->rules && i < c->rule_count && !rule; i++) {
    const struct azr__sas_rule *r = &c->rules[i];
    if (!r->name || strlen(r->name) != skn_len || strncasecmp(r->name, skn, skn_len) != 0) continue;
    if (r->entity && !entity_equal(r->entity, c->entity_path)) continue;
    named = true;
    if (!sig_ok || !c->hmac) continue;
    if (key_verifies(c, r->primary_key, msg, msg_len, want) || key_verifies(c, r->secondary_key, msg, msg_len, want))
      rule = r;
  }
  if (!named) return AZR__SAS_UNKNOWN_RULE;
  if (!rule) return AZR__SAS_BAD_SIGNATURE;
  if (out_rule) *out_rule = rule;

  int64_t skew = c->clock_skew_s > 0 ? c->clock_skew_s : 0;
  int64_t limit = c->now_s < INT64_MIN + skew ? INT64_MIN : c->now_s - skew;
  if (f.expiry_s <= limit) return AZR__SAS_EXPIRED;

  struct azr__span audience = {sr, sr_len};
  if (!azr__sas_audience_matches(audience, c->namespace_hosts, c->host_count, c->entity_path))
    return AZR__SAS_WRONG_AUDIENCE;

  unsigned rights = rule->rights;
  if (rights & AZR__RIGHT_MANAGE) rights |= AZR__RIGHT_LISTEN | AZR__RIGHT_SEND;
  if ((rights & c->needed_right) != c->needed_right) return AZR__SAS_MISSING_RIGHT;
  return AZR__SAS_OK;
}

const char *azr__sas_verdict_text(enum azr__sas_verdict v, unsigned needed_right) {
  switch (v) {
  case AZR__SAS_OK:
    return "The token is valid.";
  case AZR__SAS_MISSING:
    return "MissingToken: The request carries no authorization token.";
  case AZR__SAS_MALFORMED:
    return "MalformedToken: The credentials are not a well-formed SharedAccessSignature token.";
  case AZR__SAS_UNKNOWN_RULE:
    return "InvalidSignature: The token refers to an unknown shared access key name.";
  case AZR__SAS_BAD_SIGNATURE:
    return "The token has an invalid signature.";
  case AZR__SAS_EXPIRED:
    return "ExpiredToken: The token is expired.";
  case AZR__SAS_WRONG_AUDIENCE:
    return "InvalidAudience: The authorization header contains a token with a wrong audience.";
  case AZR__SAS_MISSING_RIGHT:
    if (needed_right & AZR__RIGHT_MANAGE)
      return "Unauthorized access. 'Manage' claim(s) are required to perform this operation.";
    if (needed_right == (AZR__RIGHT_LISTEN | AZR__RIGHT_SEND))
      return "Unauthorized access. 'Listen,Send' claim(s) are required to perform this operation.";
    if (needed_right & AZR__RIGHT_SEND)
      return "Unauthorized access. 'Send' claim(s) are required to perform this operation.";
    return "Unauthorized access. 'Listen' claim(s) are required to perform this operation.";
  }
  return "Unauthorized.";
}
