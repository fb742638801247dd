/* SPDX-License-Identifier: MIT */
/* Transport settings that need conversion: the reference's certificate, cipher-suite, group,
 * protocol and proxy conventions onto OpenSSL / libcurl ones, and the mapping of all transport
 * settings onto struct azr__connect_options. OpenSSL is used here only to parse and look up. */
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "azrelay/common.h"
#include "io/websocket.h"
#include "config/settings_hooks.h"
#include "util/crypto.h"
#include "util/encoding.h"
#include "util/str.h"

/* ---- small helpers ---- */

static const char *nz(const char *s) { return s && *s ? s : NULL; }

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static struct azr__span trim(struct azr__span t) {
  while (t.len && blank(*t.ptr)) {
    t.ptr++;
    t.len--;
  }
  while (t.len && blank(t.ptr[t.len - 1])) t.len--;
  return t;
}

/* Next item of a list separated by any of `seps`, trimmed; false after the last one. */
static bool next_item(struct azr__span *rest, const char *seps, struct azr__span *item) {
  if (!rest->ptr) return false;
  size_t n = 0;
  while (n < rest->len && !strchr(seps, rest->ptr[n])) n++;
  *item = trim((struct azr__span){rest->ptr, n});
  if (n < rest->len) {
    rest->ptr += n + 1;
    rest->len -= n + 1;
  } else {
    rest->ptr = NULL;
  }
  return true;
}

/* Stores the content of b (or NULL when empty) into *slot. */
static int store_buf(struct azr__settings_call *c, char **slot, struct azr__buf *b) {
  if (b->len == 0) {
    azr__settings_replace_text(c, slot, NULL);
    return AZR_OK;
  }
  return azr__settings_store_text(c, slot, azr__buf_cstr(b), b->len);
}

static int set_number(struct azr__settings_call *c, const char *text, int *field) {
  int64_t n;
  int rc = azr__settings_parse_number(c, text, &n);
  if (!rc) *field = (int)n;
  return rc;
}

/* ---- proxy and firewall ---- */

int azr__settings_set_firewall_type(struct azr__settings_call *c, const char *text) {
  int rc = set_number(c, text, &c->s->firewall_type);
  /* The reference resets the port with the type. */
  if (!rc && c->s->firewall_type == 1) c->s->firewall_port = 80;
  if (!rc && c->s->firewall_type > 1) c->s->firewall_port = 1080;
  return rc;
}

int azr__settings_set_proxy_auth_scheme(struct azr__settings_call *c, const char *text) {
  int64_t n;
  int rc = azr__settings_parse_number(c, text, &n);
  if (rc) return rc;
  if (n == 2)
    return azr__settings_fail(c, AZR_E_UNSUPPORTED,
                              "2 (proprietary: a hand-made Proxy-Authorization header) is not supported; use 0 basic, "
                              "1 digest, 4 NTLM or 5 negotiate");
  if (n != c->s->proxy_auth_scheme) {
    /* As in the reference: credentials meant for one scheme are not silently reused by another. */
    azr__free(c->mem, c->s->proxy_user);
    azr__free_secret(c->mem, c->s->proxy_password);
    c->s->proxy_user = c->s->proxy_password = NULL;
  }
  c->s->proxy_auth_scheme = (int)n;
  return AZR_OK;
}

/* ---- certificates ---- */

/* Calls each() for every certificate in text: PEM blocks, or one base64 DER certificate. Returns
 * the number of certificates read (0 when none parses), or -1 when each() fails. */
static int for_each_cert(const struct azr__mem *mem, const char *text, int (*each)(X509 *x, void *ud), void *ud) {
  int count = 0;
  if (strstr(text, "-----BEGIN")) {
    BIO *bio = BIO_new_mem_buf(text, (int)strlen(text));
    X509 *x;
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
      int rc = each(x, ud);
      X509_free(x);
      if (rc) {
        count = -1;
        break;
      }
      count++;
    }
    BIO_free(bio);
  } else {
    struct azr__buf b64, der;
    azr__buf_init(&b64, mem, 0);
    azr__buf_init(&der, mem, 0);
    for (const char *p = text; *p; p++)
      if (!blank(*p) && azr__buf_append_byte(&b64, (uint8_t)*p)) break;
    if (b64.len && azr__base64_decode(&der, (const char *)b64.data, b64.len) == AZR_OK) {
      const unsigned char *p = der.data;
      X509 *x = d2i_X509(NULL, &p, (long)der.len);
      if (x) {
        count = each(x, ud) ? -1 : 1;
        X509_free(x);
      }
    }
    azr__buf_free(&b64);
    azr__buf_free(&der);
  }
  ERR_clear_error(); /* the end of the PEM input is reported as an error; leave nothing behind */
  return count;
}

