/* SPDX-License-Identifier: MIT */
/* The settings table and engine: every name, its default, bounds, spellings, secrets, the
 * not-applicable and listener-handled rows, state rules and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "config/settings.h"
#include "config/settings_table.h"

static char last_err[512];

static int set_in(struct azr__listener_settings *s, bool listening, const char *name, const char *value) {
  struct azr__settings_context ctx = {listening};
  last_err[0] = 0;
  return azr__settings_set(NULL, s, &ctx, name, strlen(name), value, last_err, sizeof last_err);
}

static int set(struct azr__listener_settings *s, const char *name, const char *value) {
  return set_in(s, false, name, value);
}

/* The value as text into out (size 4096); returns the status. */
static int get(const struct azr__listener_settings *s, const char *name, char *out) {
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  int rc = azr__settings_get(s, name, &b);
  snprintf(out, 4096, "%s", azr__buf_cstr(&b));
  azr__buf_free(&b);
  return rc;
}

static bool is_listener(const struct azr__setting_desc *d) { return (d->flags & AZR__SETTING_HANDLED_BY_LISTENER) != 0; }
static bool is_na(const struct azr__setting_desc *d) { return (d->flags & AZR__SETTING_NOT_APPLICABLE) != 0; }

/* Every reference name we must have, from the reference's lists (properties and config settings). */
static const char *const reference_names[] = {
    "AccessKey", "AccessKeyName", "Connected", "AzureRelayConnectionCount", "AzureRelayConnectionAcceptData",
    "AzureRelayConnectionAddress", "AzureRelayConnectionBytesSent", "AzureRelayConnectionConnected",
    "AzureRelayConnectionConnectHeaders", "AzureRelayConnectionConnectionId", "AzureRelayConnectionDataFormat",
    "AzureRelayConnectionDataToSend", "AzureRelayConnectionExtensions", "AzureRelayConnectionHost",
    "AzureRelayConnectionId", "AzureRelayConnectionReadyToSend", "AzureRelayConnectionRemoteAddress",
    "AzureRelayConnectionRemotePort", "AzureRelayConnectionSubProtocols", "AzureRelayConnectionTimeout",
    "DefaultTimeout", "FirewallAutoDetect", "FirewallType", "FirewallHost", "FirewallPassword", "FirewallPort",
    "FirewallUser", "ForwardingHost", "ForwardingPort", "HybridConnection", "Listening", "LocalHost",
    "NamespaceAddress", "ProxyAuthScheme", "ProxyAutoDetect", "ProxyPassword", "ProxyPort", "ProxyServer", "ProxySSL",
    "ProxyUser", "SSLAcceptServerCertEncoded", "SSLCertEncoded", "SSLCertStore", "SSLCertStorePassword",
    "SSLCertStoreType", "SSLCertSubject", "SSLProvider", "SSLServerCertEncoded",
    /* config settings */
    "AccessToken", "AutoRenewThreshold", "AzureRelayKeepAliveTime", "DiagnosticId", "LogLevel", "TokenValidity",
    "BufferMessage", "DisconnectStatusCode", "DisconnectStatusDescription", "MaxFrameSize", "MessageLength",
    "WaitForCloseResponse", "AllowedClients", "BindExclusively", "BlockedClients", "ConnectionUID",
    "DefaultConnectionTimeout", "InBufferSize", "KeepAliveInterval", "KeepAliveRetryCount", "KeepAliveTime",
    "MaxConnections", "MaxReadTime", "OutBufferSize", "TcpNoDelay", "UseIOCP", "UseIPv6", "UseWindowsMessages",
    "LogSSLPackets", "OpenSSLCADir", "OpenSSLCAFile", "OpenSSLCipherList", "OpenSSLPrngSeedData", "ReuseSSLSession",
    "SSLCACertFilePaths", "SSLCACerts", "SSLCipherStrength", "SSLEnabledCipherSuites", "SSLEnabledProtocols",
    "SSLEnableRenegotiation", "SSLIncludeCertChain", "SSLKeyLogFile", "SSLNegotiatedCipher",
    "SSLNegotiatedCipherStrength", "SSLNegotiatedCipherSuite", "SSLNegotiatedKeyExchange",
    "SSLNegotiatedKeyExchangeStrength", "SSLNegotiatedVersion", "SSLSecurityFlags", "SSLServerCACerts",
    "TLS12SignatureAlgorithms", "TLS12SupportedGroups", "TLS13KeyShareGroups", "TLS13SignatureAlgorithms",
    "TLS13SupportedGroups"};

