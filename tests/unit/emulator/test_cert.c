/* SPDX-License-Identifier: MIT */
/* The emulator's generated TLS identity: certificate fields, chain verification as a trust anchor,
 * and a real TLS handshake (over a socketpair) with a client that trusts only that certificate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "azrelay/common.h"
#include "emulator/cert.h"

static const char *const local_dns[] = {"localhost"};
static const char *const local_ips[] = {"127.0.0.1", "::1"};

struct identity {
  struct azr__buf cert_pem, key_pem;
  X509 *cert;
  EVP_PKEY *key;
};

static X509 *parse_cert(const struct azr__buf *pem) {
  BIO *bio = BIO_new_mem_buf(pem->data, (int)pem->len);
  assert_non_null(bio);
  X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  assert_non_null(x);
  return x;
}

static void make_identity(struct identity *id, const char *const *dns, size_t dns_count, const char *const *ips,
                          size_t ip_count) {
  azr__buf_init(&id->cert_pem, NULL, 0);
  azr__buf_init(&id->key_pem, NULL, 0);
  char err[256] = "unset";
  int rc = azr__emu_cert_generate(dns, dns_count, ips, ip_count, &id->cert_pem, &id->key_pem, err, sizeof err);
  if (rc) fprintf(stderr, "generate: %s\n", err);
  assert_int_equal(rc, AZR_OK);
  assert_string_equal(err, "");
  id->cert = parse_cert(&id->cert_pem);
  BIO *bio = BIO_new_mem_buf(id->key_pem.data, (int)id->key_pem.len);
  id->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  BIO_free(bio);
  assert_non_null(id->key);
}

static void free_identity(struct identity *id) {
  X509_free(id->cert);
  EVP_PKEY_free(id->key);
  azr__buf_free(&id->cert_pem);
  azr__buf_free(&id->key_pem);
}

static bool has_general_name(X509 *x, int type, const void *value, size_t len) {
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  bool found = false;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !found; i++) {
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != type) continue;
    const ASN1_STRING *s = type == GEN_DNS ? gn->d.dNSName : gn->d.iPAddress;
    found = (size_t)ASN1_STRING_length(s) == len && !memcmp(ASN1_STRING_get0_data(s), value, len);
  }
  GENERAL_NAMES_free(names);
  return found;
}

static int san_count(X509 *x) {
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  int n = names ? sk_GENERAL_NAME_num(names) : -1;
  GENERAL_NAMES_free(names);
  return n;
}

static bool extension_critical(X509 *x, int nid) {
  int at = X509_get_ext_by_NID(x, nid, -1);
  assert_true(at >= 0);
  return X509_EXTENSION_get_critical(X509_get_ext(x, at)) == 1;
}

static void name_entry(X509_NAME *name, int nid, char *out, size_t out_len) {
  out[0] = 0;
  X509_NAME_get_text_by_NID(name, nid, out, (int)out_len);
}

static void test_key_and_pem_forms(void **state) {
  (void)state;
  struct identity id;
  make_identity(&id, local_dns, 1, local_ips, 2);
  assert_non_null(strstr(azr__buf_cstr(&id.cert_pem), "-----BEGIN CERTIFICATE-----"));
  assert_int_equal(strncmp(azr__buf_cstr(&id.key_pem), "-----BEGIN PRIVATE KEY-----\n", 28), 0);
  assert_true(EVP_PKEY_is_a(id.key, "EC"));
  char group[64] = "";
  size_t group_len = 0;
  assert_int_equal(EVP_PKEY_get_group_name(id.key, group, sizeof group, &group_len), 1);
  assert_string_equal(group, "prime256v1");
  assert_int_equal(EVP_PKEY_get_bits(id.key), 256);
  /* The key in key_pem is the one the certificate names. */
  assert_int_equal(X509_check_private_key(id.cert, id.key), 1);
  free_identity(&id);
}