static int count_cert(X509 *x, void *ud) {
  (void)x;
  (void)ud;
  return 0;
}

int azr__settings_check_pem_certs(struct azr__settings_call *c, const char *text, int64_t number) {
  (void)number;
  if (!*text) return AZR_OK;
  /* libcurl takes this text as a PEM bundle, so base64 DER is not enough here. */
  if (!strstr(text, "-----BEGIN CERTIFICATE-----") || for_each_cert(c->mem, text, count_cert, NULL) <= 0)
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "no PEM certificate could be read");
  return AZR_OK;
}

/* Appends "sha256//<base64 of SHA-256 of the SubjectPublicKeyInfo DER>;" (curl's pin format). */
static int append_pin(X509 *x, void *ud) {
  struct azr__buf *pins = ud;
  X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
  int len = pk ? i2d_X509_PUBKEY(pk, NULL) : -1;
  if (len <= 0) return AZR_E_PARSE;
  unsigned char *der = azr__malloc(pins->mem, (size_t)len);
  if (!der) return AZR_E_NOMEM;
  unsigned char *p = der;
  i2d_X509_PUBKEY(pk, &p);
  uint8_t digest[32];
  azr__sha256(der, (size_t)len, digest);
  azr__free(pins->mem, der);
  int rc = azr__buf_append_str(pins, pins->len ? ";sha256//" : "sha256//");
  if (!rc) rc = azr__base64_encode(pins, digest, sizeof digest);
  return rc;
}

/* The field holds the text as given, a NUL, then the derived pins: azr__settings_get reads the
 * first string, azr__settings_connect_options the second, and one allocation owns both. */
int azr__settings_set_accept_server_cert(struct azr__settings_call *c, const char *text) {
  int rc = azr__settings_check_text(c, text);
  if (rc) return rc;
  struct azr__span t = trim(azr__span_of(text));
  if (t.len == 0) {
    azr__settings_replace_text(c, &c->s->accept_server_cert, NULL);
    return AZR_OK;
  }
  if (t.len == 1 && t.ptr[0] == '*') return azr__settings_store_text(c, &c->s->accept_server_cert, "*", 1);
  struct azr__buf pins;
  azr__buf_init(&pins, c->mem, 0);
  int n = for_each_cert(c->mem, text, append_pin, &pins);
  if (n <= 0) {
    azr__buf_free(&pins);
    return azr__settings_fail(c, n < 0 ? AZR_E_NOMEM : AZR_E_INVALID_ARG,
                              n < 0 ? "cannot derive the public key pin" : "no PEM or base64 DER certificate could be read");
  }
  size_t len = strlen(text);
  char *both = azr__malloc(c->mem, len + 1 + pins.len + 1);
  if (!both) {
    azr__buf_free(&pins);
    return azr__settings_fail(c, AZR_E_NOMEM, "out of memory");
  }
  memcpy(both, text, len + 1);
  memcpy(both + len + 1, azr__buf_cstr(&pins), pins.len + 1);
  azr__buf_free(&pins);
  azr__settings_replace_text(c, &c->s->accept_server_cert, both);
  return AZR_OK;
}

/* Why a reference store type (0-23) is not available here. */
static const char *store_type_reason(unsigned n) {
  switch (n) {
    case 0:
    case 1: return "Windows certificate stores do not exist here";
    case 4:
    case 5:
    case 21:
    case 22: return "Java and Bouncy Castle key stores are not supported";
    case 8:
    case 11: return "the file holds no private key for client authentication";
    case 20:
    case 23: return "hardware security keys are not supported";
    case 3:
    case 7:
    case 9:
    case 10:
    case 12:
    case 15:
    case 17:
    case 19: return "blob stores are not supported: write the data to a file";
    default: return "this key format is not supported";
  }
}

