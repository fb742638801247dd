/* SPDX-License-Identifier: MIT */
/* Control-channel command parsing (§5.3-§5.7, §12.3) over cJSON, with the checks cJSON leaves out
 * (UTF-8, control characters, trailing garbage). */
#include "proto/hc_cmd.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/limits.h"
#include "util/str.h"
#include "util/utf8.h"

struct ctx {
  const struct azr__mem *mem;
  char *err;
  size_t err_len;
  const char *cmd; /* command name, for messages */
};

static int fail(struct ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, int code, const char *fmt, ...) {
  if (c->err && c->err_len) {
    int n = c->cmd ? snprintf(c->err, c->err_len, "%s: ", c->cmd) : 0;
    if (n >= 0 && (size_t)n < c->err_len) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return code;
}

/* JSON text rules cJSON does not enforce: UTF-8, no raw control characters, no "\u0000" (it would
 * silently cut a C string short). */
static int prescan(struct ctx *c, const uint8_t *s, size_t len) {
  if (!azr__utf8_valid(s, len)) return fail(c, AZR_E_PARSE, "not valid UTF-8");
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    uint8_t ch = s[i];
    if (in_string) {
      if (ch == '\\') {
        if (i + 5 < len && s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4))
          return fail(c, AZR_E_PARSE, "\\u0000 in a string");
        i++;
      } else if (ch == '"') {
        in_string = false;
      } else if (ch < 0x20) {
        return fail(c, AZR_E_PARSE, "control character in a string at byte %zu", i);
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch < 0x20 && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
      return fail(c, AZR_E_PARSE, "control character at byte %zu", i);
    }
  }
  return AZR_OK;
}

/* Looks up the members named in `names` (exact case) among obj's children; JSON null counts as absent. */
static int collect(struct ctx *c, const cJSON *obj, const char *const *names, const cJSON **slots, size_t n) {
  for (size_t i = 0; i < n; i++) slots[i] = NULL;
  bool seen[8] = {false};
  for (const cJSON *m = obj->child; m; m = m->next) {
    for (size_t i = 0; i < n; i++) {
      if (!m->string || strcmp(m->string, names[i]) != 0) continue;
      if (seen[i]) return fail(c, AZR_E_PARSE, "duplicate member '%s'", names[i]);
      seen[i] = true;
      if (!cJSON_IsNull(m)) slots[i] = m;
    }
  }
  return AZR_OK;
}

static int get_string(struct ctx *c, const cJSON *item, const char *name, bool required, char **out) {
  *out = NULL;
  if (!item) return required ? fail(c, AZR_E_PARSE, "missing '%s'", name) : AZR_OK;
  if (!cJSON_IsString(item) || !item->valuestring) return fail(c, AZR_E_PARSE, "'%s' must be a string", name);
  *out = azr__strdup(c->mem, item->valuestring);
  return *out ? AZR_OK : fail(c, AZR_E_NOMEM, "out of memory");
}

/* An integer-valued double within [lo, hi]; the range check comes first so the cast is defined. */
static bool integral(double v, double lo, double hi) {
  return isfinite(v) && v >= lo && v <= hi && v == (double)(long long)v;
}

