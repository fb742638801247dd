/* SPDX-License-Identifier: MIT */
/* The listener's TLS settings against the emulator's real TLS server, through the public API only:
 * versions, cipher lists and suites, groups, CA sources, pinning, verification flags and the
 * certificate events, each checked by what was negotiated (SSLNegotiated*) or by the refusal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "azrelay.h"
#include "azrelay/emulator.h"

#define RULE "RootManageSharedAccessKey"
#define WAIT_MS 10000

static int failures;
static char tmpdir[256];
static char hashed_path[400]; /* the CA directory's one file, named by the subject hash */

__attribute__((format(printf, 1, 2))) static void check_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  failures++;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- certificates made here: one for another host name, one never served ---- */

struct keypair {
  char *cert_pem, *key_pem;
};

static char *bio_text(BIO *b) {
  char *p;
  long n = BIO_get_mem_data(b, &p);
  char *s = malloc((size_t)n + 1);
  if (s) {
    memcpy(s, p, (size_t)n);
    s[n] = 0;
  }
  return s;
}

/* A self-signed ECDSA P-256 server certificate naming only `host` (CN and DNS SAN). */
static int make_cert(const char *host, struct keypair *out) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
  char san[300];
  snprintf(san, sizeof san, "DNS:%s", host);
  X509V3_CTX ctx;
  X509_EXTENSION *ext = NULL;
  int ok = key && x && cb && kb && X509_set_version(x, X509_VERSION_3) &&
           ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(time(NULL) & 0x7fffffff)) &&
           X509_gmtime_adj(X509_getm_notBefore(x), -3600) && X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
           X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)host, -1,
                                      -1, 0) &&
           X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_set_pubkey(x, key);
  if (ok) {
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    ok = ext && X509_add_ext(x, ext, -1);
  }
  ok = ok && X509_sign(x, key, EVP_sha256()) && PEM_write_bio_X509(cb, x) &&
       PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
  if (ok) {
    out->cert_pem = bio_text(cb);
    out->key_pem = bio_text(kb);
    ok = out->cert_pem && out->key_pem;
  }
  X509_EXTENSION_free(ext);
  BIO_free(cb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(key);
  return ok ? 0 : -1;
}

/* A CA (self-signed, CA:TRUE) and a leaf for `host` that it signed: a two-certificate chain. */
static int make_chain(const char *host, struct keypair *ca, struct keypair *leaf) {
  EVP_PKEY *cakey = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
  X509 *cx = X509_new(), *x = X509_new();
  BIO *b[4] = {BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem())};
  X509_EXTENSION *e1 = NULL, *e2 = NULL;
  char san[300];
  snprintf(san, sizeof san, "DNS:%s", host);
  int ok = cakey && key && cx && x && b[0] && b[1] && b[2] && b[3] && X509_set_version(cx, X509_VERSION_3) &&
           X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(cx), 1) &&
           ASN1_INTEGER_set(X509_get_serialNumber(x), 2) && X509_gmtime_adj(X509_getm_notBefore(cx), -3600) &&
           X509_gmtime_adj(X509_getm_notAfter(cx), 86400) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
           X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
           X509_NAME_add_entry_by_txt(X509_get_subject_name(cx), "CN", MBSTRING_UTF8,
                                      (const unsigned char *)"azrelay test CA", -1, -1, 0) &&
           X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)host, -1,
                                      -1, 0) &&
           X509_set_issuer_name(cx, X509_get_subject_name(cx)) && X509_set_issuer_name(x, X509_get_subject_name(cx)) &&
           X509_set_pubkey(cx, cakey) && X509_set_pubkey(x, key);
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cx, cx, NULL, NULL, 0);
    e1 = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509V3_set_ctx(&ctx, cx, x, NULL, NULL, 0);
    e2 = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    ok = e1 && e2 && X509_add_ext(cx, e1, -1) && X509_add_ext(x, e2, -1);
  }
  ok = ok && X509_sign(cx, cakey, EVP_sha256()) && X509_sign(x, cakey, EVP_sha256()) && PEM_write_bio_X509(b[0], cx) &&
       PEM_write_bio_PrivateKey(b[1], cakey, NULL, NULL, 0, NULL, NULL) && PEM_write_bio_X509(b[2], x) &&
       PEM_write_bio_PrivateKey(b[3], key, NULL, NULL, 0, NULL, NULL);
  if (ok) {
    ca->cert_pem = bio_text(b[0]);
    ca->key_pem = bio_text(b[1]);
    leaf->cert_pem = bio_text(b[2]);
    leaf->key_pem = bio_text(b[3]);
    ok = ca->cert_pem && ca->key_pem && leaf->cert_pem && leaf->key_pem;
  }
  X509_EXTENSION_free(e1);
  X509_EXTENSION_free(e2);
  for (int i = 0; i < 4; i++) BIO_free(b[i]);
  X509_free(cx);
  X509_free(x);
  EVP_PKEY_free(cakey);
  EVP_PKEY_free(key);
  return ok ? 0 : -1;
}