int azr__settings_set_cert_store_type(struct azr__settings_call *c, const char *text) {
  struct azr__span t = trim(azr__span_of(text));
  uint64_t n = 0;
  if (!azr__span_to_u64(t, &n) || n > 99)
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "'%.*s' is not one of: %s", (int)(t.len > 20 ? 20 : t.len), t.ptr,
                              c->e->d.values);
  const char *type = n == 2 ? "P12" : n == 6 ? "PEM" : NULL;
  if (n != 2 && n != 6 && n != 99) {
    if (n > 23) return azr__settings_fail(c, AZR_E_INVALID_ARG, "%llu is not one of: %s", (unsigned long long)n, c->e->d.values);
    return azr__settings_fail(c, AZR_E_UNSUPPORTED, "%llu: %s; use 2 (PKCS#12 file), 6 (PEM file with key and certificate) "
                              "or 99 (auto)", (unsigned long long)n, store_type_reason((unsigned)n));
  }
  if (!type) {
    azr__settings_replace_text(c, &c->s->client_cert_type, NULL);
    return AZR_OK;
  }
  return azr__settings_store_text(c, &c->s->client_cert_type, type, 3);
}

int azr__settings_get_cert_store_type(const struct azr__listener_settings *s, struct azr__buf *out) {
  const char *t = s->client_cert_type;
  return azr__buf_append_str(out, !t ? "99" : strcmp(t, "P12") == 0 ? "2" : "6");
}

int azr__settings_set_cert_subject(struct azr__settings_call *c, const char *text) {
  struct azr__span t = trim(azr__span_of(text));
  if (t.len == 0 || (t.len == 1 && t.ptr[0] == '*')) return AZR_OK;
  return azr__settings_fail(c, AZR_E_UNSUPPORTED, "not applicable: %s", c->e->d.description);
}

/* SSLCACertFilePaths: the first readable file of a ';'-separated list becomes the CA file. */
int azr__settings_set_ca_file_paths(struct azr__settings_call *c, const char *text) {
  int rc = azr__settings_check_text(c, text);
  if (rc) return rc;
  struct azr__span rest = azr__span_of(text), item;
  size_t tried = 0;
  while (next_item(&rest, ";", &item)) {
    if (!item.len || item.len >= 4096) continue;
    char path[4096];
    memcpy(path, item.ptr, item.len);
    path[item.len] = 0;
    tried++;
    if (access(path, R_OK) == 0) return azr__settings_store_text(c, &c->s->ca_file, item.ptr, item.len);
  }
  if (tried == 0) {
    azr__settings_replace_text(c, &c->s->ca_file, NULL);
    return AZR_OK;
  }
  return azr__settings_fail(c, AZR_E_INVALID_ARG, "none of the %zu listed files is readable", tried);
}

/* ---- cipher suites and groups ---- */

/* A context able to name every cipher suite OpenSSL knows, for lookups only. */
static SSL_CTX *lookup_ctx(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return NULL;
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL");
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                                "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256");
  return ctx;
}

static const SSL_CIPHER *find_suite(SSL_CTX *ctx, const char *name) {
  STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++) {
    const SSL_CIPHER *ci = sk_SSL_CIPHER_value(sk, i);
    const char *std = SSL_CIPHER_standard_name(ci);
    if (strcasecmp(SSL_CIPHER_get_name(ci), name) == 0 || (std && strcasecmp(std, name) == 0)) return ci;
  }
  return NULL;
}

/* SSLEnabledCipherSuites: TLS 1.3 suites go to tls13_ciphers, the others (by their OpenSSL names)
 * to cipher_list; "*" restores both library defaults. */
