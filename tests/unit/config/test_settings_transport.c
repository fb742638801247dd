/* SPDX-License-Identifier: MIT */
/* Transport settings: certificate pins, client certificates, cipher suites, groups, protocol
 * masks, verification flags, proxies and firewalls, and their mapping onto azr__connect_options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "azrelay/common.h"
#include "emulator/cert.h"
#include "io/websocket.h"
#include "config/settings.h"
#include "util/encoding.h"

static char last_err[512];

static int set(struct azr__listener_settings *s, const char *name, const char *value) {
  struct azr__settings_context ctx = {false};
  last_err[0] = 0;
  return azr__settings_set(NULL, s, &ctx, name, strlen(name), value, last_err, sizeof last_err);
}

static const char *get(const struct azr__listener_settings *s, const char *name) {
  static char out[8192];
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  int rc = azr__settings_get(s, name, &b);
  snprintf(out, sizeof out, "%s", rc ? "<error>" : azr__buf_cstr(&b));
  azr__buf_free(&b);
  return out;
}

static void options(const struct azr__listener_settings *s, struct azr__connect_options *o) {
  memset(o, 0, sizeof *o);
  azr__settings_connect_options(s, o);
}

/* A fresh self-signed certificate (PEM) for the pin tests. */
static void make_cert(struct azr__buf *cert, const char *name) {
  struct azr__buf key;
  azr__buf_init(cert, NULL, 0);
  azr__buf_init(&key, NULL, 0);
  char err[256];
  const char *names[] = {name};
  assert_int_equal(azr__emu_cert_generate(names, 1, NULL, 0, cert, &key, err, sizeof err), AZR_OK);
  azr__buf_free(&key);
}

/* curl's pin of a PEM certificate, computed independently through EVP_PKEY. */
static void expected_pin(const char *pem, char *out, size_t out_len) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  assert_non_null(x);
  unsigned char *der = NULL;
  int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
  assert_true(len > 0);
  unsigned char md[32];
  unsigned int mdlen = 0;
  assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
  unsigned char b64[64];
  EVP_EncodeBlock(b64, md, (int)mdlen);
  snprintf(out, out_len, "sha256//%s", b64);
  OPENSSL_free(der);
  X509_free(x);
  BIO_free(bio);
}

static void test_defaults_map_to_options(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  options(&s, &o);
  assert_int_equal(o.tls_min, CURL_SSLVERSION_TLSv1_2);
  assert_int_equal(o.tls_max, CURL_SSLVERSION_MAX_TLSv1_3);
  assert_false(o.insecure_skip_verify);
  assert_false(o.skip_host_name_check);
  assert_null(o.pinned_public_key);
  assert_null(o.ca_file);
  assert_null(o.client_cert);
  assert_null(o.cipher_list);
  assert_null(o.curves);
  assert_false(o.no_session_reuse);
  assert_int_equal(o.proxy_kind, AZR__PROXY_NONE);
  assert_false(o.proxy_from_environment);
  assert_null(o.local_interface);
  assert_int_equal(o.ip_version, 0);
  assert_int_equal(o.connect_timeout_ms, 30000);
  /* TCP keep-alive is on by default (docs/FEATURES.md "Keep-alive and dead-relay detection"). */
  assert_int_equal(o.tcp_keepalive_idle_s, 60);
  assert_int_equal(o.tcp_keepalive_interval_s, 10);
  assert_int_equal(o.tcp_keepalive_count, 6);
  assert_int_equal(o.tcp_user_timeout_ms, 0); /* the control channel sets it itself */
  assert_int_equal(azr__settings_control_user_timeout_ms(&s), 120000);
  struct azr__ws_options wo;
  azr__settings_ws_options(&s, &wo);
  assert_int_equal(wo.keepalive_ms, 30000);
  assert_int_equal(wo.keepalive_reply_timeout_ms, 0);
  assert_int_equal(wo.close_timeout_ms, 5000);
  assert_int_equal(set(&s, "CloseTimeout", "120"), AZR_OK);
  azr__settings_ws_options(&s, &wo);
  assert_int_equal(wo.close_timeout_ms, 120000);
  azr__settings_free(NULL, &s);
}