static void test_table_covers_reference(void **state) {
  (void)state;
  size_t n = sizeof reference_names / sizeof reference_names[0];
  assert_int_equal(n, 103);
  for (size_t i = 0; i < n; i++) {
    const struct azr__setting_desc *d = azr__settings_find(reference_names[i], strlen(reference_names[i]));
    if (!d) fail_msg("missing reference item %s", reference_names[i]);
    assert_string_equal(d->name, reference_names[i]);
    assert_false(d->flags & AZR__SETTING_OURS);
  }
  /* Exactly the reference's items plus ours. */
  size_t ours = 0;
  for (size_t i = 0; i < azr__settings_count(); i++) ours += (azr__settings_at(i)->flags & AZR__SETTING_OURS) != 0;
  assert_int_equal(azr__settings_count(), n + ours);
  assert_int_equal(ours, 16);
  assert_null(azr__settings_at(azr__settings_count()));
}

static void test_table_rows_consistent(void **state) {
  (void)state;
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    assert_non_null(d->description);
    assert_true(strlen(d->description) > 10);
    for (size_t j = 0; j < i; j++) assert_true(strcasecmp(d->name, azr__settings_at(j)->name) != 0);
    if (is_listener(d) || is_na(d)) assert_int_equal(d->offset, SIZE_MAX);
    if (!is_listener(d) && !is_na(d)) {
      assert_true(d->offset < sizeof(struct azr__listener_settings));
      assert_non_null(d->default_text);
      assert_true(d->min <= d->max);
    }
    if (d->type == AZR__SETTING_ENUM) assert_non_null(d->values);
    /* Names are found whatever their case and surrounding blanks. */
    char upper[128], padded[140];
    size_t k = 0;
    for (; d->name[k] && k < sizeof upper - 1; k++) upper[k] = (char)((d->name[k] >= 'a' && d->name[k] <= 'z') ? d->name[k] - 32 : d->name[k]);
    upper[k] = 0;
    assert_ptr_equal(azr__settings_find(upper, strlen(upper)), d);
    snprintf(padded, sizeof padded, "  %s\t", d->name);
    assert_ptr_equal(azr__settings_find(padded, strlen(padded)), d);
  }
  assert_null(azr__settings_find("AccessKe", 8));
  assert_null(azr__settings_find("AccessKeyX", 10));
}

static void test_defaults_after_init(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  char v[4096];
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    int rc = get(&s, d->name, v);
    if (is_listener(d)) {
      assert_int_equal(rc, AZR_E_NOT_FOUND);
    } else if (is_na(d) && !d->default_text) {
      assert_int_equal(rc, AZR_E_UNSUPPORTED);
    } else {
      if (rc != AZR_OK) fail_msg("%s: %d", d->name, rc);
      const char *want = (d->flags & AZR__SETTING_SECRET) ? "" : d->default_text;
      if (strcmp(v, want) != 0) fail_msg("%s: default '%s', want '%s'", d->name, v, want);
    }
  }
  /* The defaults settings.h documents, seen in the struct itself. */
  assert_int_equal(s.token_validity_s, 3600);
  assert_int_equal(s.auto_renew_threshold_s, 300);
  assert_int_equal(s.log_level, 1);
  assert_int_equal(s.keepalive_s, 30);
  assert_int_equal(s.ping_timeout_s, 0);
  assert_int_equal(s.tcp_keepalive_time_ms, 60000);
  assert_int_equal(s.tcp_keepalive_interval_ms, 10000);
  assert_int_equal(s.tcp_keepalive_count, 6);
  assert_int_equal(s.reconnect_first_ms, 1000);
  assert_int_equal(s.reconnect_max_ms, 30000);
  assert_false(s.buffer_message);
  assert_int_equal(s.max_message_size, 16 * 1024 * 1024);
  assert_int_equal(s.disconnect_status_code, 1000);
  assert_int_equal(s.max_frame_size, 131072);
  assert_true(s.wait_for_close_response);
  assert_null(s.allowed_clients); /* NULL reads back as "*" */
  assert_int_equal(s.max_connections, 1000);
  assert_int_equal(s.max_http_requests, 1000);
  assert_int_equal(s.send_queue_size, 4 * 1024 * 1024);
  assert_int_equal(s.connect_timeout_ms, 30000);
  assert_int_equal(s.proxy_port, 80);
  assert_int_equal(s.ip_version, 0);
  assert_true(s.reuse_ssl_session);
  assert_int_equal(s.enabled_protocols, 0x3C00);
  azr__settings_free(NULL, &s);
}