static void test_signature(void **state) {
  (void)state;
  struct identity a, b;
  make_identity(&a, local_dns, 1, local_ips, 2);
  make_identity(&b, local_dns, 1, local_ips, 2);
  assert_int_equal(X509_get_signature_nid(a.cert), NID_ecdsa_with_SHA256);
  assert_int_equal(X509_verify(a.cert, X509_get0_pubkey(a.cert)), 1);
  assert_int_equal(X509_verify(a.cert, a.key), 1);
  /* Another identity's key must not verify it: the check can fail. */
  assert_true(X509_verify(a.cert, X509_get0_pubkey(b.cert)) <= 0);
  ERR_clear_error();
  /* Fresh keys and serials each time. */
  assert_int_not_equal(EVP_PKEY_eq(a.key, b.key), 1);
  assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.cert), X509_get0_serialNumber(b.cert)), 0);
  free_identity(&a);
  free_identity(&b);
}

static void test_fields(void **state) {
  (void)state;
  struct identity id;
  time_t now = time(NULL);
  make_identity(&id, local_dns, 1, local_ips, 2);
  X509 *x = id.cert;
  assert_int_equal(X509_get_version(x), X509_VERSION_3);

  BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  assert_non_null(serial);
  assert_false(BN_is_negative(serial));
  assert_int_equal(BN_num_bytes(serial), 16);
  BN_free(serial);

  char text[128];
  name_entry(X509_get_subject_name(x), NID_commonName, text, sizeof text);
  assert_string_equal(text, "localhost");
  name_entry(X509_get_subject_name(x), NID_organizationName, text, sizeof text);
  assert_string_equal(text, "azrelay emulator");
  assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);

  /* notBefore = now - 1 h, notAfter = now + 825 days (a minute of slack for a slow run). */
  int days = 0, secs = 0;
  ASN1_TIME *ref = ASN1_TIME_set(NULL, now);
  assert_int_equal(ASN1_TIME_diff(&days, &secs, ref, X509_get0_notBefore(x)), 1);
  assert_int_equal(days, 0);
  assert_true(secs <= -3600 + 60 && secs >= -3600 - 60);
  assert_int_equal(ASN1_TIME_diff(&days, &secs, ref, X509_get0_notAfter(x)), 1);
  assert_int_equal(days, 825);
  assert_true(secs >= 0 && secs <= 60);
  ASN1_TIME_free(ref);

  uint32_t flags = X509_get_extension_flags(x);
  assert_true(flags & EXFLAG_CA);
  assert_true(flags & EXFLAG_SS);
  assert_true(extension_critical(x, NID_basic_constraints));
  assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN);
  assert_true(extension_critical(x, NID_key_usage));
  assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
  assert_false(extension_critical(x, NID_ext_key_usage));
  assert_non_null(X509_get0_subject_key_id(x));
  assert_int_equal(ASN1_STRING_length(X509_get0_subject_key_id(x)), 20);
  assert_false(extension_critical(x, NID_subject_alt_name));

  static const unsigned char v4[4] = {127, 0, 0, 1};
  static const unsigned char v6[16] = {[15] = 1};
  assert_int_equal(san_count(x), 3);
  assert_true(has_general_name(x, GEN_DNS, "localhost", 9));
  assert_true(has_general_name(x, GEN_IPADD, v4, 4));
  assert_true(has_general_name(x, GEN_IPADD, v6, 16));
  assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
  assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
  assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
  free_identity(&id);
}

/* Verifies x against a store that holds only x, as a TLS server certificate for host or ip. */
static int verify_as_server(X509 *x, const char *host, const char *ip) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  assert_non_null(store);
  assert_non_null(ctx);
  assert_int_equal(X509_STORE_add_cert(store, x), 1);
  assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
  assert_int_equal(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
  if (host) assert_int_equal(X509_VERIFY_PARAM_set1_host(param, host, 0), 1);
  if (ip) assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(param, ip), 1);
  int result = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return result;
}

