/* SPDX-License-Identifier: MIT */
/* docs/FEATURES.md and the settings table agree: every setting has a row of the right kind and
 * status, every property/setting row names a real setting, and every reference method and event
 * is listed; the Test column names registered tests, and a done row names at least one. The file
 * comes from AZR_FEATURES_MD or argv[1]; the registered names from AZR_TEST_NAMES (one per line,
 * written by tests/CMakeLists.txt at configure time). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ftw.h>

#include "config/settings_table.h"

#ifndef AZR_FEATURES_MD
#define AZR_FEATURES_MD "docs/FEATURES.md"
#endif

#ifndef AZR_TEST_NAMES
#define AZR_TEST_NAMES "ctest_names.txt"
#endif
#ifndef AZR_TESTS_DIR
#define AZR_TESTS_DIR "tests"
#endif
/* What this build leaves out (tests/prerequisites.cmake): empty in a full build, where every name in
 * the Test column must be registered; else e.g. "node;sanitized", and a name that a fragment
 * registers but this build does not is accepted with a note. */
#ifndef AZR_TESTS_LEFT_OUT
#define AZR_TESTS_LEFT_OUT ""
#endif

#define MAX_ROWS 400
#define CELLS 5

struct row {
  char cell[CELLS][600]; /* item (base name, without backticks or [index]), kind, API, status, test */
  int line;
};

static const char *doc_path = AZR_FEATURES_MD;
static struct row rows[MAX_ROWS];
static size_t row_count;

static void trim_copy(char *dst, size_t cap, const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '`')) {
    s++;
    n--;
  }
  while (n && (s[n - 1] == ' ' || s[n - 1] == '`' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  if (n >= cap) n = cap - 1;
  memcpy(dst, s, n);
  dst[n] = 0;
}

/* Reads every table row with five cells (header and separator rows skipped). */
static int load(void **state) {
  (void)state;
  FILE *f = fopen(doc_path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", doc_path);
    return -1;
  }
  char line[4096];
  int no = 0;
  while (fgets(line, sizeof line, f)) {
    no++;
    if (line[0] != '|' || strstr(line, "---|") || strncmp(line, "| Reference item", 16) == 0) continue;
    struct row r;
    memset(&r, 0, sizeof r);
    r.line = no;
    const char *p = line + 1;
    size_t c = 0;
    for (; c < CELLS; c++) {
      const char *bar = strchr(p, '|');
      if (!bar) break;
      trim_copy(r.cell[c], sizeof r.cell[c], p, (size_t)(bar - p));
      p = bar + 1;
    }
    if (c != CELLS) {
      fprintf(stderr, "%s:%d: expected %d cells\n", doc_path, no, CELLS);
      fclose(f);
      return -1;
    }
    char *bracket = strchr(r.cell[0], '[');
    if (bracket) *bracket = 0;
    if (row_count < MAX_ROWS) rows[row_count++] = r;
  }
  fclose(f);
  return row_count ? 0 : -1;
}

static const struct row *find_row(const char *name, const char *kind) {
  for (size_t i = 0; i < row_count; i++)
    if (strcmp(rows[i].cell[0], name) == 0 && (!kind || strcmp(rows[i].cell[1], kind) == 0)) return &rows[i];
  return NULL;
}

static const char *kind_of(const struct azr__setting_desc *d) {
  if (d->flags & AZR__SETTING_PROPERTY) return "Property";
  if (d->flags & AZR__SETTING_OURS) return "azrelay setting";
  return "Config setting";
}

static void test_every_setting_documented(void **state) {
  (void)state;
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    const struct row *r = find_row(d->name, NULL);
    if (!r) fail_msg("%s has no row in %s", d->name, doc_path);
    if (strcmp(r->cell[1], kind_of(d)) != 0)
      fail_msg("%s:%d: %s is a %s, the row says %s", doc_path, r->line, d->name, kind_of(d), r->cell[1]);
    bool na_doc = strncmp(r->cell[3], "not applicable", 14) == 0;
    bool na = (d->flags & AZR__SETTING_NOT_APPLICABLE) != 0;
    if (na != na_doc) fail_msg("%s:%d: %s status '%s' disagrees with the table", doc_path, r->line, d->name, r->cell[3]);
    /* A setting reached by name shows that name in its API column. */
    if (!(d->flags & AZR__SETTING_HANDLED_BY_LISTENER) && !strstr(r->cell[2], d->name))
      fail_msg("%s:%d: the API column of %s does not name the setting", doc_path, r->line, d->name);
  }
}

