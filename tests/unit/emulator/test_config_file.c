/* SPDX-License-Identifier: MIT */
/* The emulator's JSON config file: the documented example, defaults, every error with its location,
 * truncated input, allocation failures and reading from disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failmem.h"

#include <unistd.h>

#include "azrelay/common.h"
#include "azrelay/emulator.h"
#include "emulator/config_file.h"

/* The docs/EMULATOR.md example, plus a rule with a secondary key and a string setting. */
static const char full_example[] =
    "{\n"
    "  \"namespace\": \"localhost\",\n"
    "  \"rules\": [\n"
    "    {\"name\": \"RootManageSharedAccessKey\", \"primaryKey\": \"cm9vdC1wcmltYXJ5\",\n"
    "     \"secondaryKey\": \"cm9vdC1zZWNvbmRhcnk=\", \"rights\": [\"Listen\", \"Send\", \"Manage\"]},\n"
    "    {\"name\": \"sender\", \"primaryKey\": \"c2VuZA==\", \"rights\": [\"send\"]}\n"
    "  ],\n"
    "  \"hybridConnections\": [\n"
    "    {\"name\": \"hc1\", \"requiresClientAuthorization\": true,\n"
    "     \"rules\": [ {\"name\": \"listen-only\", \"primaryKey\": \"bGlzdGVu\", \"rights\": [\"Listen\"]} ] },\n"
    "    \"hc2\",\n"
    "    {\"name\": \"/open/path/\", \"requiresClientAuthorization\": false}\n"
    "  ],\n"
    "  \"settings\": { \"TokenGraceSeconds\": 60, \"MaxListenersPerHybridConnection\": 25,\n"
    "                \"LenientRejectParameters\": true, \"AcceptTimeoutStatus\": \"504\", \"Ratio\": 0.5,\n"
    "                \"Offset\": -3, \"Off\": false }\n"
    "}\n";

/* Parses a copy sized exactly to the text, so ASan sees any read past its end. */
static int parse(const char *json, struct azr__emu_config *out, char *err, size_t err_len) {
  size_t len = strlen(json);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, json, len);
  int rc = azr__emu_config_parse(NULL, copy, len, out, err, err_len);
  free(copy);
  return rc;
}

static void check_full_example(const struct azr__emu_config *c) {
  assert_string_equal(c->namespace_host, "localhost");
  assert_int_equal(c->rule_count, 2);
  assert_string_equal(c->rules[0].name, "RootManageSharedAccessKey");
  assert_string_equal(c->rules[0].primary_key, "cm9vdC1wcmltYXJ5");
  assert_string_equal(c->rules[0].secondary_key, "cm9vdC1zZWNvbmRhcnk=");
  assert_int_equal(c->rules[0].rights, AZR_RIGHT_LISTEN | AZR_RIGHT_SEND | AZR_RIGHT_MANAGE);
  assert_string_equal(c->rules[1].name, "sender");
  assert_null(c->rules[1].secondary_key);
  assert_int_equal(c->rules[1].rights, AZR_RIGHT_SEND);

  assert_int_equal(c->hc_count, 3);
  assert_string_equal(c->hcs[0].path, "hc1");
  assert_true(c->hcs[0].requires_client_authorization);
  assert_int_equal(c->hcs[0].rule_count, 1);
  assert_string_equal(c->hcs[0].rules[0].name, "listen-only");
  assert_string_equal(c->hcs[0].rules[0].primary_key, "bGlzdGVu");
  assert_int_equal(c->hcs[0].rules[0].rights, AZR_RIGHT_LISTEN);
  assert_string_equal(c->hcs[1].path, "hc2");
  assert_true(c->hcs[1].requires_client_authorization);
  assert_int_equal(c->hcs[1].rule_count, 0);
  assert_null(c->hcs[1].rules);
  assert_string_equal(c->hcs[2].path, "open/path");
  assert_false(c->hcs[2].requires_client_authorization);

  static const char *const settings[] = {"TokenGraceSeconds=60", "MaxListenersPerHybridConnection=25",
                                         "LenientRejectParameters=true", "AcceptTimeoutStatus=504", "Ratio=0.5",
                                         "Offset=-3", "Off=false"};
  assert_int_equal(c->setting_count, sizeof settings / sizeof settings[0]);
  for (size_t i = 0; i < c->setting_count; i++) assert_string_equal(c->settings[i], settings[i]);
}

