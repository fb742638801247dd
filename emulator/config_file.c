/* SPDX-License-Identifier: MIT */
/* Parsing of the emulator's JSON config file over cJSON: every member is known and checked, and an
 * error names the member and index it is about. */
#include "emulator/config_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "azrelay/emulator.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/str.h"
#include "util/utf8.h"

#define MAX_HC_PATH 260u  /* the service's limit on an entity path */
#define MAX_HOST 253u     /* a DNS name */
#define MAX_SETTING_NAME 128u
#define MAX_SETTING_VALUE 4096u
#define MAX_WHERE 192     /* "hybridConnections[12].rules[3].rights[0]" and the like */

struct ctx {
  const struct azr__mem *mem;
  char *err;
  size_t err_len;
};

static int fail(struct ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, int code, const char *fmt, ...) {
  if (c->err && c->err_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->err_len, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Message locations: "where.member" and "where[index]". A path too long for the buffer is cut,
 * which only shortens a message. */
static void at_member(char out[MAX_WHERE], const char *where, const char *member) {
  if (snprintf(out, MAX_WHERE, "%s%s%s", where, *where ? "." : "", member) < 0) out[0] = 0;
}

static void at_index(char out[MAX_WHERE], const char *where, size_t index) {
  if (snprintf(out, MAX_WHERE, "%s[%zu]", where, index) < 0) out[0] = 0;
}

static bool is_alnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool host_ok(const char *s) {
  for (; *s; s++)
    if (!is_alnum(*s) && *s != '-' && *s != '.') return false;
  return true;
}

/* The characters the service allows in an authorization rule name. */
static bool rule_name_ok(const char *s) {
  for (; *s; s++)
    if (!is_alnum(*s) && *s != '-' && *s != '.' && *s != '_') return false;
  return true;
}

/* Printable ASCII without ';', so the key can stand in a connection string. */
static bool key_ok(const char *s) {
  for (; *s; s++)
    if (*s < 0x21 || *s > 0x7e || *s == ';') return false;
  return true;
}

static bool setting_name_ok(const char *s) {
  for (; *s; s++)
    if (!is_alnum(*s) && *s != '_' && *s != '.') return false;
  return true;
}

/* JSON rules cJSON leaves out: UTF-8 text, no raw control characters inside strings, and no
 * "\u0000" (it would cut a C string short). Offsets are reported as line:column. */
static void line_col(const char *s, size_t pos, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < pos; i++) {
    if (s[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static int prescan(struct ctx *c, const char *s, size_t len) {
  if (!azr__utf8_valid((const uint8_t *)s, len)) return fail(c, AZR_E_PARSE, "the config file is not valid UTF-8");
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    size_t at = i;
    const char *what = NULL;
    if (!in_string) {
      in_string = ch == '"';
    } else if (ch == '"') {
      in_string = false;
    } else if (ch < 0x20) {
      what = "control character in a string";
    } else if (ch == '\\') {
      if (i + 5 < len && s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4)) what = "\\u0000 in a string";
      i++;
    }
    if (what) {
      size_t line, col;
      line_col(s, at, &line, &col);
      return fail(c, AZR_E_PARSE, "%s at line %zu, column %zu", what, line, col);
    }
  }
  return AZR_OK;
}

/* Sorts obj's members into slots by exact name; JSON null counts as absent. An unknown or repeated
 * name is an error, so a misspelt member never passes silently. */
static int collect(struct ctx *c, const cJSON *obj, const char *where, const char *const *names, size_t n,
                   const cJSON **slots) {
  bool seen[8] = {false};
  for (size_t i = 0; i < n; i++) slots[i] = NULL;
  for (const cJSON *m = obj->child; m; m = m->next) {
    const char *name = m->string ? m->string : "";
    size_t i = 0;
    while (i < n && strcmp(name, names[i]) != 0) i++;
    if (i == n) {
      if (!*where) return fail(c, AZR_E_PARSE, "unknown top-level member '%.64s'", name);
      return fail(c, AZR_E_PARSE, "%s: unknown member '%.64s'", where, name);
    }
    if (seen[i]) return fail(c, AZR_E_PARSE, "%s%sduplicate member '%s'", where, *where ? ": " : "", name);
    seen[i] = true;
    if (!cJSON_IsNull(m)) slots[i] = m;
  }
  return AZR_OK;
}

/* A non-empty string member of at most max_len characters that passes `valid`. */
static int get_text(struct ctx *c, const cJSON *item, const char *where, const char *member, bool required,
                    size_t max_len, bool (*valid)(const char *), const char *rule, char **out) {
  char at[MAX_WHERE];
  at_member(at, where, member);
  if (!item) return required ? fail(c, AZR_E_PARSE, "%s: missing '%s'", where, member) : AZR_OK;
  if (!cJSON_IsString(item) || !item->valuestring) return fail(c, AZR_E_PARSE, "%s: must be a string", at);
  size_t len = strlen(item->valuestring);
  if (!len) return fail(c, AZR_E_PARSE, "%s: must not be empty", at);
  if (len > max_len) return fail(c, AZR_E_TOO_BIG, "%s: longer than %zu characters", at, max_len);
  if (!valid(item->valuestring)) return fail(c, AZR_E_PARSE, "%s: %s", at, rule);
  *out = azr__strndup(c->mem, item->valuestring, len);
  return *out ? AZR_OK : fail(c, AZR_E_NOMEM, "out of memory");
}

static int parse_rights(struct ctx *c, const cJSON *item, const char *where, unsigned *out) {
  static const struct {
    const char *name;
    unsigned bit;
  } rights[] = {{"Listen", AZR_RIGHT_LISTEN}, {"Send", AZR_RIGHT_SEND}, {"Manage", AZR_RIGHT_MANAGE}};
  char at[MAX_WHERE], at_i[MAX_WHERE];
  at_member(at, where, "rights");
  if (!item) return fail(c, AZR_E_PARSE, "%s: missing 'rights'", where);
  if (!cJSON_IsArray(item)) return fail(c, AZR_E_PARSE, "%s: must be an array of \"Listen\", \"Send\", \"Manage\"", at);
  *out = 0;
  size_t i = 0;
  for (const cJSON *e = item->child; e; e = e->next, i++) {
    at_index(at_i, at, i);
    if (!cJSON_IsString(e) || !e->valuestring) return fail(c, AZR_E_PARSE, "%s: must be a string", at_i);
    size_t k = 0;
    while (k < sizeof rights / sizeof rights[0] && !azr__str_ieq(e->valuestring, rights[k].name)) k++;
    if (k == sizeof rights / sizeof rights[0])
      return fail(c, AZR_E_PARSE, "%s: unknown right '%.32s' (expected Listen, Send or Manage)", at_i, e->valuestring);
    *out |= rights[k].bit;
  }
  if (!*out) return fail(c, AZR_E_PARSE, "%s: needs at least one right", at);
  return AZR_OK;
}

static int parse_rule(struct ctx *c, const cJSON *item, const char *where, struct azr__emu_rule_cfg *r) {
  static const char *const names[] = {"name", "primaryKey", "secondaryKey", "rights"};
  static const char key_rule[] = "may contain only printable ASCII characters other than ';'";
  const cJSON *m[4];
  if (!cJSON_IsObject(item)) return fail(c, AZR_E_PARSE, "%s: must be an object", where);
  int rc = collect(c, item, where, names, 4, m);
  if (!rc)
    rc = get_text(c, m[0], where, "name", true, AZR_MAX_SAS_KEY, rule_name_ok,
                  "may contain only letters, digits, '.', '-' and '_'", &r->name);
  if (!rc) rc = get_text(c, m[1], where, "primaryKey", true, AZR_MAX_SAS_KEY, key_ok, key_rule, &r->primary_key);
  if (!rc) rc = get_text(c, m[2], where, "secondaryKey", false, AZR_MAX_SAS_KEY, key_ok, key_rule, &r->secondary_key);
  if (!rc) rc = parse_rights(c, m[3], where, &r->rights);
  return rc;
}

/* An array of rules (namespace-wide or of one hybrid connection); names are unique within it. */
static int parse_rules(struct ctx *c, const cJSON *item, const char *where, struct azr__emu_rule_cfg **out,
                       size_t *out_count) {
  if (!item) return AZR_OK;
  if (!cJSON_IsArray(item)) return fail(c, AZR_E_PARSE, "%s: must be an array", where);
  size_t n = (size_t)cJSON_GetArraySize(item);
  if (!n) return AZR_OK;
  *out = azr__calloc(c->mem, n, sizeof **out);
  if (!*out) return fail(c, AZR_E_NOMEM, "out of memory");
  char at[MAX_WHERE];
  for (const cJSON *e = item->child; e && *out_count < n; e = e->next) {
    size_t i = (*out_count)++; /* counted first, so a half-filled rule is freed with the rest */
    at_index(at, where, i);
    int rc = parse_rule(c, e, at, &(*out)[i]);
    if (rc) return rc;
    for (size_t j = 0; j < i; j++)
      if (azr__str_ieq((*out)[j].name, (*out)[i].name))
        return fail(c, AZR_E_PARSE, "%s: duplicate rule '%s'", at, (*out)[i].name);
  }
  return AZR_OK;
}

/* Entity paths lose surrounding '/' (as the service's addresses do) and keep to URL-safe text. */
static int set_path(struct ctx *c, const char *text, const char *at, char **out) {
  while (*text == '/') text++;
  size_t len = strlen(text);
  while (len && text[len - 1] == '/') len--;
  if (!len) return fail(c, AZR_E_PARSE, "%s: the hybrid connection name is empty", at);
  if (len > MAX_HC_PATH)
    return fail(c, AZR_E_TOO_BIG, "%s: the hybrid connection name is longer than %u characters", at, MAX_HC_PATH);
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)text[i];
    if (ch <= ' ' || ch >= 0x7f || ch == '?' || ch == '#' || ch == '%' || ch == '\\' ||
        (ch == '/' && text[i + 1] == '/'))
      return fail(c, AZR_E_PARSE, "%s: the hybrid connection name '%.*s' has a character that is not allowed", at,
                  (int)(len > 64 ? 64 : len), text);
  }
  *out = azr__strndup(c->mem, text, len);
  return *out ? AZR_OK : fail(c, AZR_E_NOMEM, "out of memory");
}

static int parse_hc(struct ctx *c, const cJSON *item, const char *where, struct azr__emu_hc_cfg *h) {
  static const char *const names[] = {"name", "requiresClientAuthorization", "rules"};
  h->requires_client_authorization = true;
  if (cJSON_IsString(item) && item->valuestring) return set_path(c, item->valuestring, where, &h->path);
  if (!cJSON_IsObject(item)) return fail(c, AZR_E_PARSE, "%s: must be a name or an object", where);
  const cJSON *m[3];
  char at[MAX_WHERE];
  int rc = collect(c, item, where, names, 3, m);
  if (rc) return rc;
  at_member(at, where, "name");
  if (!m[0]) return fail(c, AZR_E_PARSE, "%s: missing 'name'", where);
  if (!cJSON_IsString(m[0]) || !m[0]->valuestring) return fail(c, AZR_E_PARSE, "%s: must be a string", at);
  rc = set_path(c, m[0]->valuestring, at, &h->path);
  if (rc) return rc;
  if (m[1]) {
    at_member(at, where, "requiresClientAuthorization");
    if (!cJSON_IsBool(m[1])) return fail(c, AZR_E_PARSE, "%s: must be true or false", at);
    h->requires_client_authorization = cJSON_IsTrue(m[1]);
  }
  at_member(at, where, "rules");
  return parse_rules(c, m[2], at, &h->rules, &h->rule_count);
}

static int parse_hcs(struct ctx *c, const cJSON *item, struct azr__emu_config *out) {
  if (!item) return AZR_OK;
  if (!cJSON_IsArray(item)) return fail(c, AZR_E_PARSE, "hybridConnections: must be an array");
  size_t n = (size_t)cJSON_GetArraySize(item);
  if (!n) return AZR_OK;
  out->hcs = azr__calloc(c->mem, n, sizeof *out->hcs);
  if (!out->hcs) return fail(c, AZR_E_NOMEM, "out of memory");
  char at[MAX_WHERE];
  for (const cJSON *e = item->child; e && out->hc_count < n; e = e->next) {
    size_t i = out->hc_count++;
    at_index(at, "hybridConnections", i);
    int rc = parse_hc(c, e, at, &out->hcs[i]);
    if (rc) return rc;
    for (size_t j = 0; j < i; j++)
      if (azr__str_ieq(out->hcs[j].path, out->hcs[i].path))
        return fail(c, AZR_E_PARSE, "%s: duplicate hybrid connection '%s'", at, out->hcs[i].path);
  }
  return AZR_OK;
}

/* A setting value as azr_emulator_config() reads it: integers without a fraction, booleans as
 * true/false, strings as written. */
static int setting_text(struct ctx *c, const cJSON *m, struct azr__buf *b) {
  char at[MAX_WHERE];
  at_member(at, "settings", m->string);
  if (cJSON_IsBool(m)) return azr__buf_printf(b, "%s=%s", m->string, cJSON_IsTrue(m) ? "true" : "false");
  if (cJSON_IsNumber(m)) {
    double v = m->valuedouble;
    if (!isfinite(v)) return fail(c, AZR_E_PARSE, "%s: the number is out of range", at);
    if (v == 0) v = 0; /* no "-0" */
    if (v == floor(v) && fabs(v) < 9007199254740992.0) return azr__buf_printf(b, "%s=%.0f", m->string, v);
    return azr__buf_printf(b, "%s=%.15g", m->string, v);
  }
  if (cJSON_IsString(m) && m->valuestring) {
    if (strlen(m->valuestring) > MAX_SETTING_VALUE)
      return fail(c, AZR_E_TOO_BIG, "%s: longer than %u characters", at, MAX_SETTING_VALUE);
    return azr__buf_printf(b, "%s=%s", m->string, m->valuestring);
  }
  return fail(c, AZR_E_PARSE, "%s: must be a number, a boolean or a string", at);
}

static int parse_settings(struct ctx *c, const cJSON *item, struct azr__emu_config *out) {
  if (!item) return AZR_OK;
  if (!cJSON_IsObject(item)) return fail(c, AZR_E_PARSE, "settings: must be an object");
  size_t n = (size_t)cJSON_GetArraySize(item);
  if (!n) return AZR_OK;
  out->settings = azr__calloc(c->mem, n, sizeof *out->settings);
  if (!out->settings) return fail(c, AZR_E_NOMEM, "out of memory");
  for (const cJSON *m = item->child; m && out->setting_count < n; m = m->next) {
    const char *name = m->string ? m->string : "";
    if (!*name || strlen(name) > MAX_SETTING_NAME || !setting_name_ok(name))
      return fail(c, AZR_E_PARSE, "settings: '%.64s' is not a setting name", name);
    for (size_t j = 0; j < out->setting_count; j++) {
      size_t len = strcspn(out->settings[j], "=");
      if (strlen(name) == len && !strncasecmp(out->settings[j], name, len))
        return fail(c, AZR_E_PARSE, "settings: duplicate setting '%s'", name);
    }
    struct azr__buf b;
    azr__buf_init(&b, c->mem, 0);
    int rc = setting_text(c, m, &b);
    if (rc) {
      azr__buf_free(&b);
      if (rc == AZR_E_NOMEM) fail(c, rc, "out of memory");
      return rc;
    }
    char *text = azr__buf_steal(&b);
    if (!text) return fail(c, AZR_E_NOMEM, "out of memory");
    out->settings[out->setting_count++] = text;
  }
  return AZR_OK;
}

static int parse_root(struct ctx *c, const cJSON *root, struct azr__emu_config *out) {
  static const char *const names[] = {"namespace", "rules", "hybridConnections", "settings"};
  if (!cJSON_IsObject(root)) return fail(c, AZR_E_PARSE, "the config file must hold a JSON object");
  const cJSON *m[4];
  int rc = collect(c, root, "", names, 4, m);
  if (!rc)
    rc = get_text(c, m[0], "", "namespace", false, MAX_HOST, host_ok,
                  "may contain only letters, digits, '-' and '.'", &out->namespace_host);
  if (!rc) rc = parse_rules(c, m[1], "rules", &out->rules, &out->rule_count);
  if (!rc) rc = parse_hcs(c, m[2], out);
  if (!rc) rc = parse_settings(c, m[3], out);
  return rc;
}

int azr__emu_config_parse(const struct azr__mem *mem, const char *json, size_t len, struct azr__emu_config *out,
                          char *err, size_t err_len) {
  struct ctx c = {mem, err, err_len};
  if (err && err_len) err[0] = 0;
  if (!out) return fail(&c, AZR_E_INVALID_ARG, "no output");
  memset(out, 0, sizeof *out);
  if (!json && len) return fail(&c, AZR_E_INVALID_ARG, "no input");
  if (len > AZR__EMU_CONFIG_MAX)
    return fail(&c, AZR_E_TOO_BIG, "the config file has %zu bytes; the limit is %u", len, AZR__EMU_CONFIG_MAX);
  if (len >= 3 && !memcmp(json, "\xEF\xBB\xBF", 3)) { /* editors on Windows write a BOM */
    json += 3;
    len -= 3;
  }
  int rc = prescan(&c, json, len);
  if (rc) return rc;
  size_t lead = 0;
  while (lead < len && (json[lead] == ' ' || json[lead] == '\t' || json[lead] == '\r' || json[lead] == '\n')) lead++;
  if (lead == len) return fail(&c, AZR_E_PARSE, "the config file is empty");
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
  if (!root) {
    size_t line = 1, col = 1;
    if (end && end >= json && end <= json + len) line_col(json, (size_t)(end - json), &line, &col);
    return fail(&c, AZR_E_PARSE, "malformed JSON at line %zu, column %zu", line, col);
  }
  for (const char *p = end; p && p < json + len; p++) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
      size_t line, col;
      line_col(json, (size_t)(p - json), &line, &col);
      cJSON_Delete(root);
      return fail(&c, AZR_E_PARSE, "text after the JSON object at line %zu, column %zu", line, col);
    }
  }
  rc = parse_root(&c, root, out);
  cJSON_Delete(root);
  if (rc) azr__emu_config_free(mem, out);
  return rc;
}