static void test_every_setting_row_exists_in_table(void **state) {
  (void)state;
  size_t n = 0;
  for (size_t i = 0; i < row_count; i++) {
    const struct row *r = &rows[i];
    if (strcmp(r->cell[1], "Property") && strcmp(r->cell[1], "Config setting") && strcmp(r->cell[1], "azrelay setting"))
      continue;
    n++;
    const struct azr__setting_desc *d = azr__settings_find(r->cell[0], strlen(r->cell[0]));
    if (!d || strcmp(d->name, r->cell[0]) != 0) fail_msg("%s:%d: '%s' is not in the settings table", doc_path, r->line, r->cell[0]);
    for (size_t j = 0; j < i; j++)
      if (strcmp(rows[j].cell[0], r->cell[0]) == 0 && strcmp(rows[j].cell[1], r->cell[1]) == 0)
        fail_msg("%s:%d: '%s' is listed twice", doc_path, r->line, r->cell[0]);
  }
  assert_int_equal(n, azr__settings_count());
}

static void test_methods_and_events_documented(void **state) {
  (void)state;
  static const char *const methods[] = {"Config",      "Disconnect", "DoEvents", "Interrupt",        "PauseData",
                                        "ProcessData", "Send",       "SendBytes", "SendFile",         "SendHTTPResponse",
                                        "SendText",    "Shutdown",   "StartListening", "StopListening"};
  static const char *const events[] = {"Connected",          "ConnectionConnected",    "ConnectionDataIn",
                                       "ConnectionDisconnected", "ConnectionError",    "ConnectionReadyToSend",
                                       "ConnectionRequest",  "ConnectionStatus",       "Disconnected",
                                       "Error",              "Header",                 "HTTPRequest",
                                       "Log",                "Redirect",               "SSLServerAuthentication",
                                       "SSLStatus"};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (!find_row(methods[i], "Method")) fail_msg("method %s is not documented", methods[i]);
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
    if (!find_row(events[i], "Event")) fail_msg("event %s is not documented", events[i]);
  /* Every row has a status and a test cell. */
  for (size_t i = 0; i < row_count; i++) {
    if (!rows[i].cell[3][0] || !rows[i].cell[4][0]) fail_msg("%s:%d: empty status or test cell", doc_path, rows[i].line);
    const char *st = rows[i].cell[3];
    if (strncmp(st, "done", 4) && strncmp(st, "in progress", 11) && strncmp(st, "not applicable: ", 16))
      fail_msg("%s:%d: status '%s' is not done / in progress / not applicable: reason", doc_path, rows[i].line, st);
  }
}

/* ---- the Test column ---- */

static char *registered; /* "\nname1\nname2\n...\n" */

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  char *s = malloc(cap);
  size_t n;
  while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) {
      char *t = realloc(s, cap *= 2);
      if (!t) free(s);
      s = t;
    }
  }
  fclose(f);
  if (s) s[len] = 0;
  return s;
}

static bool is_registered(const char *name) {
  char needle[200];
  snprintf(needle, sizeof needle, "\n%s\n", name);
  return strstr(registered, needle) != NULL;
}

/* In a build that leaves suites out (AZR_TESTS_LEFT_OUT), accept a name that a test fragment
 * registers literally, as azr_x_test(NAME ...) or add_test(NAME NAME ...). */
static const char *wanted;
static bool found_in_fragment;