static int count_certs(const char *pem) {
  int n = 0;
  for (const char *p = pem; (p = strstr(p, "BEGIN CERTIFICATE")) != NULL; p++) n++;
  return n;
}

/* The OpenSSL subject hash file name (<hash>.0) a CA directory needs for this certificate. */
static int hash_name(const char *pem, char *out, size_t len) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  int rc = x ? 0 : -1;
  if (x) snprintf(out, len, "%08lx.0", X509_subject_name_hash(x));
  X509_free(x);
  BIO_free(b);
  return rc;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  int rc = fputs(text, f) < 0 ? -1 : 0;
  return fclose(f) || rc ? -1 : 0;
}

/* The base64 body of a PEM certificate: its DER, as SSLAcceptServerCertEncoded also takes it. */
static void pem_body(const char *pem, char *out, size_t len) {
  const char *p = strchr(pem, '\n');
  size_t n = 0;
  for (p = p ? p + 1 : pem; *p && *p != '-' && n + 1 < len; p++)
    if (*p != '\n' && *p != '\r') out[n++] = *p;
  out[n] = 0;
}

/* ---- emulators, driven in turn with the listener and client on this thread ---- */

struct emu {
  azr_emulator *em;
  char connstr[1024];
  char cert_pem[8192];
};

static struct emu *emus[3];

static int emu_start(struct emu *e, const struct keypair *kp) {
  azr_emulator_options o = {0};
  o.port = 0;
  if (kp) {
    o.tls_cert_pem = kp->cert_pem;
    o.tls_key_pem = kp->key_pem;
  }
  if (azr_emulator_new(&e->em, &o, sizeof o) ||
      azr_emulator_add_rule(e->em, RULE, "dGxzLXRlc3Qta2V5LW5vdC1zZWNyZXQ=", NULL,
                            AZR_RIGHT_LISTEN | AZR_RIGHT_SEND | AZR_RIGHT_MANAGE, NULL) ||
      azr_emulator_add_hybrid_connection(e->em, "hc1", true) || azr_emulator_start(e->em) ||
      azr_emulator_get_connection_string(e->em, "hc1", RULE, e->connstr, sizeof e->connstr)) {
    printf("emulator: %s\n", e->em ? azr_emulator_get_last_error(e->em) : "cannot create");
    return -1;
  }
  snprintf(e->cert_pem, sizeof e->cert_pem, "%s", azr_emulator_get_certificate_pem(e->em));
  return 0;
}

/* One turn of every loop: what is ready now, then a short nap. */
static void pump(azr_listener *l, azr_client *c) {
  for (size_t i = 0; i < 3; i++)
    if (emus[i]) (void)azr_emulator_run(emus[i]->em, 0);
  if (l) (void)azr_listener_run(l, 0);
  if (c) (void)azr_client_run(c, 0);
  usleep(500);
}

/* ---- one listener attempt ---- */

struct probe {
  bool done;
  int status;
  char description[512];
  int ssl_status_events;
  int server_auth_events;
  char server_auth_status[256]; /* of the first SSLServerAuthentication event */
  int server_auth_certs;        /* certificates in its cert_pem */
  bool accept_failed_cert;      /* the SSLServerAuthentication handler accepts whatever failed */
  char echo[256];               /* what the echoing client got back */
  bool client_open, client_done;
  int client_status;
  char client_description[512];
  int conn_version_rc; /* reading SSLNegotiatedVersion[1] while the connection is open */
  char conn_version[128];
};

static void on_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  (void)l;
  struct probe *p = ud;
  if (p->done) return; /* a refused listener keeps retrying: the first outcome counts */
  p->done = true;
  p->status = ev->status;
  snprintf(p->description, sizeof p->description, "%s", ev->description ? ev->description : "");
}

static void on_ssl_status(azr_listener *l, const azr_ssl_status_event *ev, void *ud) {
  (void)l;
  (void)ev;
  ((struct probe *)ud)->ssl_status_events++;
}

static void on_server_auth(azr_listener *l, azr_ssl_server_authentication_event *ev, void *ud) {
  (void)l;
  struct probe *p = ud;
  if (p->server_auth_events++ == 0) {
    snprintf(p->server_auth_status, sizeof p->server_auth_status, "%s", ev->status ? ev->status : "");
    p->server_auth_certs = count_certs(ev->cert_pem ? ev->cert_pem : "");
  }
  if (getenv("AZR_TLS_DEBUG"))
    printf("  SSLServerAuthentication: subject '%s', status '%s', accept %d\n", ev->subject, ev->status, ev->accept);
  if (p->accept_failed_cert && !ev->accept) ev->accept = true;
}