static bool tchar(unsigned char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int parse_headers(struct ctx *c, const cJSON *item, const char *name, struct azr__hc_headers *h) {
  if (!item) return AZR_OK;
  if (!cJSON_IsObject(item)) return fail(c, AZR_E_PARSE, "'%s' must be an object", name);
  size_t count = 0;
  for (const cJSON *m = item->child; m; m = m->next) {
    if (++count > AZR__HC_MAX_HEADERS) return fail(c, AZR_E_PARSE, "'%s' has too many headers", name);
    const char *hn = m->string ? m->string : "";
    size_t hn_len = strlen(hn);
    bool ok = hn_len > 0;
    for (size_t i = 0; ok && i < hn_len; i++) ok = tchar((unsigned char)hn[i]);
    if (!ok) return fail(c, AZR_E_PARSE, "'%s' has an invalid header name", name);
    char num[64];
    const char *value;
    if (cJSON_IsString(m) && m->valuestring) {
      value = m->valuestring;
      if (strpbrk(value, "\r\n")) return fail(c, AZR_E_PARSE, "'%s' has a header value with CR or LF", name);
    } else if (cJSON_IsNumber(m) && isfinite(m->valuedouble)) {
      double v = m->valuedouble;
      if (integral(v, -9007199254740992.0, 9007199254740992.0))
        snprintf(num, sizeof num, "%lld", (long long)v);
      else
        snprintf(num, sizeof num, "%.17g", v);
      value = num;
    } else {
      return fail(c, AZR_E_PARSE, "'%s' has a header value that is not a string", name);
    }
    int rc = azr__hc_headers_add(c->mem, h, hn, hn_len, value, strlen(value));
    if (rc) return fail(c, rc, "out of memory");
  }
  return AZR_OK;
}

static int parse_endpoint(struct ctx *c, const cJSON *item, struct azr__hc_endpoint *ep) {
  if (!item) return AZR_OK;
  if (!cJSON_IsObject(item)) return fail(c, AZR_E_PARSE, "'remoteEndpoint' must be an object");
  static const char *const names[] = {"address", "port"};
  const cJSON *m[2];
  int rc = collect(c, item, names, m, 2);
  if (!rc) rc = get_string(c, m[0], "remoteEndpoint.address", false, &ep->address);
  if (rc) return rc;
  ep->present = true;
  if (m[1]) {
    if (!cJSON_IsNumber(m[1]) || !integral(m[1]->valuedouble, 0, 65535))
      return fail(c, AZR_E_PARSE, "'remoteEndpoint.port' must be an integer 0-65535");
    ep->port = (int)m[1]->valuedouble;
  }
  return AZR_OK;
}

static int parse_body(struct ctx *c, const cJSON *item, enum azr__hc_body *out) {
  *out = AZR__HC_BODY_ABSENT;
  if (!item) return AZR_OK;
  if (!cJSON_IsBool(item)) return fail(c, AZR_E_PARSE, "'body' must be true or false");
  *out = cJSON_IsTrue(item) ? AZR__HC_BODY_TRUE : AZR__HC_BODY_FALSE;
  return AZR_OK;
}

static int parse_accept(struct ctx *c, const cJSON *obj, struct azr__hc_accept *a) {
  static const char *const names[] = {"address", "id", "connectHeaders", "remoteEndpoint"};
  const cJSON *m[4];
  int rc = collect(c, obj, names, m, 4);
  if (!rc) rc = get_string(c, m[0], "address", true, &a->address);
  if (!rc) rc = get_string(c, m[1], "id", true, &a->id);
  if (!rc) rc = parse_headers(c, m[2], "connectHeaders", &a->connect_headers);
  if (!rc) rc = parse_endpoint(c, m[3], &a->remote);
  return rc;
}

static int parse_request(struct ctx *c, const cJSON *obj, struct azr__hc_request *r) {
  static const char *const names[] = {"address", "id", "requestTarget", "method", "remoteEndpoint",
                                      "requestHeaders", "body"};
  const cJSON *m[7];
  int rc = collect(c, obj, names, m, 7);
  /* Optional here: a request delivered over a rendezvous socket need not name one (.NET never reads
   * it there); the control channel's caller insists on it (azr__http_command). */
  if (!rc) rc = get_string(c, m[0], "address", false, &r->address);
  if (!rc) rc = get_string(c, m[1], "id", false, &r->id);
  if (!rc) rc = get_string(c, m[2], "requestTarget", false, &r->request_target);
  if (!rc) rc = get_string(c, m[3], "method", false, &r->method);
  if (!rc) rc = parse_endpoint(c, m[4], &r->remote);
  if (!rc) rc = parse_headers(c, m[5], "requestHeaders", &r->request_headers);
  if (!rc) rc = parse_body(c, m[6], &r->body);
  /* Without a method it can only mean "open a rendezvous" (§5.5): that needs the address. */
  if (!rc && !r->method && !r->address) rc = fail(c, AZR_E_PARSE, "missing 'address'");
  return rc;
}

/* §5.6 / §13.1 #7: a number, or a string holding only decimal digits. */
static int parse_status(struct ctx *c, const cJSON *item, int *out) {
  if (!item) return fail(c, AZR_E_PARSE, "missing 'statusCode'");
  uint64_t v = 0;
  bool ok;
  if (cJSON_IsNumber(item)) {
    ok = integral(item->valuedouble, 100, 999);
    if (ok) v = (uint64_t)item->valuedouble;
  } else if (cJSON_IsString(item) && item->valuestring) {
    ok = azr__span_to_u64(azr__span_of(item->valuestring), &v) && v >= 100 && v <= 999;
  } else {
    ok = false;
  }
  if (!ok) return fail(c, AZR_E_PARSE, "'statusCode' must be an integer 100-999");
  *out = (int)v;
  return AZR_OK;
}

static int parse_response(struct ctx *c, const cJSON *obj, struct azr__hc_response *r) {
  static const char *const names[] = {"requestId", "statusCode", "statusDescription", "responseHeaders", "body"};
  const cJSON *m[5];
  enum azr__hc_body body;
  int rc = collect(c, obj, names, m, 5);
  if (!rc) rc = get_string(c, m[0], "requestId", true, &r->request_id);
  if (!rc) rc = parse_status(c, m[1], &r->status_code);
  if (!rc) rc = get_string(c, m[2], "statusDescription", false, &r->status_description);
  if (!rc) rc = parse_headers(c, m[3], "responseHeaders", &r->response_headers);
  if (!rc) rc = parse_body(c, m[4], &body);
  if (!rc) r->body = body == AZR__HC_BODY_TRUE;
  return rc;
}

static int parse_renew(struct ctx *c, const cJSON *obj, struct azr__hc_cmd *cmd) {
  static const char *const names[] = {"token"};
  const cJSON *m[1];
  int rc = collect(c, obj, names, m, 1);
  if (!rc) rc = get_string(c, m[0], "token", true, &cmd->u.renew_token.token);
  return rc;
}

static const struct {
  const char *name;
  enum azr__hc_cmd_type type;
} commands[] = {{"accept", AZR__HC_CMD_ACCEPT},
                {"request", AZR__HC_CMD_REQUEST},
                {"response", AZR__HC_CMD_RESPONSE},
                {"renewToken", AZR__HC_CMD_RENEW_TOKEN}};

static int parse_root(struct ctx *c, const cJSON *root, struct azr__hc_cmd *out) {
  if (!cJSON_IsObject(root)) return fail(c, AZR_E_PARSE, "not a JSON object");
  const cJSON *m = root->child;
  if (!m) return fail(c, AZR_E_PARSE, "empty object");
  if (m->next) return fail(c, AZR_E_PARSE, "more than one top-level member");
  size_t i = 0;
  while (i < sizeof commands / sizeof commands[0] && strcmp(m->string ? m->string : "", commands[i].name)) i++;
  if (i == sizeof commands / sizeof commands[0]) {
    char quoted[41];
    size_t n = 0;
    for (const char *p = m->string ? m->string : ""; *p && n < sizeof quoted - 1; p++)
      quoted[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    quoted[n] = 0;
    return fail(c, AZR_E_NOT_FOUND, "unknown command '%s'", quoted);
  }
  c->cmd = commands[i].name;
  out->type = commands[i].type;
  if (!cJSON_IsObject(m)) return fail(c, AZR_E_PARSE, "the command must be an object");
  switch (out->type) {
  case AZR__HC_CMD_ACCEPT:
    return parse_accept(c, m, &out->u.accept);
  case AZR__HC_CMD_REQUEST:
    return parse_request(c, m, &out->u.request);
  case AZR__HC_CMD_RESPONSE:
    return parse_response(c, m, &out->u.response);
  case AZR__HC_CMD_RENEW_TOKEN:
    return parse_renew(c, m, out);
  }
  return fail(c, AZR_E_PARSE, "unreachable");
}

int azr__hc_cmd_parse(const struct azr__mem *mem, const uint8_t *json, size_t len, struct azr__hc_cmd *out, char *err,
                      size_t err_len) {
  struct ctx c = {mem, err, err_len, NULL};
  if (err && err_len) err[0] = 0;
  if (!out) return fail(&c, AZR_E_PARSE, "no output");
  memset(out, 0, sizeof *out);
  if (!json) return fail(&c, AZR_E_PARSE, "no input");
  if (len > AZR_MAX_CONTROL_MSG) return fail(&c, AZR_E_TOO_BIG, "message of %zu bytes exceeds %u", len, AZR_MAX_CONTROL_MSG);
  int rc = prescan(&c, json, len);
  if (rc) return rc;
  const char *end = NULL;
  cJSON *root = len ? cJSON_ParseWithLengthOpts((const char *)json, len, &end, 0) : NULL;
  if (!root) return fail(&c, AZR_E_PARSE, "malformed JSON");
  for (const char *p = end; p && p < (const char *)json + len; p++) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
      cJSON_Delete(root);
      return fail(&c, AZR_E_PARSE, "junk after the JSON value");
    }
  }
  rc = parse_root(&c, root, out);
  cJSON_Delete(root);
  if (rc) {
    azr__hc_cmd_free(mem, out);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

bool azr__hc_request_is_rendezvous_only(const struct azr__hc_request *r) {
  return r && (!r->method || r->body == AZR__HC_BODY_ABSENT);
}

static void endpoint_free(const struct azr__mem *mem, struct azr__hc_endpoint *ep) { azr__free(mem, ep->address); }

void azr__hc_cmd_free(const struct azr__mem *mem, struct azr__hc_cmd *cmd) {
  if (!cmd) return;
  switch (cmd->type) {
  case AZR__HC_CMD_ACCEPT:
    azr__free(mem, cmd->u.accept.address);
    azr__free(mem, cmd->u.accept.id);
    azr__hc_headers_free(mem, &cmd->u.accept.connect_headers);
    endpoint_free(mem, &cmd->u.accept.remote);
    break;
  case AZR__HC_CMD_REQUEST:
    azr__free(mem, cmd->u.request.address);
    azr__free(mem, cmd->u.request.id);
    azr__free(mem, cmd->u.request.request_target);
    azr__free(mem, cmd->u.request.method);
    endpoint_free(mem, &cmd->u.request.remote);
    azr__hc_headers_free(mem, &cmd->u.request.request_headers);
    break;
  case AZR__HC_CMD_RESPONSE:
    azr__free(mem, cmd->u.response.request_id);
    azr__free(mem, cmd->u.response.status_description);
    azr__hc_headers_free(mem, &cmd->u.response.response_headers);
    break;
  case AZR__HC_CMD_RENEW_TOKEN:
    azr__free_secret(mem, cmd->u.renew_token.token);
    break;
  }
  memset(cmd, 0, sizeof *cmd);
}