static void test_accept_server_cert_pins_key(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__buf a, b;
  make_cert(&a, "relay-a.test");
  make_cert(&b, "relay-b.test");
  char pin_a[128], pin_b[128], want[300];
  expected_pin(azr__buf_cstr(&a), pin_a, sizeof pin_a);
  expected_pin(azr__buf_cstr(&b), pin_b, sizeof pin_b);

  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", azr__buf_cstr(&a)), AZR_OK);
  assert_string_equal(get(&s, "SSLAcceptServerCertEncoded"), azr__buf_cstr(&a)); /* reads back as given */
  struct azr__connect_options o;
  options(&s, &o);
  assert_string_equal(o.pinned_public_key, pin_a);
  assert_true(o.insecure_skip_verify); /* the pin replaces chain and name checks */
  assert_true(o.skip_host_name_check);

  /* Two certificates: either key is accepted. */
  struct azr__buf two;
  azr__buf_init(&two, NULL, 0);
  assert_int_equal(azr__buf_printf(&two, "%s\r\n%s", azr__buf_cstr(&a), azr__buf_cstr(&b)), AZR_OK);
  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", azr__buf_cstr(&two)), AZR_OK);
  options(&s, &o);
  snprintf(want, sizeof want, "%s;%s", pin_a, pin_b);
  assert_string_equal(o.pinned_public_key, want);

  /* Base64 DER without PEM armour, as the reference also takes it. */
  struct azr__buf der64;
  azr__buf_init(&der64, NULL, 0);
  const char *pem = azr__buf_cstr(&b);
  const char *begin = strchr(pem, '\n') + 1, *end = strstr(pem, "-----END");
  for (const char *p = begin; p < end; p++)
    if (*p != '\n') azr__buf_append_byte(&der64, (uint8_t)*p);
  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", azr__buf_cstr(&der64)), AZR_OK);
  options(&s, &o);
  assert_string_equal(o.pinned_public_key, pin_b);

  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", "*"), AZR_OK);
  options(&s, &o);
  assert_true(o.insecure_skip_verify);
  assert_false(o.skip_host_name_check);
  assert_null(o.pinned_public_key);

  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", "-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n"),
                   AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", "bm90IGEgY2VydA=="), AZR_E_INVALID_ARG);
  assert_string_equal(get(&s, "SSLAcceptServerCertEncoded"), "*"); /* unchanged */
  assert_int_equal(set(&s, "SSLAcceptServerCertEncoded", " "), AZR_OK);
  options(&s, &o);
  assert_false(o.insecure_skip_verify);
  assert_string_equal(get(&s, "SSLAcceptServerCertEncoded"), "");
  azr__buf_free(&a);
  azr__buf_free(&b);
  azr__buf_free(&two);
  azr__buf_free(&der64);
  azr__settings_free(NULL, &s);
}

