/* SPDX-License-Identifier: MIT */
/* Public token API (azrelay/token.h): connection strings and SAS tokens through the installed header only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define TOKEN_3_2                                                                                             \
  "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1" \
  "reQe2N0VvUQN%2Fjc2k%3D&se=1700000000&skn=RootManageSharedAccessKey"

static void test_connection_string(void **state) {
  (void)state;
  azr_connection_string *cs = NULL;
  char err[128];
  assert_int_equal(azr_connection_string_parse("Endpoint=sb://Contoso.servicebus.windows.net:5671/;SharedAccessKeyName="
                                               "RootManageSharedAccessKey;SharedAccessKey=" KEY ";EntityPath=hyco",
                                               &cs, err, sizeof err),
                   AZR_OK);
  assert_non_null(cs);
  assert_string_equal(cs->endpoint, "sb://Contoso.servicebus.windows.net:5671/");
  assert_string_equal(cs->host, "contoso.servicebus.windows.net");
  assert_int_equal(cs->port, 5671);
  assert_string_equal(cs->key_name, "RootManageSharedAccessKey");
  assert_string_equal(cs->key, KEY);
  assert_null(cs->shared_access_signature);
  assert_string_equal(cs->entity_path, "hyco");
  assert_false(cs->use_development_emulator);
  azr_connection_string_free(cs);

  assert_int_equal(azr_connection_string_parse("Endpoint=sb://h/;SharedAccessSignature=" TOKEN_3_2
                                               ";UseDevelopmentEmulator=true",
                                               &cs, NULL, 0),
                   AZR_OK);
  assert_string_equal(cs->shared_access_signature, TOKEN_3_2);
  assert_null(cs->key);
  assert_true(cs->use_development_emulator);
  azr_connection_string_free(cs);

  cs = (azr_connection_string *)1;
  assert_int_equal(azr_connection_string_parse("Endpoint=sb://h/;SharedAccessKey=" KEY, &cs, err, sizeof err),
                   AZR_E_BAD_CONNSTR);
  assert_null(cs);
  assert_non_null(strstr(err, "SharedAccessKeyName"));
  assert_null(strstr(err, KEY));
  assert_int_equal(azr_connection_string_parse(NULL, &cs, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr_connection_string_parse("x", NULL, err, sizeof err), AZR_E_INVALID_ARG);
  azr_connection_string_free(NULL);
}

static void test_tokens(void **state) {
  (void)state;
  char *t = NULL;
  assert_int_equal(azr_sas_token_create("http://contoso.servicebus.windows.net/hyco/", "RootManageSharedAccessKey", KEY,
                                        1700000000, &t),
                   AZR_OK);
  assert_string_equal(t, TOKEN_3_2);
  azr_free(t);
  assert_int_equal(azr_sas_token_for_entity("CONTOSO.servicebus.windows.net:443", "/hyco", "RootManageSharedAccessKey",
                                            KEY, 1700000000, &t),
                   AZR_OK);
  assert_string_equal(t, TOKEN_3_2);
  azr_free(t);
  /* Namespace-wide audience. */
  assert_int_equal(azr_sas_token_for_entity("h", NULL, "k", KEY, 1, &t), AZR_OK);
  assert_true(strncmp(t, "SharedAccessSignature sr=http%3A%2F%2Fh%2F&sig=", 47) == 0);
  azr_free(t);

  t = (char *)1;
  assert_int_equal(azr_sas_token_create("", "k", KEY, 1, &t), AZR_E_INVALID_ARG);
  assert_null(t);
  assert_int_equal(azr_sas_token_create(NULL, "k", KEY, 1, &t), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_create("http://h/", NULL, KEY, 1, &t), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_create("http://h/", "k", "", 1, &t), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_create("http://h/", "k", KEY, -1, &t), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_create("http://h/", "k", KEY, 1, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_for_entity("", "e", "k", KEY, 1, &t), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_for_entity(NULL, "e", "k", KEY, 1, &t), AZR_E_INVALID_ARG);
  assert_null(t);
  /* An audience too long for a token is an argument error, not a crash. */
  static char huge[20000];
  memset(huge, 'a', sizeof huge - 1);
  memcpy(huge, "http://", 7);
  assert_int_equal(azr_sas_token_create(huge, "k", KEY, 1, &t), AZR_E_INVALID_ARG);
  assert_int_equal(azr_sas_token_for_entity("h", huge, "k", KEY, 1, &t), AZR_E_INVALID_ARG);
  azr_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_connection_string),
      cmocka_unit_test(test_tokens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