/* A valid, non-default value for a settable row, and what it reads back as. */
static bool sample_value(const struct azr__setting_desc *d, char *value, char *readback) {
  static const struct {
    const char *name, *value, *readback;
  } special[] = {
      {"DiagnosticId", "f479cece-a32d-4caf-aed3-6dcc3b7b661e", NULL},
      {"AllowedClients", "10.0.0.0/8, ::1", NULL},
      {"BlockedClients", "192.168.*", NULL},
      {"SSLEnabledProtocols", "0x3000", "12288"},
      {"SSLSecurityFlags", "0x80000000", "2147483648"},
      {"SSLCertStoreType", "2", NULL},
      {"UseIPv6", "1", NULL},
      {"SSLEnabledCipherSuites", "TLS_AES_256_GCM_SHA384", NULL},
      {"TLS12SupportedGroups", "ecdhe_secp384r1", NULL},
      {"TLS13SupportedGroups", "ecdhe_x25519,ecdhe_secp256r1", NULL},
      {"SSLCACertFilePaths", "/nonexistent/a.pem;" AZR_TEST_READABLE_FILE, AZR_TEST_READABLE_FILE},
      {"SSLAcceptServerCertEncoded", "*", NULL},
      {"ProxyAuthScheme", "4", NULL},
      {"FirewallType", "3", NULL},
      {"NamespaceAddress", "contoso.servicebus.windows.net:5671", NULL},
      {"TLS12SignatureAlgorithms", "sha256-ecdsa,sha384-rsa", NULL},
      {"TLS13SignatureAlgorithms", "ecdsa_secp256r1_sha256", NULL},
  };
  for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
    if (strcmp(special[i].name, d->name) != 0) continue;
    strcpy(value, special[i].value);
    strcpy(readback, special[i].readback ? special[i].readback : special[i].value);
    return true;
  }
  if (d->flags & AZR__SETTING_MULTILINE) return false; /* PEM rows: test_settings_transport.c */
  switch (d->type) {
    case AZR__SETTING_BOOL:
      strcpy(value, strcmp(d->default_text, "true") == 0 ? "false" : "true");
      break;
    case AZR__SETTING_INT:
    case AZR__SETTING_INT64:
      snprintf(value, 64, "%lld", (long long)(strtoll(d->default_text, NULL, 10) == d->max ? d->min : d->max));
      break;
    case AZR__SETTING_ENUM: {
      const char *last = strrchr(d->values, ',');
      snprintf(value, 64, "%ld", strtol(last ? last + 1 : d->values, NULL, 10));
      break;
    }
    case AZR__SETTING_FLAGS: return false;
    case AZR__SETTING_STRING: snprintf(value, 64, "value-of-%s", d->name); break;
  }
  strcpy(readback, value);
  return true;
}

