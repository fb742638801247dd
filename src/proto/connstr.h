/* SPDX-License-Identifier: MIT */
/* Azure portal connection strings ("Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;
 * EntityPath=..."): parsing with precise, secret-free error messages, and formatting. */
#ifndef AZR_PROTO_CONNSTR_H
#define AZR_PROTO_CONNSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/mem.h"

/* A parsed connection string. Every string is owned by the struct (NULL when not given) and freed
 * by azr__connstr_free; key and sas are wiped on free. */
struct azr__connstr {
  char *endpoint;    /* the Endpoint value as given, e.g. "sb://contoso.servicebus.windows.net/" */
  char *host;        /* host of the endpoint, lower-cased, IPv6 without brackets */
  uint16_t port;     /* 0 = not given */
  char *key_name;    /* SharedAccessKeyName */
  char *key;         /* SharedAccessKey (secret) */
  char *sas;         /* SharedAccessSignature (secret) */
  char *entity_path; /* EntityPath, without leading/trailing '/' */
  bool use_development_emulator;
};

/* Parses `text`. Keys are case-insensitive; each part is split at its first '=' (keys end in '='
 * padding); blanks around parts, keys and values are trimmed; empty parts are skipped.
 * OperationTimeout and Authentication are accepted and ignored. On failure returns
 * AZR_E_BAD_CONNSTR (or AZR_E_NOMEM), writes a message naming the problem (never a secret value)
 * to err (nullable), and leaves *out zeroed. */
int azr__connstr_parse(const struct azr__mem *mem, const char *text, struct azr__connstr *out, char *err,
                       size_t err_len);

/* Frees the strings of c (wiping the secrets) and zeroes it. */
void azr__connstr_free(const struct azr__mem *mem, struct azr__connstr *c);

/* Appends "Endpoint=sb://{host}[:port]/;SharedAccessKeyName={key_name};SharedAccessKey={key}
 * [;EntityPath={entity_path}][;UseDevelopmentEmulator=true]". entity_path is nullable. An IPv6 host is
 * bracketed. AZR_E_INVALID_ARG for a missing host, key or key name, or a value containing ';'. On
 * failure out keeps its previous content. */
int azr__connstr_format(struct azr__buf *out, const char *host, uint16_t port, const char *key_name, const char *key,
                        const char *entity_path, bool use_development_emulator);

#endif
