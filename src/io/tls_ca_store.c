/* SPDX-License-Identifier: MIT */
/* One CA store per owner, loaded as libcurl 7.88 loads one per connection (see tls_ca_store.h). */
#include "io/tls_ca_store.h"

#include <curl/curl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>

static struct azr__ca_source_id source_id(const char *name) {
  struct azr__ca_source_id id = {0};
  struct stat st;
  if (!name || stat(name, &st) != 0) return id;
  id.present = true;
  id.dev = (uint64_t)st.st_dev;
  id.ino = (uint64_t)st.st_ino;
  id.size = (uint64_t)st.st_size;
  id.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
  return id;
}

static bool same_id(const struct azr__ca_source_id *a, const struct azr__ca_source_id *b) {
  return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_ns == b->mtime_ns;
}

static bool same_text(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* What libcurl reads for these options: the PEM text replaces the file; a file or directory not
 * given is libcurl's built-in default. */
static void effective(const char **file, const char **path, const char *pem) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  bool has_defaults = v->age >= CURLVERSION_SEVENTH;
  if (!*file && has_defaults) *file = v->cainfo;
  if (!*path && has_defaults) *path = v->capath;
  if (pem) *file = NULL;
}

/* Every certificate and CRL of the PEM text; false when one cannot be added or there is none. */
static bool add_pem(X509_STORE *store, const char *pem) {
  size_t len = strlen(pem);
  if (len > INT_MAX) return false;
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;
  int added = 0;
  bool ok = infos != NULL;
  for (int i = 0; ok && i < sk_X509_INFO_num(infos); i++) {
    X509_INFO *info = sk_X509_INFO_value(infos, i);
    if (info->x509) ok = X509_STORE_add_cert(store, info->x509) == 1;
    if (ok && info->crl) ok = X509_STORE_add_crl(store, info->crl) == 1;
    added += ok && (info->x509 || info->crl);
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  BIO_free(b);
  return ok && added > 0;
}

/* As libcurl: a file or directory that fails is fatal unless PEM text was loaded. */
static X509_STORE *build(const char *file, const char *path, const char *pem) {
  X509_STORE *store = X509_STORE_new();
  if (!store) return NULL;
  bool ok = true;
  if (pem) ok = add_pem(store, pem);
  if (ok && file && !X509_STORE_load_file(store, file)) ok = pem != NULL;
  if (ok && path && !X509_STORE_load_path(store, path)) ok = pem != NULL;
  ERR_clear_error();
  if (!ok) {
    X509_STORE_free(store);
    return NULL;
  }
  /* The flags libcurl sets on a verifying connection's store (it sets them again on this one). */
  X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
  return store;
}

static void drop(struct azr__ca_store *c, const struct azr__mem *mem) {
  X509_STORE_free(c->store);
  azr__free(mem, c->file);
  azr__free(mem, c->path);
  azr__free(mem, c->pem);
  memset(c, 0, sizeof *c);
}

static bool copy_text(const struct azr__mem *mem, char **dst, const char *src) {
  *dst = src ? azr__strdup(mem, src) : NULL;
  return !src || *dst;
}

X509_STORE *azr__ca_store_get(struct azr__ca_store *c, const struct azr__mem *mem, const char *file, const char *path,
                              const char *pem, bool *replaced) {
  *replaced = false;
  const char *eff_file = file, *eff_path = path;
  effective(&eff_file, &eff_path, pem);
  struct azr__ca_source_id file_id = source_id(eff_file), path_id = source_id(eff_path);
  if (c->store && same_text(c->file, file) && same_text(c->path, path) && same_text(c->pem, pem) &&
      same_id(&c->file_id, &file_id) && same_id(&c->path_id, &path_id))
    return c->store;
  X509_STORE *store = build(eff_file, eff_path, pem);
  if (!store) return NULL; /* the old store (if any) stays for the options it was built from */
  *replaced = c->store != NULL;
  drop(c, mem);
  c->store = store;
  c->file_id = file_id;
  c->path_id = path_id;
  if (!copy_text(mem, &c->file, file) || !copy_text(mem, &c->path, path) || !copy_text(mem, &c->pem, pem)) {
    drop(c, mem);
    return NULL;
  }
  return c->store;
}

void azr__ca_store_free(struct azr__ca_store *c, const struct azr__mem *mem) { drop(c, mem); }