int azr__emu_config_load_file(const struct azr__mem *mem, const char *path, struct azr__emu_config *out, char *err,
                              size_t err_len) {
  struct ctx c = {mem, err, err_len};
  if (err && err_len) err[0] = 0;
  if (out) memset(out, 0, sizeof *out);
  if (!path || !*path || !out) return fail(&c, AZR_E_INVALID_ARG, "no file name or no output");
  FILE *f = fopen(path, "rb");
  if (!f) {
    char reason[128];
    if (strerror_r(errno, reason, sizeof reason)) snprintf(reason, sizeof reason, "error %d", errno);
    return fail(&c, AZR_E_FILE, "cannot open the config file: %s", reason);
  }
  struct azr__buf b;
  azr__buf_init(&b, mem, AZR__EMU_CONFIG_MAX);
  char chunk[16384];
  size_t n;
  int rc = AZR_OK;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rc = azr__buf_append(&b, chunk, n);
  if (rc == AZR_E_TOO_BIG) {
    fail(&c, rc, "the config file is larger than %u bytes", AZR__EMU_CONFIG_MAX);
  } else if (rc) {
    fail(&c, rc, "out of memory");
  } else if (ferror(f)) {
    char reason[128];
    if (strerror_r(errno, reason, sizeof reason)) snprintf(reason, sizeof reason, "error %d", errno);
    rc = fail(&c, AZR_E_FILE, "cannot read the config file: %s", reason);
  }
  fclose(f);
  if (!rc) rc = azr__emu_config_parse(mem, azr__buf_cstr(&b), b.len, out, err, err_len);
  /* The file holds keys. */
  OPENSSL_cleanse(chunk, sizeof chunk);
  if (b.data) OPENSSL_cleanse(b.data, b.len);
  azr__buf_free(&b);
  return rc;
}

static void rule_free(const struct azr__mem *mem, struct azr__emu_rule_cfg *r) {
  azr__free(mem, r->name);
  azr__free_secret(mem, r->primary_key);
  azr__free_secret(mem, r->secondary_key);
}

void azr__emu_config_free(const struct azr__mem *mem, struct azr__emu_config *c) {
  if (!c) return;
  azr__free(mem, c->namespace_host);
  for (size_t i = 0; i < c->rule_count; i++) rule_free(mem, &c->rules[i]);
  azr__free(mem, c->rules);
  for (size_t i = 0; i < c->hc_count; i++) {
    struct azr__emu_hc_cfg *h = &c->hcs[i];
    azr__free(mem, h->path);
    for (size_t j = 0; j < h->rule_count; j++) rule_free(mem, &h->rules[j]);
    azr__free(mem, h->rules);
  }
  azr__free(mem, c->hcs);
  for (size_t i = 0; i < c->setting_count; i++) azr__free(mem, c->settings[i]);
  azr__free(mem, c->settings);
  memset(c, 0, sizeof *c);
}
