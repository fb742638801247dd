/* SPDX-License-Identifier: MIT */
/* Self-signed ECDSA P-256 certificate generation for the emulator's TLS front door (OpenSSL 3). */
#include "emulator/cert.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/crypto.h"

/* Back-dated so a client whose clock runs a little behind still accepts a fresh certificate. */
#define NOT_BEFORE_SLACK_S 3600L
/* The longest server-certificate lifetime Apple platforms accept. */
#define VALID_DAYS 825
#define SERIAL_LEN 16
#define MAX_DNS_NAME 253u
/* ub-common-name (RFC 5280, appendix A). */
#define MAX_COMMON_NAME 64u
#define ORGANIZATION "azrelay emulator"

struct errbuf {
  char *text;
  size_t len;
};

static int fail(struct errbuf *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct errbuf *e, int code, const char *fmt, ...) {
  if (e->text && e->len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, e->len, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Reports an OpenSSL failure with the library's own reason; allocation failures map to NOMEM. */
static int ssl_fail(struct errbuf *e, const char *what) {
  unsigned long code = ERR_peek_last_error();
  if (!code) return fail(e, AZR_E_TLS_CREDENTIALS, "%s failed", what);
  char reason[160];
  ERR_error_string_n(code, reason, sizeof reason);
  int rc = ERR_GET_REASON(code) == ERR_R_MALLOC_FAILURE ? AZR_E_NOMEM : AZR_E_TLS_CREDENTIALS;
  return fail(e, rc, "%s failed: %s", what, reason);
}

/* Host names as certificates carry them: letters, digits, '-', '.', '_' and a leading "*." wildcard. */
static bool dns_name_ok(const char *s) {
  size_t n = strlen(s);
  if (!n || n > MAX_DNS_NAME) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || (c == '*' && i == 0 && s[1] == '.');
    if (!ok) return false;
  }
  return true;
}

static bool ip_bytes(const char *s, unsigned char out[16], int *out_len) {
  if (inet_pton(AF_INET, s, out) == 1) {
    *out_len = 4;
    return true;
  }
  if (inet_pton(AF_INET6, s, out) == 1) {
    *out_len = 16;
    return true;
  }
  return false;
}

static int check_inputs(struct errbuf *e, const char *const *dns, size_t dns_count, const char *const *ips,
                        size_t ip_count) {
  if (!dns || !dns_count) return fail(e, AZR_E_INVALID_ARG, "a certificate needs at least one DNS name");
  if (ip_count && !ips) return fail(e, AZR_E_INVALID_ARG, "IP address list is NULL");
  for (size_t i = 0; i < dns_count; i++)
    if (!dns[i] || !dns_name_ok(dns[i]))
      return fail(e, AZR_E_INVALID_ARG, "DNS name %zu ('%.64s') is not a valid host name", i, dns[i] ? dns[i] : "");
  for (size_t i = 0; i < ip_count; i++) {
    unsigned char raw[16];
    int raw_len;
    if (!ips[i] || !ip_bytes(ips[i], raw, &raw_len))
      return fail(e, AZR_E_INVALID_ARG, "IP address %zu ('%.64s') is neither IPv4 nor IPv6", i, ips[i] ? ips[i] : "");
  }
  return AZR_OK;
}

/* Appends one subjectAltName entry: a dNSName (IA5String) or an iPAddress (4 or 16 raw bytes). */
static bool push_general_name(GENERAL_NAMES *names, int type, const unsigned char *value, int len) {
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_STRING *s = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
  if (!gn || !s || !ASN1_STRING_set(s, value, len)) {
    GENERAL_NAME_free(gn);
    ASN1_STRING_free(s);
    return false;
  }
  GENERAL_NAME_set0_value(gn, type, s);
  if (!sk_GENERAL_NAME_push(names, gn)) {
    GENERAL_NAME_free(gn);
    return false;
  }
  return true;
}

static bool add_subject_alt_name(X509 *x, const char *const *dns, size_t dns_count, const char *const *ips,
                                 size_t ip_count) {
  GENERAL_NAMES *names = GENERAL_NAMES_new();
  bool ok = names != NULL;
  for (size_t i = 0; ok && i < dns_count; i++)
    ok = push_general_name(names, GEN_DNS, (const unsigned char *)dns[i], (int)strlen(dns[i]));
  for (size_t i = 0; ok && i < ip_count; i++) {
    unsigned char raw[16];
    int raw_len = 0;
    ok = ip_bytes(ips[i], raw, &raw_len) && push_general_name(names, GEN_IPADD, raw, raw_len);
  }
  ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
  GENERAL_NAMES_free(names);
  return ok;
}

/* CA:TRUE lets the one certificate act as its own trust anchor for Node, curl and OpenSSL. */
static bool add_basic_constraints(X509 *x) {
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  if (!bc) return false;
  bc->ca = 1;
  bool ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
  BASIC_CONSTRAINTS_free(bc);
  return ok;
}

static bool add_key_usage(X509 *x) {
  ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
  /* Bit 0 digitalSignature (ECDHE signatures), bit 5 keyCertSign (it signs itself as a CA). */
  bool ok = ku && ASN1_BIT_STRING_set_bit(ku, 0, 1) && ASN1_BIT_STRING_set_bit(ku, 5, 1) &&
            X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) == 1;
  ASN1_BIT_STRING_free(ku);
  return ok;
}