static void test_full_example(void **state) {
  (void)state;
  struct azr__emu_config c;
  char err[256] = "unset";
  assert_int_equal(parse(full_example, &c, err, sizeof err), AZR_OK);
  assert_string_equal(err, "");
  check_full_example(&c);
  azr__emu_config_free(NULL, &c);
  assert_null(c.rules);
  assert_int_equal(c.hc_count, 0);
  azr__emu_config_free(NULL, &c); /* freeing twice is harmless: it was emptied */
  azr__emu_config_free(NULL, NULL);
}

static void test_defaults_and_forms(void **state) {
  (void)state;
  struct azr__emu_config c;
  assert_int_equal(parse("{}", &c, NULL, 0), AZR_OK);
  assert_null(c.namespace_host);
  assert_int_equal(c.rule_count + c.hc_count + c.setting_count, 0);
  azr__emu_config_free(NULL, &c);

  /* null members count as absent; empty arrays and objects are fine */
  assert_int_equal(parse(" {\"namespace\": null, \"rules\": [], \"hybridConnections\": [], \"settings\": {}} \r\n", &c,
                         NULL, 0),
                   AZR_OK);
  assert_null(c.namespace_host);
  assert_int_equal(c.rule_count + c.hc_count + c.setting_count, 0);
  azr__emu_config_free(NULL, &c);

  /* A UTF-8 byte order mark, then an object with a null secondary key and a lone Manage right. */
  assert_int_equal(parse("\xEF\xBB\xBF{\"rules\":[{\"name\":\"m\",\"primaryKey\":\"k\",\"secondaryKey\":null,"
                         "\"rights\":[\"MANAGE\"]}],\"hybridConnections\":[\"a/b\",{\"name\":\"c\"}]}",
                         &c, NULL, 0),
                   AZR_OK);
  assert_int_equal(c.rule_count, 1);
  assert_null(c.rules[0].secondary_key);
  assert_int_equal(c.rules[0].rights, AZR_RIGHT_MANAGE);
  assert_int_equal(c.hc_count, 2);
  assert_string_equal(c.hcs[0].path, "a/b");
  assert_string_equal(c.hcs[1].path, "c");
  assert_true(c.hcs[1].requires_client_authorization);
  azr__emu_config_free(NULL, &c);

  /* The same rule name may appear once per scope. */
  assert_int_equal(parse("{\"rules\":[{\"name\":\"r\",\"primaryKey\":\"k\",\"rights\":[\"Listen\"]}],"
                         "\"hybridConnections\":[{\"name\":\"h\",\"rules\":[{\"name\":\"r\",\"primaryKey\":\"k2\","
                         "\"rights\":[\"Send\",\"Send\"]}]}]}",
                         &c, NULL, 0),
                   AZR_OK);
  assert_int_equal(c.hcs[0].rules[0].rights, AZR_RIGHT_SEND);
  azr__emu_config_free(NULL, &c);

  /* Numbers: integers without a fraction, large ones exactly, others in short form. */
  assert_int_equal(parse("{\"settings\":{\"A\":1e3,\"B\":-0,\"C\":4294967296,\"D\":1.25e-3,\"E\":\"\",\"F\":\"a=b\"}}",
                         &c, NULL, 0),
                   AZR_OK);
  assert_int_equal(c.setting_count, 6);
  assert_string_equal(c.settings[0], "A=1000");
  assert_string_equal(c.settings[1], "B=0");
  assert_string_equal(c.settings[2], "C=4294967296");
  assert_string_equal(c.settings[3], "D=0.00125");
  assert_string_equal(c.settings[4], "E=");
  assert_string_equal(c.settings[5], "F=a=b");
  azr__emu_config_free(NULL, &c);
}