static void test_every_setting_roundtrips(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  char value[4096], readback[4096], v[4096];
  size_t done = 0;
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    if (is_listener(d) || is_na(d) || (d->flags & AZR__SETTING_READ_ONLY)) continue;
    if (!sample_value(d, value, readback)) continue;
    if (set(&s, d->name, value) != AZR_OK) fail_msg("%s=%s: %s", d->name, value, last_err);
    assert_int_equal(get(&s, d->name, v), AZR_OK);
    if (d->flags & AZR__SETTING_SECRET)
      assert_string_equal(v, "");
    else if (strcmp(v, readback) != 0)
      fail_msg("%s: set '%s', read '%s'", d->name, value, v);
    /* Setting it again replaces the first value without leaking it. */
    assert_int_equal(set(&s, d->name, value), AZR_OK);
    done++;
  }
  assert_int_equal(done, 76); /* 119 rows - 29 listener - 12 not applicable - 2 PEM rows */
  azr__settings_free(NULL, &s); /* ASan proves every string was released */
  assert_null(s.access_key);
  assert_int_equal(s.token_validity_s, 3600);
}

static void test_bool_spellings(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  static const char *const yes[] = {"true", "TRUE", "True", "1", "yes", "YES", " yes ", "\ttrue\n"};
  static const char *const no[] = {"false", "FALSE", "0", "no", "No", " 0 "};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    s.buffer_message = false;
    assert_int_equal(set(&s, "BufferMessage", yes[i]), AZR_OK);
    assert_true(s.buffer_message);
  }
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
    s.buffer_message = true;
    assert_int_equal(set(&s, "BufferMessage", no[i]), AZR_OK);
    assert_false(s.buffer_message);
  }
  static const char *const bad[] = {"", "2", "on", "off", "truee", "t", "-1", "ye s"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    s.buffer_message = true;
    assert_int_equal(set(&s, "BufferMessage", bad[i]), AZR_E_INVALID_ARG);
    assert_true(s.buffer_message);
    assert_non_null(strstr(last_err, "BufferMessage"));
    assert_non_null(strstr(last_err, "boolean"));
  }
  azr__settings_free(NULL, &s);
}

static void test_number_bounds(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  char v[4096], text[64];
  size_t checked = 0;
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    if (is_listener(d) || is_na(d) || (d->type != AZR__SETTING_INT && d->type != AZR__SETTING_INT64)) continue;
    assert_int_equal(get(&s, d->name, v), AZR_OK);
    char before[4096];
    strcpy(before, v);
    if (d->min > INT64_MIN) {
      snprintf(text, sizeof text, "%lld", (long long)d->min - 1);
      assert_int_equal(set(&s, d->name, text), AZR_E_INVALID_ARG);
      assert_non_null(strstr(last_err, "out of range"));
    }
    if (d->max < INT64_MAX) {
      snprintf(text, sizeof text, "%lld", (long long)d->max + 1);
      assert_int_equal(set(&s, d->name, text), AZR_E_INVALID_ARG);
    }
    assert_int_equal(set(&s, d->name, "12abc"), AZR_E_INVALID_ARG);
    assert_int_equal(set(&s, d->name, ""), AZR_E_INVALID_ARG);
    assert_int_equal(set(&s, d->name, "0x10"), AZR_E_INVALID_ARG); /* hex only for masks */
    assert_int_equal(set(&s, d->name, "99999999999999999999999"), AZR_E_INVALID_ARG);
    assert_int_equal(get(&s, d->name, v), AZR_OK);
    assert_string_equal(v, before); /* failures change nothing */
    snprintf(text, sizeof text, " %lld ", (long long)d->min);
    if (strcmp(d->name, "DisconnectStatusCode") != 0) assert_int_equal(set(&s, d->name, text), AZR_OK);
    snprintf(text, sizeof text, "+%lld", (long long)d->max);
    assert_int_equal(set(&s, d->name, text), AZR_OK);
    checked++;
  }
  assert_int_equal(checked, 25);
  assert_int_equal(set(&s, "MaxConnections", "100000"), AZR_OK);
  assert_int_equal(s.max_connections, 100000);
  assert_int_equal(set(&s, "MaxConnections", "100001"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "MaxConnections", "-1"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SendQueueSize", "1073741824"), AZR_OK);
  assert_int_equal(s.send_queue_size, 1073741824);
  azr__settings_free(NULL, &s);
}

static void test_enums(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  assert_int_equal(set(&s, "LogLevel", "3"), AZR_OK);
  assert_int_equal(s.log_level, 3);
  assert_int_equal(set(&s, "LogLevel", "4"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "FirewallType", "4"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "10 SOCKS4A"));
  assert_int_equal(set(&s, "FirewallType", "10"), AZR_OK);
  assert_int_equal(s.firewall_type, 10);
  assert_int_equal(set(&s, "ProxySSL", "1"), AZR_OK);
  assert_int_equal(s.proxy_ssl, 1);
  assert_int_equal(set(&s, "ProxySSL", "-1"), AZR_E_INVALID_ARG);
  azr__settings_free(NULL, &s);
}

static void test_secrets_read_back_empty(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  char v[4096];
  size_t secrets = 0;
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    if (!(d->flags & AZR__SETTING_SECRET)) continue;
    assert_int_equal(set(&s, d->name, "s3cret-Value="), AZR_OK);
    assert_int_equal(get(&s, d->name, v), AZR_OK);
    assert_string_equal(v, "");
    secrets++;
  }
  assert_int_equal(secrets, 5);
  assert_string_equal(s.access_key, "s3cret-Value=");
  assert_string_equal(s.sas_token, "s3cret-Value=");
  assert_string_equal(s.proxy_password, "s3cret-Value=");
  assert_string_equal(s.firewall_password, "s3cret-Value=");
  assert_string_equal(s.client_cert_password, "s3cret-Value=");
  /* Error messages never echo a secret. */
  assert_int_equal(set(&s, "AccessKey", "bad\x01key"), AZR_E_INVALID_ARG);
  assert_null(strstr(last_err, "bad"));
  assert_string_equal(s.access_key, "s3cret-Value=");
  azr__settings_free(NULL, &s);
}