static void test_ca_settings(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__buf ca;
  make_cert(&ca, "ca.test");
  assert_int_equal(set(&s, "SSLServerCACerts", azr__buf_cstr(&ca)), AZR_OK);
  assert_int_equal(set(&s, "SSLServerCACerts", "junk"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLServerCACerts", "MIIBszCCAVmgAwIBAgIU"), AZR_E_INVALID_ARG); /* PEM only */
  assert_int_equal(set(&s, "OpenSSLCADir", "/etc/ssl/certs"), AZR_OK);
  assert_int_equal(set(&s, "SSLCACertFilePaths", "/nonexistent/1.pem; " AZR_TEST_READABLE_FILE " ;/nonexistent/2"), AZR_OK);
  assert_string_equal(get(&s, "OpenSSLCAFile"), AZR_TEST_READABLE_FILE); /* one field, two names */
  assert_int_equal(set(&s, "SSLCACertFilePaths", "/nonexistent/1.pem;/nonexistent/2.pem"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "2 listed files"));
  struct azr__connect_options o;
  options(&s, &o);
  assert_string_equal(o.ca_pem, azr__buf_cstr(&ca));
  assert_string_equal(o.ca_path, "/etc/ssl/certs");
  assert_string_equal(o.ca_file, AZR_TEST_READABLE_FILE);
  assert_int_equal(set(&s, "SSLCACertFilePaths", ""), AZR_OK);
  options(&s, &o);
  assert_null(o.ca_file);
  azr__buf_free(&ca);
  azr__settings_free(NULL, &s);
}

static void test_client_certificate(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  assert_int_equal(set(&s, "SSLCertStore", "/keys/client.PFX"), AZR_OK);
  assert_int_equal(set(&s, "SSLCertStorePassword", "pw"), AZR_OK);
  options(&s, &o); /* 99 auto: by file name */
  assert_string_equal(o.client_cert, "/keys/client.PFX");
  assert_string_equal(o.client_cert_type, "P12");
  assert_null(o.client_key);
  assert_string_equal(o.client_key_password, "pw");
  assert_int_equal(set(&s, "SSLCertStore", "/keys/client.pem"), AZR_OK);
  options(&s, &o);
  assert_string_equal(o.client_cert_type, "PEM");
  assert_string_equal(o.client_key, "/keys/client.pem");
  assert_string_equal(o.client_key_type, "PEM");
  assert_int_equal(set(&s, "SSLCertStoreType", "2"), AZR_OK);
  assert_string_equal(get(&s, "SSLCertStoreType"), "2");
  options(&s, &o);
  assert_string_equal(o.client_cert_type, "P12");
  assert_int_equal(set(&s, "SSLCertStoreType", "6"), AZR_OK);
  assert_string_equal(get(&s, "SSLCertStoreType"), "6");
  assert_int_equal(set(&s, "SSLCertStoreType", "99"), AZR_OK);
  assert_string_equal(get(&s, "SSLCertStoreType"), "99");
  static const int unsupported[] = {0, 1, 3, 4, 7, 8, 14, 20, 23};
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
    char t[8];
    snprintf(t, sizeof t, "%d", unsupported[i]);
    assert_int_equal(set(&s, "SSLCertStoreType", t), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(last_err, "use 2"));
  }
  assert_int_equal(set(&s, "SSLCertStoreType", "24"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLCertStoreType", "PEM"), AZR_E_INVALID_ARG);
  assert_string_equal(get(&s, "SSLCertStoreType"), "99");
  assert_int_equal(set(&s, "SSLCertStore", ""), AZR_OK);
  options(&s, &o);
  assert_null(o.client_cert);
  assert_null(o.client_key_password);
  azr__settings_free(NULL, &s);
}

static void test_cipher_suites(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  assert_int_equal(set(&s, "SSLEnabledCipherSuites",
                       "TLS_AES_256_GCM_SHA384; TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;ECDHE-ECDSA-CHACHA20-POLY1305;"
                       "tls_chacha20_poly1305_sha256"),
                   AZR_OK);
  assert_string_equal(s.tls13_ciphers, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  assert_string_equal(s.cipher_list, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
  assert_string_equal(get(&s, "SSLEnabledCipherSuites"),
                      "TLS_AES_256_GCM_SHA384;TLS_CHACHA20_POLY1305_SHA256;ECDHE-RSA-AES128-GCM-SHA256;"
                      "ECDHE-ECDSA-CHACHA20-POLY1305");
  struct azr__connect_options o;
  options(&s, &o);
  assert_string_equal(o.tls13_ciphers, s.tls13_ciphers);
  assert_string_equal(o.cipher_list, s.cipher_list);
  assert_int_equal(set(&s, "SSLEnabledCipherSuites", "CALG_AES_256"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "SSLEnabledCipherSuites", "TLS_AES_128_GCM_SHA256;NOT_A_SUITE"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "NOT_A_SUITE"));
  assert_string_equal(s.tls13_ciphers, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"); /* unchanged */
  assert_int_equal(set(&s, "SSLEnabledCipherSuites", "TLS_AES_128_GCM_SHA256"), AZR_OK);
  assert_null(s.cipher_list); /* the suites given are the whole choice */
  assert_int_equal(set(&s, "OpenSSLCipherList", "ECDHE+AESGCM"), AZR_OK);
  assert_string_equal(get(&s, "OpenSSLCipherList"), "ECDHE+AESGCM");
  assert_int_equal(set(&s, "SSLEnabledCipherSuites", "*"), AZR_OK);
  assert_null(s.tls13_ciphers);
  assert_null(s.cipher_list);
  assert_string_equal(get(&s, "SSLEnabledCipherSuites"), "*");
  azr__settings_free(NULL, &s);
}

static void test_groups(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  assert_int_equal(set(&s, "TLS13SupportedGroups", "ecdhe_x25519, ecdhe_secp256r1,ffdhe_2048"), AZR_OK);
  assert_string_equal(s.curves, "X25519:P-256:ffdhe2048");
  assert_string_equal(get(&s, "TLS13SupportedGroups"), "ecdhe_x25519,ecdhe_secp256r1,ffdhe_2048");
  assert_string_equal(get(&s, "TLS12SupportedGroups"), "ecdhe_x25519,ecdhe_secp256r1,ffdhe_2048");
  assert_int_equal(set(&s, "TLS12SupportedGroups", "prime256v1:secp384r1"), AZR_OK); /* OpenSSL names pass */
  assert_string_equal(s.curves, "prime256v1:secp384r1");
  assert_int_equal(set(&s, "TLS12SupportedGroups", "ecdhe_x25519,ecdhe_bogus"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(last_err, "ecdhe_bogus"));
  assert_int_equal(set(&s, "TLS12SupportedGroups", "ecdhe_x25519,X25519"), AZR_E_INVALID_ARG);
  assert_string_equal(s.curves, "prime256v1:secp384r1");
  struct azr__connect_options o;
  options(&s, &o);
  assert_string_equal(o.curves, "prime256v1:secp384r1");
  assert_int_equal(set(&s, "TLS13SupportedGroups", ""), AZR_OK);
  assert_null(s.curves);
  azr__settings_free(NULL, &s);
}

static void test_protocols(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  static const struct {
    const char *mask;
    long min, max;
  } ok[] = {{"0x3000", CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3},
            {"3072", CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2},
            {"4032", CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_2}, /* the reference's default */
            {"0x3F00", CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_3},
            {"0x800", CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2}, /* one bit of the pair is enough */
            {"0xc0", CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(set(&s, "SSLEnabledProtocols", ok[i].mask), AZR_OK);
    struct azr__connect_options o;
    options(&s, &o);
    assert_int_equal(o.tls_min, ok[i].min);
    assert_int_equal(o.tls_max, ok[i].max);
  }
  assert_string_equal(get(&s, "SSLEnabledProtocols"), "192");
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0x30C0"), AZR_E_INVALID_ARG); /* gap */
  assert_non_null(strstr(last_err, "gap"));
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0x30"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0x3C0C"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0x4000"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0x10000"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLEnabledProtocols", "0xZZ"), AZR_E_INVALID_ARG);
  assert_string_equal(get(&s, "SSLEnabledProtocols"), "192");
  azr__settings_free(NULL, &s);
}

static void test_security_flags(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  assert_int_equal(set(&s, "SSLSecurityFlags", "0x80000000"), AZR_OK);
  assert_string_equal(get(&s, "SSLSecurityFlags"), "2147483648");
  options(&s, &o);
  assert_true(o.skip_host_name_check);
  assert_false(o.insecure_skip_verify);
  assert_int_equal(set(&s, "SSLSecurityFlags", "2147483664"), AZR_OK); /* 0x80000010 in decimal */
  options(&s, &o);
  assert_true(o.skip_host_name_check);
  assert_true(o.insecure_skip_verify);
  assert_int_equal(set(&s, "SSLSecurityFlags", "0x1"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "SSLSecurityFlags", "0x100000000"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "SSLSecurityFlags", "0"), AZR_OK);
  options(&s, &o);
  assert_false(o.skip_host_name_check);
  assert_false(o.insecure_skip_verify);
  assert_int_equal(set(&s, "ReuseSSLSession", "false"), AZR_OK);
  options(&s, &o);
  assert_true(o.no_session_reuse);
  azr__settings_free(NULL, &s);
}

/* The TLS settings libcurl has no option for travel in the connect options to the SSL_CTX hook. */
static void test_tls_extras(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  options(&s, &o);
  assert_null(o.sigalgs);
  assert_null(o.client_chain_pem);
  assert_null(o.keylog_file);
  assert_false(o.no_renegotiation);
  assert_false(o.include_cert_chain);
  assert_int_equal(o.min_cipher_bits, 0);
  /* TLS 1.2 pairs become IANA names; both settings form one list, each algorithm once. */
  assert_int_equal(set(&s, "TLS12SignatureAlgorithms", "sha256-ecdsa, SHA384-RSA,sha1-dsa,sha256-rsapss"), AZR_OK);
  options(&s, &o);
  assert_string_equal(o.sigalgs, "ecdsa_secp256r1_sha256:rsa_pkcs1_sha384:DSA+SHA1:rsa_pss_rsae_sha256");
  assert_int_equal(set(&s, "TLS13SignatureAlgorithms", "ed25519,ecdsa_secp256r1_sha256"), AZR_OK);
  options(&s, &o);
  assert_string_equal(o.sigalgs, "ed25519:ecdsa_secp256r1_sha256:rsa_pkcs1_sha384:DSA+SHA1:rsa_pss_rsae_sha256");
  /* A bad name leaves both as they were. */
  assert_int_equal(set(&s, "TLS12SignatureAlgorithms", "sha256-elgamal"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "TLS13SignatureAlgorithms", "no_such_algorithm"), AZR_E_INVALID_ARG);
  options(&s, &o);
  assert_string_equal(o.sigalgs, "ed25519:ecdsa_secp256r1_sha256:rsa_pkcs1_sha384:DSA+SHA1:rsa_pss_rsae_sha256");
  assert_int_equal(set(&s, "TLS12SignatureAlgorithms", ""), AZR_OK);
  assert_int_equal(set(&s, "TLS13SignatureAlgorithms", ""), AZR_OK);
  options(&s, &o);
  assert_null(o.sigalgs);
  /* The others map one to one. */
  assert_int_equal(set(&s, "SSLKeyLogFile", "/tmp/keys.log"), AZR_OK);
  assert_int_equal(set(&s, "SSLEnableRenegotiation", "false"), AZR_OK);
  assert_int_equal(set(&s, "SSLIncludeCertChain", "true"), AZR_OK);
  assert_int_equal(set(&s, "SSLCipherStrength", "256"), AZR_OK);
  assert_int_equal(set(&s, "SSLCACerts", "not a certificate"), AZR_E_INVALID_ARG);
  options(&s, &o);
  assert_string_equal(o.keylog_file, "/tmp/keys.log");
  assert_true(o.no_renegotiation);
  assert_true(o.include_cert_chain);
  assert_int_equal(o.min_cipher_bits, 256);
  assert_null(o.client_chain_pem);
  azr__settings_free(NULL, &s);
}

static void test_proxy(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  assert_int_equal(set(&s, "ProxyUser", "alice"), AZR_OK);
  assert_int_equal(set(&s, "ProxyPassword", "pw"), AZR_OK);
  options(&s, &o);
  assert_int_equal(o.proxy_kind, AZR__PROXY_NONE); /* no server, no proxy */
  assert_int_equal(set(&s, "ProxyServer", "proxy.local"), AZR_OK);
  options(&s, &o);
  assert_int_equal(o.proxy_kind, AZR__PROXY_HTTP);
  assert_string_equal(o.proxy_host, "proxy.local");
  assert_int_equal(o.proxy_port, 80);
  assert_int_equal(o.proxy_auth, AZR__PROXY_AUTH_BASIC);
  assert_string_equal(o.proxy_user, "alice");
  assert_string_equal(o.proxy_password, "pw");
  /* Changing the scheme drops the credentials (the reference's rule); the same scheme keeps them. */
  assert_int_equal(set(&s, "ProxyAuthScheme", "0"), AZR_OK);
  assert_non_null(s.proxy_user);
  assert_int_equal(set(&s, "ProxyAuthScheme", "1"), AZR_OK);
  assert_null(s.proxy_user);
  assert_null(s.proxy_password);
  assert_int_equal(set(&s, "ProxyUser", "bob"), AZR_OK);
  assert_int_equal(set(&s, "ProxyPassword", "pw2"), AZR_OK);
  static const struct {
    const char *scheme;
    unsigned auth;
  } schemes[] = {{"1", AZR__PROXY_AUTH_DIGEST}, {"4", AZR__PROXY_AUTH_NTLM}, {"5", AZR__PROXY_AUTH_NEGOTIATE}};
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
    assert_int_equal(set(&s, "ProxyAuthScheme", schemes[i].scheme), AZR_OK);
    assert_int_equal(set(&s, "ProxyUser", "bob"), AZR_OK);
    assert_int_equal(set(&s, "ProxyPassword", "pw2"), AZR_OK);
    options(&s, &o);
    assert_int_equal(o.proxy_auth, schemes[i].auth);
    assert_string_equal(o.proxy_user, "bob");
  }
  assert_int_equal(set(&s, "ProxyAuthScheme", "2"), AZR_E_UNSUPPORTED);
  assert_int_equal(set(&s, "ProxyAuthScheme", "3"), AZR_OK);
  assert_int_equal(set(&s, "ProxyUser", "carol"), AZR_OK);
  options(&s, &o);
  assert_null(o.proxy_user); /* none: no credentials are sent */
  assert_int_equal(set(&s, "ProxyPort", "3128"), AZR_OK);
  assert_int_equal(set(&s, "ProxySSL", "1"), AZR_OK);
  assert_int_equal(set(&s, "OpenSSLCAFile", "/ca.pem"), AZR_OK);
  options(&s, &o);
  assert_int_equal(o.proxy_kind, AZR__PROXY_HTTPS);
  assert_int_equal(o.proxy_port, 3128);
  assert_string_equal(o.proxy_ca_file, "/ca.pem");
  static const char *const plain[] = {"0", "2", "3"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(set(&s, "ProxySSL", plain[i]), AZR_OK);
    options(&s, &o);
    assert_int_equal(o.proxy_kind, AZR__PROXY_HTTP);
  }
  assert_int_equal(set(&s, "ProxyAutoDetect", "true"), AZR_OK);
  options(&s, &o);
  assert_true(o.proxy_from_environment);
  azr__settings_free(NULL, &s);
}

static void test_firewall(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  assert_int_equal(set(&s, "ProxyServer", "proxy.local"), AZR_OK);
  assert_int_equal(set(&s, "FirewallHost", "socks.local"), AZR_OK);
  options(&s, &o);
  assert_int_equal(o.proxy_kind, AZR__PROXY_HTTP); /* FirewallType 0: the firewall is off */
  static const struct {
    const char *type;
    enum azr__proxy_kind kind;
    int port;
  } types[] = {{"1", AZR__PROXY_HTTP, 80}, {"2", AZR__PROXY_SOCKS4, 1080}, {"3", AZR__PROXY_SOCKS5H, 1080},
               {"10", AZR__PROXY_SOCKS4A, 1080}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    assert_int_equal(set(&s, "FirewallPort", "9"), AZR_OK);
    assert_int_equal(set(&s, "FirewallType", types[i].type), AZR_OK);
    assert_int_equal(s.firewall_port, types[i].port); /* the type resets the port */
    options(&s, &o);
    assert_int_equal(o.proxy_kind, types[i].kind);
    assert_string_equal(o.proxy_host, "socks.local");
    assert_int_equal(o.proxy_port, types[i].port);
  }
  assert_int_equal(set(&s, "FirewallPort", "0"), AZR_OK);
  options(&s, &o);
  assert_int_equal(o.proxy_port, 1080);
  assert_int_equal(set(&s, "FirewallUser", "u"), AZR_OK);
  assert_int_equal(set(&s, "FirewallPassword", "p"), AZR_OK);
  options(&s, &o);
  assert_string_equal(o.proxy_user, "u");
  assert_string_equal(o.proxy_password, "p");
  assert_int_equal(set(&s, "FirewallAutoDetect", "yes"), AZR_OK);
  options(&s, &o);
  assert_true(o.proxy_from_environment);
  azr__settings_free(NULL, &s);
}

static void test_socket_options(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  struct azr__connect_options o;
  static const struct {
    const char *value;
    int version;
  } ipv6[] = {{"0", 4}, {"1", 6}, {"2", 0}};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(set(&s, "UseIPv6", ipv6[i].value), AZR_OK);
    assert_string_equal(get(&s, "UseIPv6"), ipv6[i].value);
    options(&s, &o);
    assert_int_equal(o.ip_version, ipv6[i].version);
  }
  assert_int_equal(set(&s, "UseIPv6", "3"), AZR_E_INVALID_ARG);
  assert_int_equal(set(&s, "KeepAliveTime", "0"), AZR_OK);
  assert_int_equal(set(&s, "KeepAliveInterval", "1500"), AZR_OK);
  options(&s, &o);
  assert_int_equal(azr__settings_control_user_timeout_ms(&s), 0);
  assert_int_equal(o.tcp_keepalive_idle_s, 0); /* no KeepAliveTime: keep-alive stays off */
  assert_int_equal(o.tcp_keepalive_interval_s, 0);
  static const struct {
    const char *ms;
    long s;
  } rounding[] = {{"1", 1}, {"999", 1}, {"1000", 1}, {"1001", 2}, {"2147483647", 2147484}};
  for (size_t i = 0; i < sizeof rounding / sizeof rounding[0]; i++) {
    assert_int_equal(set(&s, "KeepAliveTime", rounding[i].ms), AZR_OK);
    options(&s, &o);
    assert_int_equal(o.tcp_keepalive_idle_s, rounding[i].s);
    assert_int_equal(o.tcp_keepalive_interval_s, 2);
  }
  assert_int_equal(set(&s, "KeepAliveTime", "5000"), AZR_OK);
  assert_int_equal(set(&s, "KeepAliveRetryCount", "3"), AZR_OK);
  assert_int_equal(set(&s, "KeepAliveRetryCount", "0"), AZR_E_INVALID_ARG);
  options(&s, &o);
  assert_int_equal(o.tcp_keepalive_count, 3);
  assert_int_equal(azr__settings_control_user_timeout_ms(&s), 11000); /* 5 s + 3 x 2 s */
  assert_int_equal(set(&s, "InBufferSize", "131072"), AZR_OK);
  assert_int_equal(set(&s, "OutBufferSize", "65536"), AZR_OK);
  assert_int_equal(set(&s, "OutBufferSize", "67108865"), AZR_E_INVALID_ARG);
  options(&s, &o);
  assert_int_equal(o.so_rcvbuf, 131072);
  assert_int_equal(o.so_sndbuf, 65536);
  assert_int_equal(set(&s, "LocalHost", "eth0"), AZR_OK);
  assert_int_equal(set(&s, "ConnectTimeoutMs", "2500"), AZR_OK);
  options(&s, &o);
  assert_string_equal(o.local_interface, "eth0");
  assert_int_equal(o.connect_timeout_ms, 2500);
  azr__settings_free(NULL, &s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_map_to_options), cmocka_unit_test(test_accept_server_cert_pins_key),
      cmocka_unit_test(test_ca_settings),             cmocka_unit_test(test_client_certificate),
      cmocka_unit_test(test_cipher_suites),           cmocka_unit_test(test_groups),
      cmocka_unit_test(test_protocols),               cmocka_unit_test(test_security_flags),
      cmocka_unit_test(test_tls_extras),
      cmocka_unit_test(test_proxy),                   cmocka_unit_test(test_firewall),
      cmocka_unit_test(test_socket_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