int azr__settings_set_cipher_suites(struct azr__settings_call *c, const char *text) {
  int rc = azr__settings_check_text(c, text);
  if (rc) return rc;
  struct azr__span all = trim(azr__span_of(text));
  struct azr__buf t13, t12;
  azr__buf_init(&t13, c->mem, 0);
  azr__buf_init(&t12, c->mem, 0);
  if (!(all.len == 0 || (all.len == 1 && all.ptr[0] == '*'))) {
    SSL_CTX *ctx = lookup_ctx();
    if (!ctx) rc = azr__settings_fail(c, AZR_E_NOMEM, "cannot create an OpenSSL context");
    struct azr__span rest = all, item;
    while (!rc && next_item(&rest, ";,:", &item)) {
      if (!item.len) continue;
      char name[128];
      if (item.len >= sizeof name) {
        rc = azr__settings_fail(c, AZR_E_INVALID_ARG, "cipher suite name too long");
        break;
      }
      memcpy(name, item.ptr, item.len);
      name[item.len] = 0;
      const SSL_CIPHER *ci = find_suite(ctx, name);
      if (!ci && strncasecmp(name, "CALG_", 5) == 0)
        rc = azr__settings_fail(c, AZR_E_UNSUPPORTED,
                                "'%s' is a Windows CryptoAPI name; use IANA or OpenSSL cipher suite names", name);
      else if (!ci)
        rc = azr__settings_fail(c, AZR_E_INVALID_ARG,
                                "unknown cipher suite '%s' (cipher strings such as HIGH go to OpenSSLCipherList)", name);
      else {
        struct azr__buf *dst = SSL_CIPHER_get_kx_nid(ci) == NID_kx_any ? &t13 : &t12;
        if (dst->len) rc = azr__buf_append_byte(dst, ':');
        if (!rc) rc = azr__buf_append_str(dst, SSL_CIPHER_get_name(ci));
        if (rc) rc = azr__settings_fail(c, rc, "list too long");
      }
    }
    SSL_CTX_free(ctx);
  }
  if (!rc) {
    char *old12 = c->s->cipher_list;
    c->s->cipher_list = NULL; /* both lists change together: stage the TLS 1.2 one first */
    rc = store_buf(c, &c->s->cipher_list, &t12);
    if (!rc) rc = store_buf(c, &c->s->tls13_ciphers, &t13);
    if (rc) {
      azr__free(c->mem, c->s->cipher_list);
      c->s->cipher_list = old12;
    } else {
      azr__free(c->mem, old12);
    }
  }
  azr__buf_free(&t13);
  azr__buf_free(&t12);
  return rc;
}

static int append_list(struct azr__buf *out, const char *list, char sep) {
  int rc = AZR_OK;
  for (const char *p = list; *p && !rc; p++) {
    if (*p == ':' || *p == sep) {
      rc = azr__buf_append_byte(out, (uint8_t)sep);
    } else {
      rc = azr__buf_append_byte(out, (uint8_t)*p);
    }
  }
  return rc;
}

int azr__settings_get_cipher_suites(const struct azr__listener_settings *s, struct azr__buf *out) {
  if (!nz(s->tls13_ciphers) && !nz(s->cipher_list)) return azr__buf_append_str(out, "*");
  int rc = AZR_OK;
  if (nz(s->tls13_ciphers)) rc = append_list(out, s->tls13_ciphers, ';');
  if (!rc && nz(s->tls13_ciphers) && nz(s->cipher_list)) rc = azr__buf_append_byte(out, ';');
  if (!rc && nz(s->cipher_list)) rc = append_list(out, s->cipher_list, ';');
  return rc;
}

/* The reference's group names and OpenSSL's. */
static const char *const group_names[][2] = {
    {"ecdhe_x25519", "X25519"},       {"ecdhe_x448", "X448"},           {"ecdhe_secp256r1", "P-256"},
    {"ecdhe_secp384r1", "P-384"},     {"ecdhe_secp521r1", "P-521"},     {"ffdhe_2048", "ffdhe2048"},
    {"ffdhe_3072", "ffdhe3072"},      {"ffdhe_4096", "ffdhe4096"},      {"ffdhe_6144", "ffdhe6144"},
    {"ffdhe_8192", "ffdhe8192"},
};

static const char *group_map(struct azr__span name, int from) {
  for (size_t i = 0; i < sizeof group_names / sizeof group_names[0]; i++)
    if (azr__span_ieq(name, group_names[i][from])) return group_names[i][1 - from];
  return NULL;
}

/* TLS12SupportedGroups / TLS13SupportedGroups (one list in OpenSSL): reference or OpenSSL names,
 * stored as OpenSSL's "X25519:P-256". */