static bool add_extended_key_usage(X509 *x) {
  EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
  /* OBJ_nid2obj returns a static object, so the stack is freed without its elements. */
  bool ok = eku && sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) &&
            X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) == 1;
  sk_ASN1_OBJECT_free(eku);
  return ok;
}

/* RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
static bool add_subject_key_id(X509 *x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!X509_pubkey_digest(x, EVP_sha1(), md, &md_len)) return false;
  ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
  bool ok = ski && ASN1_OCTET_STRING_set(ski, md, (int)md_len) &&
            X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) == 1;
  ASN1_OCTET_STRING_free(ski);
  return ok;
}

/* A positive serial of exactly SERIAL_LEN bytes: top bit clear, next bit set. */
static bool set_serial(X509 *x) {
  unsigned char raw[SERIAL_LEN];
  if (azr__random_bytes(raw, sizeof raw)) return false;
  raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
  BIGNUM *bn = BN_bin2bn(raw, (int)sizeof raw, NULL);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  return ok;
}

static bool set_names(X509 *x, const char *common_name) {
  X509_NAME *name = X509_get_subject_name(x);
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)ORGANIZATION, -1, -1, 0))
    return false;
  if (strlen(common_name) <= MAX_COMMON_NAME &&
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0))
    return false;
  return X509_set_issuer_name(x, name) == 1;
}

static int build_certificate(struct errbuf *e, EVP_PKEY *pkey, const char *const *dns, size_t dns_count,
                             const char *const *ips, size_t ip_count, X509 **out) {
  X509 *x = X509_new();
  if (!x) return ssl_fail(e, "X509_new");
  const char *step = NULL;
  if (!X509_set_version(x, X509_VERSION_3)) step = "setting the version";
  else if (!set_serial(x)) step = "setting the serial number";
  else if (!X509_gmtime_adj(X509_getm_notBefore(x), -NOT_BEFORE_SLACK_S) ||
           !X509_time_adj_ex(X509_getm_notAfter(x), VALID_DAYS, 0, NULL))
    step = "setting the validity";
  else if (!set_names(x, dns[0])) step = "setting the subject";
  else if (!X509_set_pubkey(x, pkey)) step = "setting the public key";
  else if (!add_basic_constraints(x)) step = "adding basicConstraints";
  else if (!add_key_usage(x)) step = "adding keyUsage";
  else if (!add_extended_key_usage(x)) step = "adding extendedKeyUsage";
  else if (!add_subject_key_id(x)) step = "adding subjectKeyIdentifier";
  else if (!add_subject_alt_name(x, dns, dns_count, ips, ip_count)) step = "adding subjectAltName";
  else if (X509_sign(x, pkey, EVP_sha256()) <= 0) step = "signing";
  if (step) {
    X509_free(x);
    return ssl_fail(e, step);
  }
  *out = x;
  return AZR_OK;
}