static void on_data(azr_listener *l, const azr_data_in_event *ev, void *ud) {
  (void)ud;
  (void)azr_conn_send_fragment(l, ev->conn_id, ev->format ? ev->format : AZR_DATA_BINARY, ev->data, ev->len, ev->eom);
}

/* Creates a listener on emulator `e` with `sets` ("Name=Value", NULL-terminated) and waits for the
 * first outcome of its control channel. The listener is returned for reading back settings. */
static azr_listener *attempt(const char *name, struct emu *e, const char *const *sets, struct probe *p) {
  azr_listener *l = NULL;
  if (azr_listener_new(&l) || azr_listener_set_connection_string(l, e->connstr)) {
    check_fail("%s: cannot create the listener", name);
    azr_listener_free(l);
    return NULL;
  }
  /* Refused attempts retry quickly but the first outcome is all we wait for. */
  (void)azr_listener_config(l, "ReconnectDelayFirstMs=5000");
  for (size_t i = 0; sets && sets[i]; i++) {
    if (azr_listener_config(l, sets[i]) != AZR_OK) {
      check_fail("%s: setting '%.60s' refused: %s", name, sets[i], azr_listener_get_last_error(l));
      azr_listener_free(l);
      return NULL;
    }
  }
  azr_listener_callbacks cb = {0};
  cb.on_connected = on_connected;
  cb.on_ssl_status = on_ssl_status;
  cb.on_ssl_server_authentication = on_server_auth;
  cb.on_connection_data_in = on_data;
  (void)azr_listener_set_callbacks(l, &cb, sizeof cb, p);
  if (azr_listener_start(l)) {
    check_fail("%s: start failed: %s", name, azr_listener_get_last_error(l));
    azr_listener_free(l);
    return NULL;
  }
  for (int64_t end = now_ms() + WAIT_MS; !p->done && now_ms() < end;) pump(l, NULL);
  if (!p->done) {
    p->status = -1;
    snprintf(p->description, sizeof p->description, "no outcome within %d ms", WAIT_MS);
  }
  return l;
}

static void finish(azr_listener *l) {
  if (!l) return;
  (void)azr_listener_shutdown(l);
  for (int i = 0; i < 20; i++) pump(l, NULL);
  azr_listener_free(l);
}

static void get(azr_listener *l, const char *name, char *out, size_t len) {
  if (azr_listener_get_config(l, name, out, len) != AZR_OK) snprintf(out, len, "<%s>", azr_listener_get_last_error(l));
}

/* Expects the listener online and each (setting, value) pair read back exactly. */
static void expect_online(const char *name, struct emu *e, const char *const *sets, const char *const *readback) {
  struct probe p = {0};
  azr_listener *l = attempt(name, e, sets, &p);
  if (!l) return;
  if (p.status != AZR_OK) {
    check_fail("%s: expected online, got %s: %s", name, azr_status_name(p.status), p.description);
  } else {
    bool ok = true;
    for (size_t i = 0; readback && readback[i]; i += 2) {
      char v[8192];
      get(l, readback[i], v, sizeof v);
      if (strcmp(v, readback[i + 1]) != 0) {
        check_fail("%s: %s is '%s', expected '%s'", name, readback[i], v, readback[i + 1]);
        ok = false;
      }
    }
    if (ok) {
      char ver[64], cipher[128], kx[64];
      get(l, "SSLNegotiatedVersion", ver, sizeof ver);
      get(l, "SSLNegotiatedCipher", cipher, sizeof cipher);
      get(l, "SSLNegotiatedKeyExchange", kx, sizeof kx);
      printf("ok: %s (online: %s, %s, %s)\n", name, ver, cipher, kx);
    }
  }
  finish(l);
}

/* Expects the first attempt refused with `status` and a description containing `needle`. */
static void expect_refused(const char *name, struct emu *e, const char *const *sets, int status, const char *needle) {
  struct probe p = {0};
  azr_listener *l = attempt(name, e, sets, &p);
  if (!l) return;
  if (p.status != status || !strstr(p.description, needle))
    check_fail("%s: expected %s mentioning '%s', got %s: %s", name, azr_status_name(status), needle,
               azr_status_name(p.status), p.description);
  else
    printf("ok: %s (refused: %s: %s)\n", name, azr_status_name(p.status), p.description);
  finish(l);
}

/* ---- an echo through a listener and a client that share TLS settings ---- */