int azr__settings_set_groups(struct azr__settings_call *c, const char *text) {
  int rc = azr__settings_check_text(c, text);
  if (rc) return rc;
  struct azr__buf list;
  azr__buf_init(&list, c->mem, 0);
  SSL_CTX *ctx = NULL;
  struct azr__span rest = azr__span_of(text), item;
  while (!rc && next_item(&rest, ",;:", &item)) {
    if (!item.len) continue;
    if (!ctx && !(ctx = SSL_CTX_new(TLS_client_method()))) {
      rc = azr__settings_fail(c, AZR_E_NOMEM, "cannot create an OpenSSL context");
      break;
    }
    const char *mapped = group_map(item, 0);
    char name[64];
    int n = snprintf(name, sizeof name, "%.*s", (int)item.len, item.ptr);
    if (mapped) snprintf(name, sizeof name, "%s", mapped);
    if (n < 0 || (size_t)n >= sizeof name || SSL_CTX_set1_groups_list(ctx, name) != 1) {
      ERR_clear_error();
      rc = azr__settings_fail(c, AZR_E_INVALID_ARG, "unknown group '%.*s' (e.g. ecdhe_x25519, ecdhe_secp256r1, ffdhe_2048)",
                              (int)(item.len > 40 ? 40 : item.len), item.ptr);
      break;
    }
    if (list.len) rc = azr__buf_append_byte(&list, ':');
    if (!rc) rc = azr__buf_append_str(&list, name);
    if (rc) rc = azr__settings_fail(c, rc, "list too long");
  }
  if (!rc && ctx && SSL_CTX_set1_groups_list(ctx, azr__buf_cstr(&list)) != 1) {
    ERR_clear_error();
    rc = azr__settings_fail(c, AZR_E_INVALID_ARG, "the list names a group twice");
  }
  SSL_CTX_free(ctx);
  if (!rc) rc = store_buf(c, &c->s->curves, &list);
  azr__buf_free(&list);
  return rc;
}

int azr__settings_get_groups(const struct azr__listener_settings *s, struct azr__buf *out) {
  if (!nz(s->curves)) return AZR_OK;
  struct azr__span rest = azr__span_of(s->curves), item;
  int rc = AZR_OK;
  bool first = true;
  while (!rc && next_item(&rest, ":", &item)) {
    const char *ref = group_map(item, 1);
    if (!first) rc = azr__buf_append_byte(out, ',');
    first = false;
    if (!rc) rc = ref ? azr__buf_append_str(out, ref) : azr__buf_append(out, item.ptr, item.len);
  }
  return rc;
}

/* ---- protocols and verification flags ---- */

static const uint32_t version_bits[4] = {AZR__PROTO_TLS10, AZR__PROTO_TLS11, AZR__PROTO_TLS12, AZR__PROTO_TLS13};

/* Index 0-3 (TLS 1.0-1.3) of the lowest and highest enabled version (either bit of a version's
 * client/server pair enables it); false when none. */
static bool protocol_range(uint32_t mask, int *lo, int *hi) {
  *lo = *hi = -1;
  for (int i = 0; i < 4; i++) {
    if (!(mask & version_bits[i])) continue;
    if (*lo < 0) *lo = i;
    *hi = i;
  }
  return *lo >= 0;
}

int azr__settings_check_protocols(struct azr__settings_call *c, const char *text, int64_t number) {
  (void)text;
  uint32_t m = (uint32_t)number;
  const uint32_t known = AZR__PROTO_TLS10 | AZR__PROTO_TLS11 | AZR__PROTO_TLS12 | AZR__PROTO_TLS13 | AZR__PROTO_SSL;
  if (m & ~known) return azr__settings_fail(c, AZR_E_INVALID_ARG, "0x%X has unknown bits (0x%X)", m, m & ~known);
  if (m & AZR__PROTO_SSL)
    return azr__settings_fail(c, AZR_E_UNSUPPORTED, "SSL 2.0 (0x0C) and SSL 3.0 (0x30) are not available in OpenSSL 3");
  int lo, hi;
  if (!protocol_range(m, &lo, &hi)) return azr__settings_fail(c, AZR_E_INVALID_ARG, "enable at least one TLS version");
  for (int i = lo; i <= hi; i++) {
    if (!(m & version_bits[i]))
      return azr__settings_fail(c, AZR_E_INVALID_ARG, "0x%X leaves a gap: OpenSSL enables a contiguous range of versions",
                                m);
  }
  return AZR_OK;
}