static bool is_word(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

static int scan_fragment(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type != FTW_F) return 0;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t bl = strlen(base);
  if (strcmp(base, "CMakeLists.txt") != 0 && !(bl > 6 && strcmp(base + bl - 6, ".cmake") == 0)) return 0;
  if (strstr(path, "/node_modules/")) return 0;
  char *text = read_all(path);
  if (!text) return 0;
  size_t wl = strlen(wanted);
  for (const char *p = text; (p = strstr(p, wanted)) != NULL; p += wl) {
    if (p > text && (is_word(p[-1]) || p[-1] == '$' || p[-1] == '{')) continue;
    if (is_word(p[wl])) continue;
    /* registered by a call: "(name " or "(NAME name " */
    const char *q = p;
    while (q > text && q[-1] == ' ') q--;
    if (q > text && q[-1] == '(') found_in_fragment = true;
    if (q - text >= 5 && strncmp(q - 5, "NAME ", 5) == 0) found_in_fragment = true;
    if (found_in_fragment) break;
  }
  /* or in a loop: "prefix_${c}" with the rest of the name as a word of the same file */
  for (const char *p = text; !found_in_fragment && (p = strstr(p, "${")) != NULL; p += 2) {
    const char *start = p;
    while (start > text && is_word(start[-1])) start--;
    size_t pl = (size_t)(p - start);
    if (pl == 0 || pl >= wl || strncmp(wanted, start, pl) != 0) continue;
    const char *rest = wanted + pl;
    size_t rl = wl - pl;
    for (const char *q = text; (q = strstr(q, rest)) != NULL; q += rl)
      if ((q == text || !is_word(q[-1])) && !is_word(q[rl])) {
        found_in_fragment = true;
        break;
      }
  }
  free(text);
  return found_in_fragment ? 1 : 0;
}

static bool registered_in_fragments(const char *name) {
  wanted = name;
  found_in_fragment = false;
  nftw(AZR_TESTS_DIR, scan_fragment, 16, FTW_PHYS);
  return found_in_fragment;
}

static void test_named_tests_exist(void **state) {
  (void)state;
  registered = NULL;
  char *list = read_all(AZR_TEST_NAMES);
  if (!list) fail_msg("cannot read the registered test names from %s", AZR_TEST_NAMES);
  size_t n = strlen(list);
  registered = malloc(n + 3);
  assert_non_null(registered);
  snprintf(registered, n + 3, "\n%s\n", list);
  free(list);
  int checked = 0;
  for (size_t i = 0; i < row_count; i++) {
    const struct row *r = &rows[i];
    bool done = strncmp(r->cell[3], "done", 4) == 0;
    int names = 0;
    const char *p = r->cell[4];
    while (*p) {
      while (*p == ' ' || *p == ',') p++;
      if (!*p) break;
      char name[160];
      size_t len = 0;
      while (p[len] && p[len] != ',') len++;
      size_t tl = len;
      while (tl && p[tl - 1] == ' ') tl--;
      if (tl >= sizeof name) tl = sizeof name - 1;
      memcpy(name, p, tl);
      name[tl] = 0;
      p += len;
      if (strcmp(name, "TBD") == 0) {
        if (done) fail_msg("%s:%d: %s is done but its test is TBD", doc_path, r->line, r->cell[0]);
        continue;
      }
      for (const char *c = name; *c; c++)
        if (!is_word(*c)) fail_msg("%s:%d: '%s' in the Test column is not a test name", doc_path, r->line, name);
      if (!is_registered(name)) {
        bool full_build = AZR_TESTS_LEFT_OUT[0] == 0;
        if (full_build || !registered_in_fragments(name)) {
          free(registered);
          fail_msg("%s:%d: %s names the test '%s', which %s", doc_path, r->line, r->cell[0], name,
                   full_build ? "this full build does not register" : "no CMake file registers");
        }
        printf("note: %s is not registered in this build (it leaves out: %s)\n", name, AZR_TESTS_LEFT_OUT);
      }
      names++;
      checked++;
    }
    if (done && names == 0) fail_msg("%s:%d: %s is done but names no test", doc_path, r->line, r->cell[0]);
  }
  free(registered);
  assert_true(checked > 0);
}

int main(int argc, char **argv) {
  if (argc > 1) doc_path = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_setting_documented),
      cmocka_unit_test(test_every_setting_row_exists_in_table),
      cmocka_unit_test(test_methods_and_events_documented),
      cmocka_unit_test(test_named_tests_exist),
  };
  return cmocka_run_group_tests(tests, load, NULL);
}