static void test_store_verification(void **state) {
  (void)state;
  struct identity id, other;
  make_identity(&id, local_dns, 1, local_ips, 2);
  make_identity(&other, local_dns, 1, local_ips, 2);
  assert_int_equal(verify_as_server(id.cert, "localhost", NULL), X509_V_OK);
  assert_int_equal(verify_as_server(id.cert, NULL, "127.0.0.1"), X509_V_OK);
  assert_int_equal(verify_as_server(id.cert, NULL, "::1"), X509_V_OK);
  assert_int_equal(verify_as_server(id.cert, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
  assert_int_equal(verify_as_server(id.cert, NULL, "10.0.0.1"), X509_V_ERR_IP_ADDRESS_MISMATCH);

  /* A store holding a different certificate for the same names does not vouch for this one. */
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  assert_int_equal(X509_STORE_add_cert(store, other.cert), 1);
  assert_int_equal(X509_STORE_CTX_init(ctx, store, id.cert, NULL), 1);
  assert_int_not_equal(X509_verify_cert(ctx), 1);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  free_identity(&id);
  free_identity(&other);
}

static void test_several_names(void **state) {
  (void)state;
  static const char *const dns[] = {"myns.relay.test", "localhost", "*.wild.test"};
  static const char *const ips[] = {"127.0.0.1"};
  struct identity id;
  make_identity(&id, dns, 3, ips, 1);
  char cn[128];
  name_entry(X509_get_subject_name(id.cert), NID_commonName, cn, sizeof cn);
  assert_string_equal(cn, "myns.relay.test");
  assert_int_equal(san_count(id.cert), 4);
  assert_int_equal(verify_as_server(id.cert, "myns.relay.test", NULL), X509_V_OK);
  assert_int_equal(verify_as_server(id.cert, "localhost", NULL), X509_V_OK);
  assert_int_equal(verify_as_server(id.cert, "a.wild.test", NULL), X509_V_OK);
  assert_int_equal(verify_as_server(id.cert, NULL, "::1"), X509_V_ERR_IP_ADDRESS_MISMATCH);
  free_identity(&id);

  /* No IP addresses at all is fine too. */
  make_identity(&id, dns, 1, NULL, 0);
  assert_int_equal(san_count(id.cert), 1);
  free_identity(&id);
}

/* A common name may have at most 64 characters; a longer first name stays in the SAN only. */
static void test_long_first_name(void **state) {
  (void)state;
  char name[80];
  memset(name, 'a', 70);
  memcpy(name + 70, ".test", 6);
  const char *const dns[] = {name};
  struct identity id;
  make_identity(&id, dns, 1, local_ips, 1);
  assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(id.cert), NID_commonName, -1), -1);
  assert_true(has_general_name(id.cert, GEN_DNS, name, strlen(name)));
  assert_int_equal(verify_as_server(id.cert, name, NULL), X509_V_OK);
  free_identity(&id);
}