int azr__settings_check_security_flags(struct azr__settings_call *c, const char *text, int64_t number) {
  (void)text;
  uint32_t m = (uint32_t)number, ok = AZR__SECFLAG_UNKNOWN_CA | AZR__SECFLAG_IGNORE_NAME;
  if (m & ~ok)
    return azr__settings_fail(c, AZR_E_UNSUPPORTED,
                              "0x%08X cannot be honoured with OpenSSL: only 0x00000010 (skip chain verification) and "
                              "0x80000000 (skip the host name check) apply",
                              m & ~ok);
  return AZR_OK;
}

/* ---- signature algorithms ---- */

/* TLS12SignatureAlgorithms names "hash-signature" pairs (sha256-rsa, sha384-ecdsa); they become the
 * IANA names OpenSSL takes (the ones TLS13SignatureAlgorithms uses), or OpenSSL's SIG+HASH form where
 * TLS has none (DSA, SHA-224), so that one algorithm named in both settings is listed once. */
static const char *sigalg12_name(struct azr__span item) {
  static const char *const map[][2] = {
      {"sha1-rsa", "rsa_pkcs1_sha1"},        {"sha1-ecdsa", "ecdsa_sha1"},
      {"sha1-dsa", "DSA+SHA1"},              {"sha224-rsa", "RSA+SHA224"},
      {"sha224-ecdsa", "ECDSA+SHA224"},      {"sha224-dsa", "DSA+SHA224"},
      {"sha256-rsa", "rsa_pkcs1_sha256"},    {"sha256-ecdsa", "ecdsa_secp256r1_sha256"},
      {"sha256-dsa", "DSA+SHA256"},          {"sha256-rsapss", "rsa_pss_rsae_sha256"},
      {"sha384-rsa", "rsa_pkcs1_sha384"},    {"sha384-ecdsa", "ecdsa_secp384r1_sha384"},
      {"sha384-dsa", "DSA+SHA384"},          {"sha384-rsapss", "rsa_pss_rsae_sha384"},
      {"sha512-rsa", "rsa_pkcs1_sha512"},    {"sha512-ecdsa", "ecdsa_secp521r1_sha512"},
      {"sha512-dsa", "DSA+SHA512"},          {"sha512-rsapss", "rsa_pss_rsae_sha512"},
  };
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (azr__span_ieq(item, map[i][0])) return map[i][1];
  return NULL;
}

/* Appends name to the ':'-separated list unless it is there already. */
static int append_unique(struct azr__buf *list, const char *name, size_t len) {
  struct azr__span rest = azr__span_of(azr__buf_cstr(list)), item;
  while (rest.len && next_item(&rest, ":", &item))
    if (item.len == len && strncasecmp(item.ptr, name, len) == 0) return AZR_OK;
  int rc = list->len ? azr__buf_append_byte(list, ':') : AZR_OK;
  return rc ? rc : azr__buf_append(list, name, len);
}

/* Rebuilds s->sigalgs from both settings and checks it with OpenSSL. */
static int rebuild_sigalgs(struct azr__settings_call *c) {
  struct azr__buf all;
  azr__buf_init(&all, c->mem, 0);
  int rc = AZR_OK;
  struct azr__span rest = azr__span_of(c->s->sigalgs13 ? c->s->sigalgs13 : ""), item;
  while (!rc && rest.len && next_item(&rest, ",:;", &item))
    if (item.len) rc = append_unique(&all, item.ptr, item.len);
  rest = azr__span_of(c->s->sigalgs12 ? c->s->sigalgs12 : "");
  while (!rc && rest.len && next_item(&rest, ",:;", &item)) {
    if (!item.len) continue;
    const char *name = sigalg12_name(item);
    if (!name)
      rc = azr__settings_fail(c, AZR_E_INVALID_ARG,
                              "'%.*s' is not hash-signature (sha1..sha512 with rsa, dsa, ecdsa; rsapss from sha256)",
                              (int)item.len, item.ptr);
    else
      rc = append_unique(&all, name, strlen(name));
  }
  if (!rc && all.len) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_set1_sigalgs_list(ctx, azr__buf_cstr(&all)) != 1)
      rc = azr__settings_fail(c, AZR_E_INVALID_ARG, "OpenSSL does not know every signature algorithm in '%s'",
                              azr__buf_cstr(&all));
    SSL_CTX_free(ctx);
  }
  if (!rc) rc = store_buf(c, &c->s->sigalgs, &all);
  azr__buf_free(&all);
  return rc;
}