/* Keys and names of exactly 256 characters pass, one more fails with the member named. */
static void test_lengths(void **state) {
  (void)state;
  char key[300], json[1200], err[256];
  struct azr__emu_config c;
  memset(key, 'k', 256);
  key[256] = 0;
  snprintf(json, sizeof json, "{\"rules\":[{\"name\":\"%s\",\"primaryKey\":\"%s\",\"secondaryKey\":\"%s\",\"rights\":[\"Send\"]}]}",
           key, key, key);
  assert_int_equal(parse(json, &c, err, sizeof err), AZR_OK);
  assert_int_equal(strlen(c.rules[0].primary_key), 256);
  azr__emu_config_free(NULL, &c);

  static const char *const members[] = {"name", "primaryKey", "secondaryKey"};
  for (size_t m = 0; m < 3; m++) {
    char big[300];
    memset(big, 'k', 257);
    big[257] = 0;
    snprintf(json, sizeof json, "{\"rules\":[{\"name\":\"%s\",\"primaryKey\":\"%s\",\"secondaryKey\":\"%s\",\"rights\":[\"Send\"]}]}",
             m == 0 ? big : "n", m == 1 ? big : "k", m == 2 ? big : "k");
    assert_int_equal(parse(json, &c, err, sizeof err), AZR_E_TOO_BIG);
    char expect[96];
    snprintf(expect, sizeof expect, "rules[0].%s: longer than 256 characters", members[m]);
    assert_string_equal(err, expect);
    assert_null(c.rules);
  }

  char path[300];
  memset(path, 'p', 261);
  path[260] = 0;
  snprintf(json, sizeof json, "{\"hybridConnections\":[\"%s\"]}", path);
  assert_int_equal(parse(json, &c, err, sizeof err), AZR_OK);
  azr__emu_config_free(NULL, &c);
  path[260] = 'p';
  path[261] = 0;
  snprintf(json, sizeof json, "{\"hybridConnections\":[\"%s\"]}", path);
  assert_int_equal(parse(json, &c, err, sizeof err), AZR_E_TOO_BIG);
  assert_non_null(strstr(err, "hybridConnections[0]: the hybrid connection name is longer than 260"));

  char host[300];
  memset(host, 'h', 254);
  host[254] = 0;
  snprintf(json, sizeof json, "{\"namespace\":\"%s\"}", host);
  assert_int_equal(parse(json, &c, err, sizeof err), AZR_E_TOO_BIG);
  assert_string_equal(err, "namespace: longer than 253 characters");

  char *value = malloc(4200);
  char *long_json = malloc(4300);
  memset(value, 'v', 4097);
  value[4097] = 0;
  snprintf(long_json, 4300, "{\"settings\":{\"Name\":\"%s\"}}", value);
  assert_int_equal(parse(long_json, &c, err, sizeof err), AZR_E_TOO_BIG);
  assert_string_equal(err, "settings.Name: longer than 4096 characters");
  value[4096] = 0;
  snprintf(long_json, 4300, "{\"settings\":{\"Name\":\"%s\"}}", value);
  assert_int_equal(parse(long_json, &c, err, sizeof err), AZR_OK);
  azr__emu_config_free(NULL, &c);
  free(value);
  free(long_json);
}

static void test_size_cap(void **state) {
  (void)state;
  size_t len = AZR__EMU_CONFIG_MAX + 1;
  char *json = malloc(len);
  assert_non_null(json);
  memset(json, ' ', len);
  json[0] = '{';
  json[len - 2] = '}';
  struct azr__emu_config c;
  char err[256];
  assert_int_equal(azr__emu_config_parse(NULL, json, len, &c, err, sizeof err), AZR_E_TOO_BIG);
  assert_non_null(strstr(err, "limit is 1048576"));
  json[len - 2] = ' ';
  json[len - 3] = '}';
  assert_int_equal(azr__emu_config_parse(NULL, json, len - 1, &c, err, sizeof err), AZR_OK);
  azr__emu_config_free(NULL, &c);
  free(json);
}

struct bad_case {
  const char *json;
  int code;
  const char *message; /* exact */
};

