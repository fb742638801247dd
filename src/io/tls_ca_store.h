/* SPDX-License-Identifier: MIT */
/* One store of trusted CA certificates for every TLS connection of an owner (io/transport_curl.c).
 *
 * libcurl 7.88 loads the CA file into a new store for each connection and keeps it as long as the
 * connection (its cache of stores is off whenever a CA directory is set, and Debian's libcurl always
 * has one by default): a few KiB per connection with one CA certificate, hundreds with the system
 * bundle. This store holds the same certificates once, loaded the way libcurl would load them: the
 * PEM text (which replaces the file), else the file, then the directory, libcurl's built-in default
 * for a file or directory not given, and the verification flags libcurl sets. It is rebuilt when the
 * options change or the file or directory changes on disk (checked on each get). */
#ifndef AZR_IO_TLS_CA_STORE_H
#define AZR_IO_TLS_CA_STORE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/mem.h"

struct azr__ca_source_id {
  bool present;
  uint64_t dev, ino, size, mtime_ns;
};

struct azr__ca_store {
  X509_STORE *store;                 /* NULL until the first get */
  char *file, *path, *pem;           /* the options it was built from (NULL = not given) */
  struct azr__ca_source_id file_id, path_id; /* what was on disk then */
};

/* The store for these options (NULL = not given), built or reused; the caller takes a reference with
 * X509_STORE_up_ref for as long as it needs it. NULL when it cannot be built as libcurl would build it
 * (an unreadable file, PEM text without a certificate, out of memory): the caller then leaves the CA
 * options to libcurl, which reports the problem in its own words. *replaced tells that an earlier
 * store was dropped (different options or files): TLS sessions verified with it must not resume. */
X509_STORE *azr__ca_store_get(struct azr__ca_store *c, const struct azr__mem *mem, const char *file, const char *path,
                              const char *pem, bool *replaced);
void azr__ca_store_free(struct azr__ca_store *c, const struct azr__mem *mem);

#endif