static void test_not_applicable(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  char v[4096];
  size_t n = 0;
  for (size_t i = 0; i < azr__settings_count(); i++) {
    const struct azr__setting_desc *d = azr__settings_at(i);
    if (!is_na(d)) continue;
    n++;
    /* A value that is never what azrelay does. */
    const char *other = d->type == AZR__SETTING_BOOL ? (d->default_text && strcmp(d->default_text, "true") == 0 ? "false" : "true")
                        : d->type == AZR__SETTING_STRING ? "some-value"
                                                         : "2";
    assert_int_equal(set(&s, d->name, other), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(last_err, d->name));
    assert_non_null(strstr(last_err, "not applicable"));
    assert_non_null(strstr(last_err, d->description)); /* the reason */
    if (d->default_text) {
      /* What azrelay does anyway is accepted as a no-op and reads back. */
      assert_int_equal(set(&s, d->name, d->default_text), AZR_OK);
      assert_int_equal(get(&s, d->name, v), AZR_OK);
      assert_string_equal(v, d->default_text);
    } else {
      assert_int_equal(get(&s, d->name, v), AZR_E_UNSUPPORTED);
    }
  }
  assert_true(n >= 12);
  /* The documented accepted spellings. */
  assert_int_equal(set(&s, "SSLProvider", "1"), AZR_OK);
  assert_int_equal(set(&s, "SSLProvider", "0"), AZR_OK);
  assert_int_equal(set(&s, "SSLCertSubject", "*"), AZR_OK);
  assert_int_equal(set(&s, "SSLCertSubject", "CN=client"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "UseIOCP", "0"), AZR_OK);
  assert_int_equal(set(&s, "UseIOCP", "yes"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "TcpNoDelay", "1"), AZR_OK);
  assert_int_equal(set(&s, "BindExclusively", "true"), AZR_E_UNSUPPORTED);
  azr__settings_free(NULL, &s);
}