static const struct bad_case bad_cases[] = {
    /* the document */
    {"", AZR_E_PARSE, "the config file is empty"},
    {"  \n ", AZR_E_PARSE, "the config file is empty"},
    {"{", AZR_E_PARSE, "malformed JSON at line 1, column 1"},
    {"{\"rules\": [}", AZR_E_PARSE, "malformed JSON at line 1, column 12"},
    {"{\n  \"rules\": [,]\n}", AZR_E_PARSE, "malformed JSON at line 2, column 13"},
    {"[]", AZR_E_PARSE, "the config file must hold a JSON object"},
    {"\"x\"", AZR_E_PARSE, "the config file must hold a JSON object"},
    {"{} {}", AZR_E_PARSE, "text after the JSON object at line 1, column 4"},
    {"{\"namespace\":\"a\xff\"}", AZR_E_PARSE, "the config file is not valid UTF-8"},
    {"{\"namespace\":\"a\tb\"}", AZR_E_PARSE, "control character in a string at line 1, column 16"},
    {"{\"namespace\":\"a\\u0000b\"}", AZR_E_PARSE, "\\u0000 in a string at line 1, column 16"},
    {"{\"foo\": 1}", AZR_E_PARSE, "unknown top-level member 'foo'"},
    {"{\"Rules\": []}", AZR_E_PARSE, "unknown top-level member 'Rules'"},
    {"{\"rules\": [], \"rules\": []}", AZR_E_PARSE, "duplicate member 'rules'"},
    /* namespace */
    {"{\"namespace\": 5}", AZR_E_PARSE, "namespace: must be a string"},
    {"{\"namespace\": \"\"}", AZR_E_PARSE, "namespace: must not be empty"},
    {"{\"namespace\": \"my ns\"}", AZR_E_PARSE, "namespace: may contain only letters, digits, '-' and '.'"},
    /* namespace rules */
    {"{\"rules\": {}}", AZR_E_PARSE, "rules: must be an array"},
    {"{\"rules\": [1]}", AZR_E_PARSE, "rules[0]: must be an object"},
    {"{\"rules\": [{\"primaryKey\": \"k\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE, "rules[0]: missing 'name'"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"rights\": [\"Send\"]}, {\"name\": \"b\", \"rights\": "
     "[\"Send\"]}]}",
     AZR_E_PARSE, "rules[1]: missing 'primaryKey'"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\"}]}", AZR_E_PARSE, "rules[0]: missing 'rights'"},
    {"{\"rules\": [{\"name\": 7, \"primaryKey\": \"k\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE,
     "rules[0].name: must be a string"},
    {"{\"rules\": [{\"name\": \"a b\", \"primaryKey\": \"k\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE,
     "rules[0].name: may contain only letters, digits, '.', '-' and '_'"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE,
     "rules[0].primaryKey: must not be empty"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k;x\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE,
     "rules[0].primaryKey: may contain only printable ASCII characters other than ';'"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"secondaryKey\": \"s t\", \"rights\": [\"Send\"]}]}",
     AZR_E_PARSE, "rules[0].secondaryKey: may contain only printable ASCII characters other than ';'"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"secondaryKey\": true, \"rights\": [\"Send\"]}]}",
     AZR_E_PARSE, "rules[0].secondaryKey: must be a string"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"rights\": \"Listen\"}]}", AZR_E_PARSE,
     "rules[0].rights: must be an array of \"Listen\", \"Send\", \"Manage\""},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"rights\": []}]}", AZR_E_PARSE,
     "rules[0].rights: needs at least one right"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"rights\": [\"Listen\", \"Lisen\"]}]}", AZR_E_PARSE,
     "rules[0].rights[1]: unknown right 'Lisen' (expected Listen, Send or Manage)"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"rights\": [1]}]}", AZR_E_PARSE,
     "rules[0].rights[0]: must be a string"},
    {"{\"rules\": [{\"name\": \"a\", \"primarykey\": \"k\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE,
     "rules[0]: unknown member 'primarykey'"},
    {"{\"rules\": [{\"name\": \"a\", \"name\": \"b\", \"primaryKey\": \"k\", \"rights\": [\"Send\"]}]}", AZR_E_PARSE,
     "rules[0]: duplicate member 'name'"},
    {"{\"rules\": [{\"name\": \"a\", \"primaryKey\": \"k\", \"rights\": [\"Send\"]}, {\"name\": \"A\", "
     "\"primaryKey\": \"k\", \"rights\": [\"Send\"]}]}",
     AZR_E_PARSE, "rules[1]: duplicate rule 'A'"},
    /* hybrid connections */
    {"{\"hybridConnections\": \"hc1\"}", AZR_E_PARSE, "hybridConnections: must be an array"},
    {"{\"hybridConnections\": [\"hc1\", 5]}", AZR_E_PARSE, "hybridConnections[1]: must be a name or an object"},
    {"{\"hybridConnections\": [\"hc1\", \"HC1\"]}", AZR_E_PARSE,
     "hybridConnections[1]: duplicate hybrid connection 'HC1'"},
    {"{\"hybridConnections\": [{\"name\": \"a/b\"}, \"/a/b/\"]}", AZR_E_PARSE,
     "hybridConnections[1]: duplicate hybrid connection 'a/b'"},
    {"{\"hybridConnections\": [{\"requiresClientAuthorization\": false}]}", AZR_E_PARSE,
     "hybridConnections[0]: missing 'name'"},
    {"{\"hybridConnections\": [{\"name\": 1}]}", AZR_E_PARSE, "hybridConnections[0].name: must be a string"},
    {"{\"hybridConnections\": [\"\"]}", AZR_E_PARSE, "hybridConnections[0]: the hybrid connection name is empty"},
    {"{\"hybridConnections\": [{\"name\": \"//\"}]}", AZR_E_PARSE,
     "hybridConnections[0].name: the hybrid connection name is empty"},
    {"{\"hybridConnections\": [\"a b\"]}", AZR_E_PARSE,
     "hybridConnections[0]: the hybrid connection name 'a b' has a character that is not allowed"},
    {"{\"hybridConnections\": [\"a?b\"]}", AZR_E_PARSE,
     "hybridConnections[0]: the hybrid connection name 'a?b' has a character that is not allowed"},
    {"{\"hybridConnections\": [\"a//b\"]}", AZR_E_PARSE,
     "hybridConnections[0]: the hybrid connection name 'a//b' has a character that is not allowed"},
    {"{\"hybridConnections\": [{\"name\": \"h\", \"requiresClientAuthorization\": \"yes\"}]}", AZR_E_PARSE,
     "hybridConnections[0].requiresClientAuthorization: must be true or false"},
    {"{\"hybridConnections\": [{\"name\": \"h\", \"requiresClientAuth\": true}]}", AZR_E_PARSE,
     "hybridConnections[0]: unknown member 'requiresClientAuth'"},
    {"{\"hybridConnections\": [{\"name\": \"h\", \"rules\": {}}]}", AZR_E_PARSE,
     "hybridConnections[0].rules: must be an array"},
    {"{\"hybridConnections\": [\"h0\", {\"name\": \"h\", \"rules\": [{\"name\": \"r\", \"rights\": [\"Listen\"]}]}]}",
     AZR_E_PARSE, "hybridConnections[1].rules[0]: missing 'primaryKey'"},
    {"{\"hybridConnections\": [{\"name\": \"h\", \"rules\": [{\"name\": \"r\", \"primaryKey\": \"k\", \"rights\": "
     "[\"Listen\"]}, {\"name\": \"s\", \"primaryKey\": \"k\", \"rights\": [\"Write\"]}]}]}",
     AZR_E_PARSE, "hybridConnections[0].rules[1].rights[0]: unknown right 'Write' (expected Listen, Send or Manage)"},
    /* settings */
    {"{\"settings\": []}", AZR_E_PARSE, "settings: must be an object"},
    {"{\"settings\": {\"A\": null}}", AZR_E_PARSE, "settings.A: must be a number, a boolean or a string"},
    {"{\"settings\": {\"A\": [1]}}", AZR_E_PARSE, "settings.A: must be a number, a boolean or a string"},
    {"{\"settings\": {\"A\": {}}}", AZR_E_PARSE, "settings.A: must be a number, a boolean or a string"},
    {"{\"settings\": {\"A=B\": 1}}", AZR_E_PARSE, "settings: 'A=B' is not a setting name"},
    {"{\"settings\": {\"\": 1}}", AZR_E_PARSE, "settings: '' is not a setting name"},
    {"{\"settings\": {\"LatencyMs\": 1, \"latencyms\": 2}}", AZR_E_PARSE, "settings: duplicate setting 'latencyms'"},
};

