/* SPDX-License-Identifier: MIT */
/* The CLI's stderr lines (tools/azrelay/cli_log.c): formats, filtering by verbosity, and JSON that
 * stays valid whatever bytes a message holds. stderr is redirected into a file for each case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli_log.h"

static char got[4096];

/* Runs fn with stderr going to a temporary file; its contents land in got. */
static void capture(void (*fn)(void)) {
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  assert_true(saved >= 0);
  assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
  fn();
  assert_true(dup2(saved, STDERR_FILENO) >= 0);
  close(saved);
  rewind(tmp);
  size_t n = fread(got, 1, sizeof got - 1, tmp);
  got[n] = 0;
  fclose(tmp);
}

static void emit_json(void) {
  cli_log_setup("listen", 1, CLI_FORMAT_JSON, true);
  cli_log(CLI_INFO, "quote \" backslash \\ tab \t bell \x07 bad \xff\xfe ok \xc3\xa9");
  cli_log_library(2, "control", "hidden at verbosity 1", NULL);
  cli_log_library(1, "rendezvous", "shown", NULL);
}

static void test_json(void **state) {
  (void)state;
  capture(emit_json);
  const char *want = ",\"level\":\"info\",\"command\":\"listen\",\"category\":\"listen\",\"message\":"
                     "\"quote \\\" backslash \\\\ tab \\u0009 bell \\u0007 bad \\ufffd\\ufffd ok \xc3\xa9\"}\n";
  assert_non_null(strstr(got, want));
  assert_non_null(strstr(got, "\"category\":\"rendezvous\",\"message\":\"shown\"}\n"));
  assert_null(strstr(got, "hidden"));
  assert_int_equal(strncmp(got, "{\"time\":\"", 9), 0);
}

static void emit_text(void) {
  cli_log_setup("connect", 0, CLI_FORMAT_TEXT, false);
  cli_log(CLI_INFO, "not at -q");
  cli_log(CLI_WARN, "not at -q either");
  cli_log(CLI_ERROR, "always");
}

static void test_text_quiet(void **state) {
  (void)state;
  capture(emit_text);
  /* "2026-01-02T03:04:05.678Z azrelay connect: always\n" */
  assert_int_equal(strlen(got), 25 + strlen("azrelay connect: always\n"));
  assert_int_equal(got[10], 'T');
  assert_int_equal(got[23], 'Z');
  assert_string_equal(got + 25, "azrelay connect: always\n");
}

static void emit_plain(void) {
  cli_log_setup("emulator", 1, CLI_FORMAT_PLAIN, true);
  cli_log_hide_category("control");
  cli_log_library(1, "control", "hidden at the default level", NULL);
  cli_log(CLI_WARN, "careful");
  cli_log(CLI_VERBOSE, "only with -v");
  cli_log_library(1, "emulator", "up", NULL);
}

static void test_plain_and_hidden(void **state) {
  (void)state;
  capture(emit_plain);
  assert_string_equal(got, "azrelay emulator: warning: careful\n[emulator] up\n");
}

static void test_format_names(void **state) {
  (void)state;
  enum cli_log_format f;
  assert_true(cli_log_format_parse("json", &f) && f == CLI_FORMAT_JSON);
  assert_true(cli_log_format_parse("auto", &f) && f == CLI_FORMAT_AUTO);
  assert_false(cli_log_format_parse("JSON", &f));
  assert_false(cli_log_format_parse("", &f));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_text_quiet),
      cmocka_unit_test(test_plain_and_hidden),
      cmocka_unit_test(test_format_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