static void c_open(azr_client *c, const azr_client_open_event *ev, void *ud) {
  int status = ev->status;
  int http_status = ev->http_status;
  const char *description = ev->description;
  struct probe *p = ud;
  (void)http_status;
  p->client_status = status;
  snprintf(p->client_description, sizeof p->client_description, "%s", description ? description : "");
  if (status) {
    p->client_done = true;
    return;
  }
  p->client_open = true;
  static const char msg[] = "over restricted TLS";
  if (azr_client_send(c, AZR_DATA_TEXT, msg, sizeof msg - 1, true) != AZR_OK) p->client_done = true;
}

static void c_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  (void)c;
  struct probe *p = ud;
  size_t n = strlen(p->echo);
  snprintf(p->echo + n, sizeof p->echo - n, "%.*s", (int)ev->len, (const char *)ev->data);
  if (ev->eom) p->client_done = true;
}

/* A client with `sets` sends one message through listener `l`: the outcome lands in p->client_*, what
 * came back in p->echo, and SSLNegotiatedVersion[1] is read while the connection is still open. */
static void client_exchange(azr_listener *l, struct emu *e, const char *const *sets, struct probe *p) {
  azr_client *c = NULL;
  if (azr_client_new(&c) || azr_client_set_connection_string(c, e->connstr)) {
    p->client_status = -1;
    azr_client_free(c);
    return;
  }
  for (size_t i = 0; sets && sets[i]; i++) (void)azr_client_config(c, sets[i]);
  azr_client_callbacks cb = {c_open, c_data, NULL, NULL};
  (void)azr_client_set_callbacks(c, &cb, sizeof cb, p);
  if (azr_client_connect(c, "", NULL) != AZR_OK) {
    p->client_status = -1;
    p->client_done = true;
  }
  for (int64_t end = now_ms() + WAIT_MS; !p->client_done && now_ms() < end;) pump(l, c);
  p->conn_version_rc = azr_listener_get_config(l, "SSLNegotiatedVersion[1]", p->conn_version, sizeof p->conn_version);
  if (p->conn_version_rc) snprintf(p->conn_version, sizeof p->conn_version, "%s", azr_listener_get_last_error(l));
  if (azr_client_is_open(c)) {
    (void)azr_client_close(c, 1000, "done");
    for (int i = 0; i < 50 && azr_client_is_open(c); i++) pump(l, c);
  }
  azr_client_free(c);
}

/* The listener keeps one CA store for all its connections (io/tls_ca_store.c): a CA file replaced on
 * disk counts for the next rendezvous, and no session verified with the old file resumes. */
static void test_ca_file_replaced(struct emu *e, const char *dir, const char *other_pem) {
  char file[300], ca[400];
  snprintf(file, sizeof file, "%s/rotating.pem", dir);
  snprintf(ca, sizeof ca, "OpenSSLCAFile=%s", file);
  if (write_file(file, e->cert_pem)) {
    check_fail("CA file replaced: cannot write %s", file);
    return;
  }
  const char *sets[] = {ca, NULL};
  struct probe p = {0};
  azr_listener *l = attempt("CA file replaced", e, sets, &p);
  if (!l || p.status != AZR_OK) {
    check_fail("CA file replaced: listener not online: %s", p.description);
    finish(l);
    return;
  }
  client_exchange(l, e, sets, &p);
  if (strcmp(p.echo, "over restricted TLS") != 0) check_fail("CA file replaced: first echo '%s'", p.echo);
  if (write_file(file, other_pem)) check_fail("CA file replaced: cannot rewrite %s", file);
  /* The next rendezvous handshake must verify the relay against the new file, and fail. */
  azr_listener_stats before = {0}, now = {0};
  (void)azr_listener_get_stats(l, &before, sizeof before);
  azr_client *c = NULL;
  struct probe q = {0};
  if (!azr_client_new(&c) && !azr_client_set_connection_string(c, e->connstr)) {
    (void)azr_client_config(c, "SSLSecurityFlags=0x10"); /* the sender trusts the relay whatever the file says */
    azr_client_callbacks cb = {c_open, c_data, NULL, NULL};
    (void)azr_client_set_callbacks(c, &cb, sizeof cb, &q);
    if (azr_client_connect(c, "", NULL) == AZR_OK)
      for (int64_t end = now_ms() + WAIT_MS; now_ms() < end;) {
        pump(l, c);
        (void)azr_listener_get_stats(l, &now, sizeof now);
        if (now.connections_failed > before.connections_failed ||
            now.connections_accepted > before.connections_accepted)
          break;
      }
  }
  if (now.connections_accepted > before.connections_accepted)
    check_fail("CA file replaced: the next rendezvous still trusted the old file (or resumed its session)");
  else if (now.connections_failed == before.connections_failed)
    check_fail("CA file replaced: no outcome of the next rendezvous within %d ms", WAIT_MS);
  else
    printf("ok: CA file replaced on disk: the next rendezvous is verified against it and refused\n");
  azr_client_free(c);
  finish(l);
}