static void test_unknown_and_listener_names(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  char v[4096];
  static const char *const names[] = {"NoSuchSetting", "", "AccessToken", "ConnectionUID", "MessageLength",
                                      "Connected", "Listening", "AzureRelayConnectionCount", "SSLNegotiatedCipher",
                                      "AzureRelayConnectionDataFormat", "SSLServerCertEncoded"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    assert_int_equal(set(&s, names[i], "1"), AZR_E_NOT_FOUND);
    assert_int_equal(get(&s, names[i], v), AZR_E_NOT_FOUND);
  }
  assert_int_equal(set(&s, "NoSuchSetting", "1"), AZR_E_NOT_FOUND);
  assert_string_equal(last_err, "unknown setting 'NoSuchSetting'");
  /* Indexed names are the listener's business too. */
  assert_int_equal(set(&s, "MessageLength[3]", "10"), AZR_E_NOT_FOUND);
  /* The name is the first name_len bytes: "LogLevel=2" as azr_listener_config passes it. */
  struct azr__settings_context ctx = {false};
  const char *setting = "LogLevel=2";
  assert_int_equal(azr__settings_set(NULL, &s, &ctx, setting, 8, setting + 9, last_err, sizeof last_err), AZR_OK);
  assert_int_equal(s.log_level, 2);
  assert_int_equal(azr__settings_set(NULL, &s, &ctx, " loglevel ", 10, "3", NULL, 0), AZR_OK);
  assert_int_equal(s.log_level, 3);
  assert_int_equal(azr__settings_set(NULL, &s, NULL, "LogLevel", 8, NULL, last_err, sizeof last_err), AZR_E_INVALID_ARG);
  azr__settings_free(NULL, &s);
}

static void test_no_change_while_listening(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  assert_int_equal(set(&s, "NamespaceAddress", "a.servicebus.windows.net"), AZR_OK);
  assert_int_equal(set_in(&s, true, "NamespaceAddress", "b.servicebus.windows.net"), AZR_E_BAD_STATE);
  assert_non_null(strstr(last_err, "while listening"));
  assert_string_equal(s.namespace_address, "a.servicebus.windows.net");
  assert_int_equal(set_in(&s, true, "HybridConnection", "hc"), AZR_E_BAD_STATE);
  assert_int_equal(set_in(&s, true, "UseDevelopmentEmulator", "true"), AZR_E_BAD_STATE);
  assert_int_equal(set_in(&s, true, "MaxConnections", "5"), AZR_E_CANT_CHANGE_MAX_CONNECTIONS);
  assert_int_equal(s.max_connections, 1000);
  /* Live key rotation and most tuning stay possible. */
  assert_int_equal(set_in(&s, true, "AccessKey", "bmV3LWtleQ=="), AZR_OK);
  assert_int_equal(set_in(&s, true, "SasToken", "SharedAccessSignature sr=x&sig=y&se=1&skn=z"), AZR_OK);
  assert_int_equal(set_in(&s, true, "TokenValidity", "60"), AZR_OK);
  assert_int_equal(set_in(&s, true, "LogLevel", "0"), AZR_OK);
  azr__settings_free(NULL, &s);
}

static void test_text_checks(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  assert_int_equal(set(&s, "HybridConnection", "hc\r\nX-Injected: 1"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "control character"));
  assert_int_equal(set(&s, "HybridConnection", "h\xc3\x28"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "UTF-8"));
  assert_int_equal(set(&s, "HybridConnection", "caf\xc3\xa9/orders"), AZR_OK);
  assert_int_equal(set(&s, "NamespaceAddress", "my relay"), AZR_E_INVALID_ARG);
  char big[400];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(set(&s, "NamespaceAddress", big), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "too long"));
  memset(big, 'x', 124);
  big[124] = 0;
  assert_int_equal(set(&s, "DisconnectStatusDescription", big), AZR_E_INVALID_ARG);
  big[123] = 0;
  assert_int_equal(set(&s, "DisconnectStatusDescription", big), AZR_OK);
  assert_int_equal(set(&s, "AllowedClients", ""), AZR_OK); /* explicit: nobody */
  assert_non_null(s.allowed_clients);
  assert_string_equal(s.allowed_clients, "");
  assert_int_equal(set(&s, "AllowedClients", "10.0.0.0/33"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "CIDR"));
  assert_int_equal(set(&s, "BlockedClients", "fd00::/129"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "BlockedClients", "fd00::/8, 10.*"), AZR_OK);
  azr__settings_free(NULL, &s);
}