static void test_bad_input(void **state) {
  (void)state;
  struct azr__buf c, k;
  azr__buf_init(&c, NULL, 0);
  azr__buf_init(&k, NULL, 0);
  assert_int_equal(azr__buf_append_str(&c, "keep-c"), AZR_OK);
  assert_int_equal(azr__buf_append_str(&k, "keep-k"), AZR_OK);
  char err[256];
  static const char *const bad_dns[][1] = {{""}, {"two words"}, {"semi;colon"}, {"a*b.test"}, {"l\xc3\xb6.test"}};
  for (size_t i = 0; i < sizeof bad_dns / sizeof bad_dns[0]; i++) {
    err[0] = 0;
    assert_int_equal(azr__emu_cert_generate(bad_dns[i], 1, NULL, 0, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
    assert_non_null(strstr(err, "DNS name 0"));
  }
  static const char *const bad_ips[][1] = {{"999.0.0.1"}, {"localhost"}, {"::g"}, {""}, {"127.0.0.1/8"}};
  for (size_t i = 0; i < sizeof bad_ips / sizeof bad_ips[0]; i++) {
    err[0] = 0;
    assert_int_equal(azr__emu_cert_generate(local_dns, 1, bad_ips[i], 1, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
    assert_non_null(strstr(err, "IP address 0"));
  }
  static const char *const with_null[] = {"localhost", NULL};
  assert_int_equal(azr__emu_cert_generate(with_null, 2, NULL, 0, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_cert_generate(local_dns, 0, NULL, 0, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_cert_generate(NULL, 1, NULL, 0, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_cert_generate(local_dns, 1, NULL, 1, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_cert_generate(local_dns, 1, NULL, 0, &c, &c, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__emu_cert_generate(local_dns, 1, NULL, 0, NULL, &k, NULL, 0), AZR_E_INVALID_ARG);
  char name[260];
  memset(name, 'a', 254);
  name[254] = 0;
  const char *const too_long[] = {name};
  assert_int_equal(azr__emu_cert_generate(too_long, 1, NULL, 0, &c, &k, err, sizeof err), AZR_E_INVALID_ARG);
  assert_string_equal(azr__buf_cstr(&c), "keep-c");
  assert_string_equal(azr__buf_cstr(&k), "keep-k");
  azr__buf_free(&c);
  azr__buf_free(&k);
}

/* Output is appended; when a buffer's cap stops it, both buffers return to what they held. */
static void test_append_and_caps(void **state) {
  (void)state;
  struct azr__buf c, k;
  azr__buf_init(&c, NULL, 0);
  azr__buf_init(&k, NULL, 0);
  assert_int_equal(azr__buf_append_str(&c, "# cert\n"), AZR_OK);
  assert_int_equal(azr__buf_append_str(&k, "# key\n"), AZR_OK);
  assert_int_equal(azr__emu_cert_generate(local_dns, 1, local_ips, 2, &c, &k, NULL, 0), AZR_OK);
  assert_int_equal(strncmp(azr__buf_cstr(&c), "# cert\n-----BEGIN CERTIFICATE-----", 34), 0);
  assert_int_equal(strncmp(azr__buf_cstr(&k), "# key\n-----BEGIN PRIVATE KEY-----", 33), 0);
  azr__buf_free(&c);
  azr__buf_free(&k);

  char err[256];
  azr__buf_init(&c, NULL, 100);
  azr__buf_init(&k, NULL, 0);
  assert_int_equal(azr__buf_append_str(&c, "c"), AZR_OK);
  assert_int_equal(azr__emu_cert_generate(local_dns, 1, local_ips, 2, &c, &k, err, sizeof err), AZR_E_TOO_BIG);
  assert_int_equal(c.len, 1);
  assert_int_equal(k.len, 0);
  azr__buf_free(&c);
  azr__buf_free(&k);

  azr__buf_init(&c, NULL, 0);
  azr__buf_init(&k, NULL, 100);
  assert_int_equal(azr__buf_append_str(&c, "c"), AZR_OK);
  assert_int_equal(azr__emu_cert_generate(local_dns, 1, local_ips, 2, &c, &k, err, sizeof err), AZR_E_TOO_BIG);
  assert_string_equal(azr__buf_cstr(&c), "c");
  assert_int_equal(k.len, 0);
  /* The certificate bytes that were appended and cut off are wiped, not just hidden (a P-256
   * certificate's PEM is well over 400 bytes). */
  assert_true(c.cap > 400);
  for (size_t i = 1; i < 400; i++) assert_int_equal(c.data[i], 0);
  azr__buf_free(&c);
  azr__buf_free(&k);
}

/* ---- a real handshake: server with the generated files, client trusting only the certificate ---- */

struct tmpdir {
  char dir[64], cert[96], key[96];
};

static void write_file(const char *path, const struct azr__buf *b) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
  assert_int_equal(fclose(f), 0);
}

static void write_identity(struct tmpdir *t, const struct identity *id) {
  strcpy(t->dir, "/tmp/azr-cert-XXXXXX");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->cert, sizeof t->cert, "%s/cert.pem", t->dir);
  snprintf(t->key, sizeof t->key, "%s/key.pem", t->dir);
  write_file(t->cert, &id->cert_pem);
  write_file(t->key, &id->key_pem);
}

static void remove_identity(const struct tmpdir *t) {
  unlink(t->cert);
  unlink(t->key);
  rmdir(t->dir);
}

static bool retry(SSL *ssl, int ret) {
  int e = SSL_get_error(ssl, ret);
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Handshakes a client trusting ca_file (verifying host or ip) with a server using cert/key, over a
 * non-blocking socketpair, stepping both ends in turn. Returns the client's verify result, or -1
 * when the handshake failed for another reason; on success also exchanges one message each way. */
static long handshake(const char *ca_file, const char *cert_file, const char *key_file, const char *host,
                      const char *ip) {
  int fds[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(fcntl(fds[i], F_SETFL, O_NONBLOCK), 0);

  SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  assert_non_null(sctx);
  assert_non_null(cctx);
  assert_int_equal(SSL_CTX_use_certificate_file(sctx, cert_file, SSL_FILETYPE_PEM), 1);
  assert_int_equal(SSL_CTX_use_PrivateKey_file(sctx, key_file, SSL_FILETYPE_PEM), 1);
  assert_int_equal(SSL_CTX_check_private_key(sctx), 1);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
  assert_int_equal(SSL_CTX_load_verify_locations(cctx, ca_file, NULL), 1);

  SSL *server = SSL_new(sctx), *client = SSL_new(cctx);
  assert_int_equal(SSL_set_fd(server, fds[0]), 1);
  assert_int_equal(SSL_set_fd(client, fds[1]), 1);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  if (host) {
    assert_int_equal(SSL_set_tlsext_host_name(client, host), 1);
    assert_int_equal(SSL_set1_host(client, host), 1);
  }
  if (ip) assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(client), ip), 1);

  bool server_done = false, client_done = false, failed = false;
  for (int step = 0; step < 100 && !failed && !(server_done && client_done); step++) {
    if (!client_done) {
      int r = SSL_do_handshake(client);
      client_done = r == 1;
      failed = r != 1 && !retry(client, r);
    }
    if (!server_done && !failed) {
      int r = SSL_do_handshake(server);
      server_done = r == 1;
      failed = r != 1 && !retry(server, r);
    }
  }
  long result = -1;
  if (!failed && server_done && client_done) {
    result = SSL_get_verify_result(client);
    X509 *peer = SSL_get1_peer_certificate(client);
    assert_non_null(peer);
    X509_free(peer);
    assert_int_equal(SSL_write(client, "ping", 4), 4);
    char buf[8];
    int n = -1;
    for (int step = 0; step < 10 && n <= 0; step++) n = SSL_read(server, buf, sizeof buf);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(SSL_write(server, "pong", 4), 4);
    n = -1;
    for (int step = 0; step < 10 && n <= 0; step++) n = SSL_read(client, buf, sizeof buf);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "pong", 4);
  } else if (client_done || failed) {
    long v = SSL_get_verify_result(client);
    result = v != X509_V_OK ? v : -1;
  }
  SSL_free(server);
  SSL_free(client);
  SSL_CTX_free(sctx);
  SSL_CTX_free(cctx);
  close(fds[0]);
  close(fds[1]);
  ERR_clear_error();
  return result;
}

static void test_tls_handshake(void **state) {
  (void)state;
  struct identity id, other;
  make_identity(&id, local_dns, 1, local_ips, 2);
  make_identity(&other, local_dns, 1, local_ips, 2);
  struct tmpdir t, t_other;
  write_identity(&t, &id);
  write_identity(&t_other, &other);

  assert_int_equal(handshake(t.cert, t.cert, t.key, "localhost", NULL), X509_V_OK);
  assert_int_equal(handshake(t.cert, t.cert, t.key, NULL, "127.0.0.1"), X509_V_OK);
  assert_int_equal(handshake(t.cert, t.cert, t.key, NULL, "::1"), X509_V_OK);
  /* The same server, checked for a name it does not carry or by a client trusting another cert. */
  assert_int_equal(handshake(t.cert, t.cert, t.key, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
  long v = handshake(t_other.cert, t.cert, t.key, "localhost", NULL);
  assert_true(v != X509_V_OK && v != -1);

  remove_identity(&t);
  remove_identity(&t_other);
  free_identity(&id);
  free_identity(&other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_and_pem_forms), cmocka_unit_test(test_signature),
      cmocka_unit_test(test_fields),            cmocka_unit_test(test_store_verification),
      cmocka_unit_test(test_several_names),     cmocka_unit_test(test_long_first_name),
      cmocka_unit_test(test_bad_input),         cmocka_unit_test(test_append_and_caps),
      cmocka_unit_test(test_tls_handshake),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