int azr__settings_set_sigalgs(struct azr__settings_call *c, const char *text) {
  int rc = azr__settings_check_text(c, text);
  if (rc) return rc;
  char **slot = strcmp(c->e->d.name, "TLS12SignatureAlgorithms") == 0 ? &c->s->sigalgs12 : &c->s->sigalgs13;
  char *old = *slot;
  *slot = NULL;
  struct azr__span t = trim(azr__span_of(text));
  rc = t.len ? azr__settings_store_text(c, slot, t.ptr, t.len) : AZR_OK;
  if (!rc) rc = rebuild_sigalgs(c);
  if (rc) { /* keep the previous value */
    azr__free(c->mem, *slot);
    *slot = old;
    (void)rebuild_sigalgs(c);
    return rc;
  }
  azr__free(c->mem, old);
  return AZR_OK;
}

/* ---- socket ---- */

int azr__settings_set_ip_version(struct azr__settings_call *c, const char *text) {
  int64_t n;
  int rc = azr__settings_parse_number(c, text, &n);
  if (!rc) c->s->ip_version = n == 0 ? 4 : n == 1 ? 6 : 0;
  return rc;
}

int azr__settings_get_ip_version(const struct azr__listener_settings *s, struct azr__buf *out) {
  return azr__buf_append_str(out, s->ip_version == 4 ? "0" : s->ip_version == 6 ? "1" : "2");
}

/* ---- the connect options ---- */

static long ceil_seconds(int ms) { return ms <= 0 ? 0 : (long)(((int64_t)ms + 999) / 1000); }

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void tls_options(const struct azr__listener_settings *s, struct azr__connect_options *o) {
  static const long min_version[4] = {CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_TLSv1_2,
                                      CURL_SSLVERSION_TLSv1_3};
  static const long max_version[4] = {CURL_SSLVERSION_MAX_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_1,
                                      CURL_SSLVERSION_MAX_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_3};
  o->ca_file = nz(s->ca_file);
  o->ca_path = nz(s->ca_dir);
  o->ca_pem = nz(s->server_ca_certs);
  uint32_t flags = (uint32_t)s->security_flags;
  o->insecure_skip_verify = (flags & AZR__SECFLAG_UNKNOWN_CA) != 0;
  o->skip_host_name_check = (flags & AZR__SECFLAG_IGNORE_NAME) != 0;
  const char *accept = nz(s->accept_server_cert);
  if (accept && strcmp(accept, "*") == 0) {
    o->insecure_skip_verify = true;
  } else if (accept) {
    /* This exact certificate is accepted whoever issued it: its key is pinned instead. */
    o->insecure_skip_verify = true;
    o->skip_host_name_check = true;
    o->pinned_public_key = accept + strlen(accept) + 1;
  }
  const char *cert = nz(s->client_cert);
  if (cert) {
    const char *type = s->client_cert_type;
    if (!type) type = has_suffix(cert, ".pfx") || has_suffix(cert, ".p12") ? "P12" : "PEM";
    o->client_cert = cert;
    o->client_cert_type = type;
    if (strcmp(type, "PEM") == 0) { /* key and certificate in one file */
      o->client_key = cert;
      o->client_key_type = "PEM";
    }
    o->client_key_password = nz(s->client_cert_password);
  }
  o->cipher_list = nz(s->cipher_list);
  o->tls13_ciphers = nz(s->tls13_ciphers);
  o->curves = nz(s->curves);
  int lo, hi;
  if (protocol_range((uint32_t)s->enabled_protocols, &lo, &hi)) {
    o->tls_min = min_version[lo];
    o->tls_max = max_version[hi];
  }
  o->no_session_reuse = !s->reuse_ssl_session;
  o->sigalgs = nz(s->sigalgs);
  o->client_chain_pem = nz(s->client_chain);
  o->keylog_file = nz(s->keylog_file);
  o->no_renegotiation = !s->allow_renegotiation;
  o->include_cert_chain = s->include_cert_chain;
  o->min_cipher_bits = s->min_cipher_bits;
}