static void test_exchange(struct emu *e, const char *cert_file) {
  char ca[400];
  snprintf(ca, sizeof ca, "OpenSSLCAFile=%s", cert_file);
  const char *tls12[] = {ca, "SSLEnabledProtocols=3072", "OpenSSLCipherList=ECDHE-ECDSA-AES128-GCM-SHA256", NULL};
  struct probe p = {0};
  azr_listener *l = attempt("exchange over TLS 1.2", e, tls12, &p);
  if (!l) return;
  if (p.status != AZR_OK) {
    check_fail("exchange: listener not online: %s", p.description);
  } else {
    client_exchange(l, e, tls12, &p);
    if (p.client_status != AZR_OK || strcmp(p.echo, "over restricted TLS") != 0)
      check_fail("exchange: client %s (%s), echo '%s'", azr_status_name(p.client_status), p.client_description, p.echo);
    else
      printf("ok: listener and client both restricted to TLS 1.2 / one suite exchange a message\n");
    /* The per-connection readback FEATURES.md lists (SSLNegotiatedVersion[id]), while it is open. */
    if (p.conn_version_rc != AZR_OK)
      check_fail("SSLNegotiatedVersion[1] is not readable while the connection is open: %s: %s",
                 azr_status_name(p.conn_version_rc), p.conn_version);
    else if (strcmp(p.conn_version, "TLSv1.2") != 0)
      check_fail("SSLNegotiatedVersion[1] is '%s', expected TLSv1.2", p.conn_version);
    else
      printf("ok: SSLNegotiatedVersion[1] = %s\n", p.conn_version);
    /* A client whose only suite the relay cannot use is refused in the handshake. */
    const char *bad[] = {ca, "SSLEnabledProtocols=3072", "OpenSSLCipherList=ECDHE-RSA-AES128-GCM-SHA256", NULL};
    struct probe q = {0};
    client_exchange(l, e, bad, &q);
    if (q.client_status != AZR_E_TLS_HANDSHAKE)
      check_fail("client with an RSA-only suite: expected AZR_E_TLS_HANDSHAKE, got %s (%s)",
                 azr_status_name(q.client_status), q.client_description);
    else
      printf("ok: client with an RSA-only suite refused: %s\n", q.client_description);
  }
  finish(l);
}

/* ---- TLS settings applied through libcurl's SSL_CTX hook ---- */