/* Appends the PEM text a memory BIO holds. */
static int append_bio(struct azr__buf *b, BIO *bio) {
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);
  if (n <= 0 || !data) return AZR_E_TLS_CREDENTIALS;
  return azr__buf_append(b, data, (size_t)n);
}

/* Cuts a buffer back to len, wiping what is dropped (it may be key material). */
static void truncate_wipe(struct azr__buf *b, size_t len) {
  if (!b->data || b->len <= len) return;
  OPENSSL_cleanse(b->data + len, b->len - len);
  b->len = len;
  b->data[len] = 0;
}

static int write_pem(struct errbuf *e, X509 *x, EVP_PKEY *pkey, struct azr__buf *cert_pem, struct azr__buf *key_pem) {
  BIO *cert_bio = BIO_new(BIO_s_mem());
  /* The secure-memory BIO clears the key text when it is freed. */
  BIO *key_bio = BIO_new(BIO_s_secmem());
  int rc = AZR_OK;
  if (!cert_bio || !key_bio) rc = ssl_fail(e, "BIO_new");
  else if (!PEM_write_bio_X509(cert_bio, x)) rc = ssl_fail(e, "writing the certificate PEM");
  /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3. */
  else if (!PEM_write_bio_PrivateKey(key_bio, pkey, NULL, NULL, 0, NULL, NULL))
    rc = ssl_fail(e, "writing the private key PEM");
  else if ((rc = append_bio(cert_pem, cert_bio)) || (rc = append_bio(key_pem, key_bio)))
    fail(e, rc, "cannot store the PEM text: %s", azr_strerror(rc));
  BIO_free(cert_bio);
  BIO_free(key_bio);
  return rc;
}

int azr__emu_cert_generate(const char *const *dns_names, size_t dns_count, const char *const *ip_addrs,
                           size_t ip_count, struct azr__buf *cert_pem, struct azr__buf *key_pem, char *err,
                           size_t err_len) {
  struct errbuf e = {err, err_len};
  if (err && err_len) err[0] = 0;
  if (!cert_pem || !key_pem || cert_pem == key_pem)
    return fail(&e, AZR_E_INVALID_ARG, "two distinct output buffers are needed");
  int rc = check_inputs(&e, dns_names, dns_count, ip_addrs, ip_count);
  if (rc) return rc;

  /* Leave the thread's OpenSSL error queue as we found it. */
  ERR_set_mark();
  size_t cert_len0 = cert_pem->len, key_len0 = key_pem->len;
  X509 *x = NULL;
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
  if (!pkey) rc = ssl_fail(&e, "generating the P-256 key");
  if (!rc) rc = build_certificate(&e, pkey, dns_names, dns_count, ip_addrs, ip_count, &x);
  if (!rc) rc = write_pem(&e, x, pkey, cert_pem, key_pem);
  if (rc) {
    truncate_wipe(cert_pem, cert_len0);
    truncate_wipe(key_pem, key_len0);
  }
  X509_free(x);
  EVP_PKEY_free(pkey);
  ERR_pop_to_mark();
  return rc;
}

bool azr__emu_cert_covers(const char *cert_pem, size_t cert_len, const char *host) {
  char bare[256];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    if (n - 2 >= sizeof bare) return false;
    memcpy(bare, host + 1, n - 2);
    bare[n - 2] = 0;
  } else if (n < sizeof bare) {
    memcpy(bare, host, n + 1);
  } else {
    return false;
  }
  BIO *bio = BIO_new_mem_buf(cert_pem, (int)cert_len);
  X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  if (!x) {
    ERR_clear_error();
    return false;
  }
  unsigned char raw[16];
  int raw_len;
  int r = ip_bytes(bare, raw, &raw_len) ? X509_check_ip_asc(x, bare, 0) : X509_check_host(x, bare, 0, 0, NULL);
  X509_free(x);
  ERR_clear_error();
  return r == 1;
}

bool azr__emu_cert_is_ip(const char *host) {
  unsigned char raw[16];
  int raw_len;
  return ip_bytes(host, raw, &raw_len);
}