static void proxy_options(const struct azr__listener_settings *s, struct azr__connect_options *o) {
  o->proxy_from_environment = s->proxy_auto_detect || s->firewall_auto_detect;
  if (s->firewall_type != 0 && nz(s->firewall_host)) {
    bool tunnel = s->firewall_type == 1;
    o->proxy_kind = tunnel                   ? AZR__PROXY_HTTP
                    : s->firewall_type == 2  ? AZR__PROXY_SOCKS4
                    : s->firewall_type == 10 ? AZR__PROXY_SOCKS4A
                                             : AZR__PROXY_SOCKS5H; /* the proxy resolves the relay's name */
    o->proxy_host = s->firewall_host;
    o->proxy_port = (uint16_t)(s->firewall_port > 0 ? s->firewall_port : tunnel ? 80 : 1080);
    o->proxy_user = nz(s->firewall_user);
    o->proxy_password = nz(s->firewall_password);
    o->proxy_auth = 0; /* any method the proxy offers */
    return;
  }
  if (!nz(s->proxy_server)) return;
  o->proxy_kind = s->proxy_ssl == 1 ? AZR__PROXY_HTTPS : AZR__PROXY_HTTP;
  o->proxy_host = s->proxy_server;
  o->proxy_port = (uint16_t)(s->proxy_port > 0 ? s->proxy_port : 80);
  static const unsigned auth[6] = {AZR__PROXY_AUTH_BASIC, AZR__PROXY_AUTH_DIGEST, 0, 0, AZR__PROXY_AUTH_NTLM,
                                   AZR__PROXY_AUTH_NEGOTIATE};
  bool none = s->proxy_auth_scheme == 3;
  o->proxy_auth = s->proxy_auth_scheme >= 0 && s->proxy_auth_scheme < 6 ? auth[s->proxy_auth_scheme] : 0;
  o->proxy_user = none ? NULL : nz(s->proxy_user);
  o->proxy_password = none ? NULL : nz(s->proxy_password);
  if (o->proxy_kind == AZR__PROXY_HTTPS) {
    /* The proxy's certificate is trusted like the relay's. */
    o->proxy_ca_file = nz(s->ca_file);
    o->proxy_insecure = nz(s->accept_server_cert) && strcmp(s->accept_server_cert, "*") == 0;
  }
}

void azr__settings_connect_options(const struct azr__listener_settings *s, struct azr__connect_options *o) {
  tls_options(s, o);
  proxy_options(s, o);
  o->local_interface = nz(s->local_host);
  o->ip_version = s->ip_version;
  o->connect_timeout_ms = s->connect_timeout_ms;
  o->tcp_keepalive_idle_s = ceil_seconds(s->tcp_keepalive_time_ms);
  o->tcp_keepalive_interval_s = o->tcp_keepalive_idle_s ? ceil_seconds(s->tcp_keepalive_interval_ms) : 0;
  o->tcp_keepalive_count = s->tcp_keepalive_count;
  o->so_rcvbuf = s->so_rcvbuf;
  o->so_sndbuf = s->so_sndbuf;
}

unsigned azr__settings_control_user_timeout_ms(const struct azr__listener_settings *s) {
  long idle = ceil_seconds(s->tcp_keepalive_time_ms);
  if (!idle) return 0;
  long interval = s->tcp_keepalive_interval_ms > 0 ? ceil_seconds(s->tcp_keepalive_interval_ms) : idle;
  int64_t total_s = (int64_t)idle + (int64_t)interval * (s->tcp_keepalive_count > 0 ? s->tcp_keepalive_count : 9);
  return total_s > 86400 ? 86400000u : (unsigned)(total_s * 1000);
}

void azr__settings_ws_options(const struct azr__listener_settings *s, struct azr__ws_options *o) {
  azr__ws_options_default(o);
  o->session.buffer_messages = s->buffer_message;
  o->session.max_message_size = (uint64_t)s->max_message_size;
  o->session.validate_utf8 = true;
  o->max_frame_size = (size_t)s->max_frame_size;
  o->send_queue_cap = (size_t)s->send_queue_size;
  o->dont_wait_for_close = !s->wait_for_close_response;
  o->close_timeout_ms = (uint32_t)s->close_timeout_s * 1000u;
  o->handshake_timeout_ms = (uint32_t)(s->connect_timeout_ms > 0 ? s->connect_timeout_ms : 30000);
  o->keepalive_ms = s->keepalive_s > 0 ? (uint32_t)s->keepalive_s * 1000u : 0;
}