static void test_tls_extras(struct emu *a, const char *ca, const char *dir) {
  /* SSLCipherStrength: the emulator settles on the only suite offered; too weak a one is refused. */
  expect_refused("SSLCipherStrength=256 with only AES-128 offered", a,
                 (const char *[]){ca, "SSLEnabledCipherSuites=TLS_AES_128_GCM_SHA256", "SSLCipherStrength=256", NULL},
                 AZR_E_TLS_HANDSHAKE, "SSLCipherStrength");
  expect_online("SSLCipherStrength=128 with AES-128", a,
                (const char *[]){ca, "SSLEnabledCipherSuites=TLS_AES_128_GCM_SHA256", "SSLCipherStrength=128", NULL},
                (const char *[]){"SSLNegotiatedCipherStrength", "128", NULL});
  /* Signature algorithms: the emulator's certificate is ECDSA P-256. */
  expect_refused("TLS13SignatureAlgorithms without ECDSA", a,
                 (const char *[]){ca, "TLS13SignatureAlgorithms=rsa_pss_rsae_sha256,ed25519", NULL},
                 AZR_E_TLS_HANDSHAKE, "");
  expect_online("TLS13SignatureAlgorithms=ecdsa_secp256r1_sha256", a,
                (const char *[]){ca, "TLS13SignatureAlgorithms=ecdsa_secp256r1_sha256", NULL}, NULL);
  expect_refused("TLS12SignatureAlgorithms=sha256-rsa over TLS 1.2", a,
                 (const char *[]){ca, "SSLEnabledProtocols=3072", "TLS12SignatureAlgorithms=sha256-rsa", NULL},
                 AZR_E_TLS_HANDSHAKE, "");
  expect_online("TLS12SignatureAlgorithms=sha256-ecdsa over TLS 1.2", a,
                (const char *[]){ca, "SSLEnabledProtocols=3072", "TLS12SignatureAlgorithms=sha256-ecdsa", NULL},
                (const char *[]){"SSLNegotiatedVersion", "TLSv1.2", NULL});
  /* SSLKeyLogFile: the handshake's secrets land in the file. */
  char log_path[300], keylog[400];
  snprintf(log_path, sizeof log_path, "%s/keys.log", dir);
  snprintf(keylog, sizeof keylog, "SSLKeyLogFile=%s", log_path);
  expect_online("SSLKeyLogFile", a, (const char *[]){ca, keylog, NULL}, NULL);
  FILE *f = fopen(log_path, "r");
  char text[4096] = "";
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  text[n] = 0;
  if (f) fclose(f);
  unlink(log_path);
  if (!strstr(text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET") || !strstr(text, "SERVER_TRAFFIC_SECRET_0"))
    check_fail("SSLKeyLogFile: %s holds no TLS 1.3 secrets (%zu bytes)", log_path, n);
  else
    printf("ok: SSLKeyLogFile received the session secrets\n");
  /* SSLIncludeCertChain: a relay whose certificate a CA signed shows the chain, or only its leaf. */
  struct keypair cakp = {0}, leaf = {0};
  static struct emu c;
  char ca_path[300], trust[400];
  snprintf(ca_path, sizeof ca_path, "%s/chain-ca.pem", dir);
  snprintf(trust, sizeof trust, "OpenSSLCAFile=%s", ca_path);
  if (make_chain("localhost", &cakp, &leaf) || emu_start(&c, &leaf) || write_file(ca_path, cakp.cert_pem)) {
    check_fail("SSLIncludeCertChain: cannot set up a CA-signed relay");
  } else {
    emus[2] = &c;
    for (int include = 0; include <= 1; include++) {
      struct probe p = {0};
      azr_listener *l = attempt("SSLIncludeCertChain", &c,
                                (const char *[]){trust, include ? "SSLIncludeCertChain=true" : NULL, NULL}, &p);
      if (l && (p.status != AZR_OK || p.server_auth_certs != (include ? 2 : 1)))
        check_fail("SSLIncludeCertChain=%d: %s, %d certificates in the event", include, p.description,
                   p.server_auth_certs);
      else if (l)
        printf("ok: SSLIncludeCertChain=%s: %d certificate(s) in SSLServerAuthentication\n", include ? "true" : "false",
               p.server_auth_certs);
      finish(l);
    }
    emus[2] = NULL;
  }
  unlink(ca_path);
  if (c.em) azr_emulator_free(c.em);
  free(cakp.cert_pem);
  free(cakp.key_pem);
  free(leaf.cert_pem);
  free(leaf.key_pem);
}

/* ---- the cases ---- */

static int run(void) {
  struct keypair other = {0}, named = {0};
  if (make_cert("other.test", &other) || make_cert("relay.test", &named)) {
    printf("cannot generate test certificates\n");
    return 1;
  }
  static struct emu a, b;
  if (emu_start(&a, NULL) || emu_start(&b, &named)) return 1;
  emus[0] = &a;
  emus[1] = &b;

  char cert_file[300], named_file[300], ca_dir[300], hname[32];
  snprintf(cert_file, sizeof cert_file, "%s/relay.pem", tmpdir);
  snprintf(named_file, sizeof named_file, "%s/relay-test.pem", tmpdir);
  snprintf(ca_dir, sizeof ca_dir, "%s/cadir", tmpdir);
  if (write_file(cert_file, a.cert_pem) || write_file(named_file, named.cert_pem) || mkdir(ca_dir, 0700) ||
      hash_name(a.cert_pem, hname, sizeof hname)) {
    printf("cannot write the test files in %s\n", tmpdir);
    return 1;
  }
  snprintf(hashed_path, sizeof hashed_path, "%s/%s", ca_dir, hname);
  if (write_file(hashed_path, a.cert_pem)) return 1;

  char ca[400], ca_named[400], dir[400], paths[800], server_ca[9000], pin[9000], pin_der[9000], pin_other[9000],
      der[8192];
  snprintf(ca, sizeof ca, "OpenSSLCAFile=%s", cert_file);
  snprintf(ca_named, sizeof ca_named, "OpenSSLCAFile=%s", named_file);
  snprintf(dir, sizeof dir, "OpenSSLCADir=%s", ca_dir);
  snprintf(paths, sizeof paths, "SSLCACertFilePaths=%s/missing.pem;%s", tmpdir, cert_file);
  snprintf(server_ca, sizeof server_ca, "SSLServerCACerts=%s", a.cert_pem);
  snprintf(pin, sizeof pin, "SSLAcceptServerCertEncoded=%s", a.cert_pem);
  pem_body(a.cert_pem, der, sizeof der);
  snprintf(pin_der, sizeof pin_der, "SSLAcceptServerCertEncoded=%s", der);
  snprintf(pin_other, sizeof pin_other, "SSLAcceptServerCertEncoded=%s", other.cert_pem);

  /* Defaults: TLS 1.3, a P-384 key share (what Azure's front ends pick); the certificate is reported
   * and readable. */
  {
    int before = failures;
    struct probe p = {0};
    const char *sets[] = {ca, NULL};
    azr_listener *l = attempt("defaults", &a, sets, &p);
    if (l && p.status == AZR_OK) {
      char v[64], pem[8192];
      get(l, "SSLNegotiatedVersion", v, sizeof v);
      get(l, "SSLServerCertEncoded", pem, sizeof pem);
      if (strcmp(v, "TLSv1.3") != 0) check_fail("defaults: version %s", v);
      if (strcmp(pem, a.cert_pem) != 0)
        check_fail("defaults: SSLServerCertEncoded differs from the served certificate");
      if (p.ssl_status_events < 2) check_fail("defaults: %d SSLStatus events", p.ssl_status_events);
      if (p.server_auth_events < 1 || strcmp(p.server_auth_status, "OK") != 0)
        check_fail("defaults: SSLServerAuthentication x%d '%s'", p.server_auth_events, p.server_auth_status);
      if (failures == before)
        printf("ok: defaults (TLSv1.3, certificate read back, %d SSLStatus events, authentication OK)\n",
               p.ssl_status_events);
    } else if (l) {
      check_fail("defaults: %s", p.description);
    }
    finish(l);
  }

  /* Versions. */
  expect_online("TLS 1.2 only", &a, (const char *[]){ca, "SSLEnabledProtocols=3072", NULL},
                (const char *[]){"SSLNegotiatedVersion", "TLSv1.2", "SSLEnabledProtocols", "3072", NULL});
  expect_online("TLS 1.3 only", &a, (const char *[]){ca, "SSLEnabledProtocols=0x3000", NULL},
                (const char *[]){"SSLNegotiatedVersion", "TLSv1.3", NULL});

  /* Cipher lists and suites. */
  expect_online(
      "OpenSSLCipherList, one TLS 1.2 suite", &a,
      (const char *[]){ca, "SSLEnabledProtocols=3072", "OpenSSLCipherList=ECDHE-ECDSA-CHACHA20-POLY1305", NULL},
      (const char *[]){"SSLNegotiatedVersion", "TLSv1.2", "SSLNegotiatedCipher", "ECDHE-ECDSA-CHACHA20-POLY1305",
                       "SSLNegotiatedCipherSuite", "ECDHE-ECDSA-CHACHA20-POLY1305", "SSLNegotiatedCipherStrength",
                       "256", NULL});
  expect_online("SSLEnabledCipherSuites, IANA TLS 1.2 name", &a,
                (const char *[]){ca, "SSLEnabledProtocols=3072",
                                 "SSLEnabledCipherSuites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", NULL},
                (const char *[]){"SSLNegotiatedCipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "SSLNegotiatedCipherStrength",
                                 "128", NULL});
  expect_online("SSLEnabledCipherSuites, one TLS 1.3 suite", &a,
                (const char *[]){ca, "SSLEnabledCipherSuites=TLS_CHACHA20_POLY1305_SHA256", NULL},
                (const char *[]){"SSLNegotiatedVersion", "TLSv1.3", "SSLNegotiatedCipher",
                                 "TLS_CHACHA20_POLY1305_SHA256", "SSLEnabledCipherSuites",
                                 "TLS_CHACHA20_POLY1305_SHA256", NULL});
  expect_refused(
      "a TLS 1.2 suite the relay's ECDSA key cannot use", &a,
      (const char *[]){ca, "SSLEnabledProtocols=3072", "OpenSSLCipherList=ECDHE-RSA-AES128-GCM-SHA256", NULL},
      AZR_E_TLS_HANDSHAKE, "handshake failure");
  expect_refused(
      "a TLS 1.3 suite the relay does not enable", &a,
      (const char *[]){ca, "SSLEnabledProtocols=0x3000", "SSLEnabledCipherSuites=TLS_AES_128_CCM_SHA256", NULL},
      AZR_E_TLS_HANDSHAKE, "handshake failure");

  /* Groups (reference and OpenSSL names). */
  expect_online("TLS13SupportedGroups=P-384", &a, (const char *[]){ca, "TLS13SupportedGroups=P-384", NULL},
                (const char *[]){"SSLNegotiatedVersion", "TLSv1.3", "SSLNegotiatedKeyExchange", "secp384r1",
                                 "SSLNegotiatedKeyExchangeStrength", "384", "TLS13SupportedGroups", "ecdhe_secp384r1",
                                 NULL});
  /* In TLS 1.2 the groups also bound the server key's curve (P-256 here), so P-256 must stay listed:
   * the server takes the client's first choice. */
  expect_online(
      "TLS12SupportedGroups=ecdhe_secp521r1,ecdhe_secp256r1 over TLS 1.2", &a,
      (const char *[]){ca, "SSLEnabledProtocols=3072", "TLS12SupportedGroups=ecdhe_secp521r1,ecdhe_secp256r1", NULL},
      (const char *[]){"SSLNegotiatedVersion", "TLSv1.2", "SSLNegotiatedKeyExchange", "secp521r1",
                       "SSLNegotiatedKeyExchangeStrength", "521", "TLS12SupportedGroups",
                       "ecdhe_secp521r1,ecdhe_secp256r1", NULL});
  expect_refused("TLS 1.2 with only groups the relay's P-256 key cannot sign under", &a,
                 (const char *[]){ca, "SSLEnabledProtocols=3072", "TLS12SupportedGroups=ecdhe_x25519", NULL},
                 AZR_E_TLS_HANDSHAKE, "handshake failure");
  /* Default: X25519 first (a relay that prefers P-384 teaches the listener: test_api_transport). */
  expect_online("default group: X25519 with a relay that takes it", &a, (const char *[]){ca, NULL},
                (const char *[]){"SSLNegotiatedKeyExchange", "X25519", NULL});

  /* Where trust comes from. */
  expect_online("SSLServerCACerts (PEM text)", &a, (const char *[]){server_ca, NULL}, NULL);
  expect_online("OpenSSLCADir (hashed directory)", &a, (const char *[]){dir, NULL}, NULL);
  expect_online("SSLCACertFilePaths (first readable)", &a, (const char *[]){paths, NULL},
                (const char *[]){"OpenSSLCAFile", cert_file, NULL});
  expect_refused("no CA for the relay's certificate", &a, NULL, AZR_E_TLS_VERIFY, "certificate");
  {
    struct probe p = {.accept_failed_cert = true};
    azr_listener *l = attempt("SSLServerAuthentication accepts", &a, NULL, &p);
    if (l && (p.status != AZR_OK || p.server_auth_events < 1 || strcmp(p.server_auth_status, "OK") == 0))
      check_fail("SSLServerAuthentication accepting a failed certificate: %s (status '%s')", p.description,
                 p.server_auth_status);
    else if (l)
      printf("ok: SSLServerAuthentication accepted a certificate that failed with '%s'\n", p.server_auth_status);
    /* One event per handshake, however often OpenSSL revisits the leaf. */
    if (l && p.server_auth_events != 1)
      check_fail("%d SSLServerAuthentication events for one handshake, expected 1", p.server_auth_events);
    finish(l);
  }

  /* Pinning. */
  expect_online("SSLAcceptServerCertEncoded = the relay's PEM, no CA", &a, (const char *[]){pin, NULL}, NULL);
  expect_online("SSLAcceptServerCertEncoded = the relay's base64 DER, no CA", &a, (const char *[]){pin_der, NULL},
                NULL);
  expect_refused("SSLAcceptServerCertEncoded = another certificate", &a, (const char *[]){pin_other, NULL},
                 AZR_E_TLS_VERIFY, "public key");

  /* Verification flags, against a certificate naming only relay.test while we dial localhost. */
  expect_refused("certificate for another host name", &b, (const char *[]){ca_named, NULL}, AZR_E_TLS_VERIFY,
                 "localhost");
  expect_online("SSLSecurityFlags=0x80000000 (ignore the name)", &b,
                (const char *[]){ca_named, "SSLSecurityFlags=0x80000000", NULL}, NULL);
  expect_refused("SSLSecurityFlags=0x80000000 still checks the chain", &b,
                 (const char *[]){"SSLSecurityFlags=0x80000000", NULL}, AZR_E_TLS_VERIFY, "certificate");
  expect_online("SSLSecurityFlags=0x10 (unknown CA)", &a, (const char *[]){"SSLSecurityFlags=0x10", NULL}, NULL);

  test_exchange(&a, cert_file);
  test_ca_file_replaced(&a, tmpdir, other.cert_pem);
  test_tls_extras(&a, ca, tmpdir);

  emus[0] = emus[1] = NULL;
  azr_emulator_free(a.em);
  azr_emulator_free(b.em);
  free(other.cert_pem);
  free(other.key_pem);
  free(named.cert_pem);
  free(named.key_pem);
  return failures ? 1 : 0;
}

static void remove_files(const char *root) {
  char path[600];
  const char *files[] = {"relay.pem", "relay-test.pem", NULL};
  for (size_t i = 0; files[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", root, files[i]);
    unlink(path);
  }
  if (hashed_path[0]) unlink(hashed_path);
  snprintf(path, sizeof path, "%s/cadir", root);
  rmdir(path);
  rmdir(root);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/azr-tls.XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  int rc = run();
  remove_files(tmpdir);
  printf("%s: %d failure(s)\n", rc ? "FAILED" : "PASSED", failures);
  return rc;
}