static void test_validated_values(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  static const int reserved[] = {1004, 1005, 1006, 1015, 1016, 2999, 999, 5000};
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
    char t[16];
    snprintf(t, sizeof t, "%d", reserved[i]);
    assert_int_equal(set(&s, "DisconnectStatusCode", t), AZR_E_INVALID_ARG);
  }
  static const int fine[] = {1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999};
  for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
    char t[16];
    snprintf(t, sizeof t, "%d", fine[i]);
    assert_int_equal(set(&s, "DisconnectStatusCode", t), AZR_OK);
    assert_int_equal(s.disconnect_status_code, fine[i]);
  }
  assert_int_equal(set(&s, "DiagnosticId", "F479CECE-A32D-4CAF-AED3-6DCC3B7B661E"), AZR_OK);
  assert_int_equal(set(&s, "DiagnosticId", ""), AZR_OK);
  assert_int_equal(set(&s, "DiagnosticId", "f479cece-a32d-4caf-aed3-6dcc3b7b661"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "DiagnosticId", "f479cece_a32d-4caf-aed3-6dcc3b7b661e"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "DiagnosticId", "g479cece-a32d-4caf-aed3-6dcc3b7b661e"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "GUID"));
  azr__settings_free(NULL, &s);
}

/* ---- allocation failures ---- */

struct failmalloc {
  int left; /* allocations that still succeed */
  int live;
};

static void *fm_malloc(size_t n, void *ud) {
  struct failmalloc *f = ud;
  if (f->left-- <= 0) return NULL;
  f->live++;
  return malloc(n);
}
static void *fm_realloc(void *p, size_t n, void *ud) {
  struct failmalloc *f = ud;
  if (f->left-- <= 0) return NULL;
  if (!p) f->live++;
  return realloc(p, n);
}
static void fm_free(void *p, void *ud) {
  struct failmalloc *f = ud;
  if (p) f->live--;
  free(p);
}

static void test_failmalloc(void **state) {
  (void)state;
  static const struct {
    const char *name, *value;
  } v[] = {{"AccessKey", "a2V5"}, {"TLS13SupportedGroups", "ecdhe_x25519,ffdhe_2048"},
           {"SSLEnabledCipherSuites", "TLS_AES_128_GCM_SHA256;TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
           {"SSLCertStoreType", "6"}, {"SSLAcceptServerCertEncoded", "*"}, {"NamespaceAddress", "x.example"}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    bool succeeded = false;
    for (int k = 0; k < 40 && !succeeded; k++) {
      struct failmalloc f = {k, 0};
      struct azr__mem mem = {fm_malloc, fm_realloc, fm_free, &f};
      struct azr__listener_settings s;
      azr__settings_init(&s);
      struct azr__settings_context ctx = {false};
      int rc = azr__settings_set(&mem, &s, &ctx, v[i].name, strlen(v[i].name), v[i].value, last_err, sizeof last_err);
      assert_true(rc == AZR_OK || rc == AZR_E_NOMEM);
      succeeded = rc == AZR_OK;
      if (!succeeded) {
        /* A failed set leaves the settings as they were. */
        char out[4096];
        const struct azr__setting_desc *d = azr__settings_find(v[i].name, strlen(v[i].name));
        assert_int_equal(get(&s, v[i].name, out), AZR_OK);
        if (!(d->flags & AZR__SETTING_SECRET)) assert_string_equal(out, d->default_text);
      }
      azr__settings_free(&mem, &s);
      assert_int_equal(f.live, 0);
    }
    assert_true(succeeded);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_covers_reference),   cmocka_unit_test(test_table_rows_consistent),
      cmocka_unit_test(test_defaults_after_init),      cmocka_unit_test(test_every_setting_roundtrips),
      cmocka_unit_test(test_bool_spellings),           cmocka_unit_test(test_number_bounds),
      cmocka_unit_test(test_enums),                    cmocka_unit_test(test_secrets_read_back_empty),
      cmocka_unit_test(test_not_applicable),           cmocka_unit_test(test_unknown_and_listener_names),
      cmocka_unit_test(test_no_change_while_listening), cmocka_unit_test(test_text_checks),
      cmocka_unit_test(test_validated_values),         cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