static void test_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    struct azr__emu_config c;
    memset(&c, 0x5a, sizeof c);
    char err[256] = "";
    int rc = parse(bad_cases[i].json, &c, err, sizeof err);
    if (rc != bad_cases[i].code || strcmp(err, bad_cases[i].message) != 0)
      fail_msg("case %zu: %s\n  got %d '%s'\n  want %d '%s'", i, bad_cases[i].json, rc, err, bad_cases[i].code,
               bad_cases[i].message);
    /* A failed parse leaves nothing to free. */
    assert_null(c.namespace_host);
    assert_null(c.rules);
    assert_null(c.hcs);
    assert_null(c.settings);
    assert_int_equal(c.rule_count + c.hc_count + c.setting_count, 0);
  }
}

static void test_bad_arguments(void **state) {
  (void)state;
  struct azr__emu_config c;
  char err[64];
  assert_int_equal(azr__emu_config_parse(NULL, "{}", 2, NULL, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_config_parse(NULL, NULL, 2, &c, err, sizeof err), AZR_E_INVALID_ARG);
  /* A tiny error buffer is cut, never overrun. */
  char tiny[8];
  assert_int_equal(azr__emu_config_parse(NULL, "{\"zzz\":1}", 9, &c, tiny, sizeof tiny), AZR_E_PARSE);
  assert_string_equal(tiny, "unknown");
  assert_int_equal(azr__emu_config_parse(NULL, "{\"zzz\":1}", 9, &c, NULL, 0), AZR_E_PARSE);
}

/* Every proper prefix of the example is an error (never a crash or a leak); the whole text parses. */
static void test_every_prefix(void **state) {
  (void)state;
  size_t len = strlen(full_example);
  for (size_t n = 0; n <= len; n++) {
    char *copy = malloc(n ? n : 1);
    memcpy(copy, full_example, n);
    struct azr__emu_config c;
    int rc = azr__emu_config_parse(NULL, copy, n, &c, NULL, 0);
    free(copy);
    /* Only the closing "}\n" or "}" may be missing its trailing newline. */
    if (n >= len - 1) {
      assert_int_equal(rc, AZR_OK);
      check_full_example(&c);
      azr__emu_config_free(NULL, &c);
    } else {
      assert_int_equal(rc, AZR_E_PARSE);
    }
  }
}

/* Counting allocator failing the n-th allocation: every failure is AZR_E_NOMEM and nothing leaks. */

static void test_failmalloc(void **state) {
  (void)state;
  bool succeeded = false;
  int failures = 0;
  for (int n = 0; n < 500 && !succeeded; n++) {
    struct failmem f = {n, 0};
    struct azr__mem mem = failmem_allocator(&f);
    struct azr__emu_config c;
    char err[256] = "";
    int rc = azr__emu_config_parse(&mem, full_example, strlen(full_example), &c, err, sizeof err);
    assert_true(rc == AZR_OK || rc == AZR_E_NOMEM);
    if (rc == AZR_OK) {
      succeeded = true;
      check_full_example(&c);
      azr__emu_config_free(&mem, &c);
    } else {
      assert_string_equal(err, "out of memory");
      failures++;
    }
    assert_int_equal(f.live, 0);
  }
  assert_true(succeeded);
  assert_true(failures > 20); /* the sweep really went through the allocations */
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state) {
  (void)state;
  char dir[] = "/tmp/azr-config-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64], big_path[64], missing[64];
  snprintf(path, sizeof path, "%s/emulator.json", dir);
  snprintf(big_path, sizeof big_path, "%s/big.json", dir);
  snprintf(missing, sizeof missing, "%s/missing.json", dir);
  struct azr__emu_config c;
  char err[256];

  write_file(path, full_example, strlen(full_example));
  assert_int_equal(azr__emu_config_load_file(NULL, path, &c, err, sizeof err), AZR_OK);
  check_full_example(&c);
  azr__emu_config_free(NULL, &c);

  assert_int_equal(azr__emu_config_load_file(NULL, missing, &c, err, sizeof err), AZR_E_FILE);
  assert_string_equal(err, "cannot open the config file: No such file or directory");
  assert_int_equal(azr__emu_config_load_file(NULL, dir, &c, err, sizeof err), AZR_E_FILE);
  assert_non_null(strstr(err, "cannot read the config file"));
  assert_int_equal(azr__emu_config_load_file(NULL, NULL, &c, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_config_load_file(NULL, path, NULL, err, sizeof err), AZR_E_INVALID_ARG);

  /* Parse errors come through unchanged. */
  write_file(path, "{\"rules\": 1}", 12);
  assert_int_equal(azr__emu_config_load_file(NULL, path, &c, err, sizeof err), AZR_E_PARSE);
  assert_string_equal(err, "rules: must be an array");
  write_file(path, "", 0);
  assert_int_equal(azr__emu_config_load_file(NULL, path, &c, err, sizeof err), AZR_E_PARSE);

  /* 1 MiB exactly is read; one byte more is refused. */
  size_t len = AZR__EMU_CONFIG_MAX;
  char *text = malloc(len + 1);
  memset(text, '\n', len + 1);
  text[0] = '{';
  text[1] = '}';
  write_file(big_path, text, len);
  assert_int_equal(azr__emu_config_load_file(NULL, big_path, &c, err, sizeof err), AZR_OK);
  azr__emu_config_free(NULL, &c);
  write_file(big_path, text, len + 1);
  assert_int_equal(azr__emu_config_load_file(NULL, big_path, &c, err, sizeof err), AZR_E_TOO_BIG);
  assert_string_equal(err, "the config file is larger than 1048576 bytes");
  free(text);

  unlink(path);
  unlink(big_path);
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_example), cmocka_unit_test(test_defaults_and_forms),
      cmocka_unit_test(test_lengths),      cmocka_unit_test(test_size_cap),
      cmocka_unit_test(test_errors),       cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_every_prefix), cmocka_unit_test(test_failmalloc),
      cmocka_unit_test(test_load_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
