/* SPDX-License-Identifier: MIT */
/* Shared Access Signature tokens (§3): signing, parsing and the service-side authorization check.
 * Sans-I/O: the HMAC function and the current time are parameters, never looked up here. */
#ifndef AZR_PROTO_SAS_H
#define AZR_PROTO_SAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/str.h"

/* HMAC-SHA256 of msg under key into out; 0 on success (util/crypto.h's azr__hmac_sha256 fits). */
typedef int (*azr__hmac_sha256_fn)(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                                   uint8_t out[32]);

/* Appends the .NET-style audience "http://{host}/{entity}/" (§3.3): host lower-cased, any ":port"
 * removed, entity without leading or trailing '/' (entity_path NULL or "" gives "http://{host}/", a
 * namespace-wide audience). AZR_E_INVALID_ARG for an empty host; AZR_E_TOO_BIG / AZR_E_NOMEM from the
 * buffer. On failure out keeps its previous content. */
int azr__sas_audience(struct azr__buf *out, const char *host, const char *entity_path);

/* Appends "SharedAccessSignature sr={pct(audience)}&sig={pct(base64(hmac))}&se={expiry_s}&skn={pct(key_name)}"
 * (§3.1, §3.2). The HMAC key is the key text's bytes (base64 text NOT decoded); the string to sign is
 * pct(audience) + "\n" + decimal expiry. AZR_E_INVALID_ARG for NULL/empty arguments, a key or key name
 * longer than AZR_MAX_SAS_KEY, a negative expiry or a failing hmac; buffer errors as above. On failure
 * out keeps its previous content. */
int azr__sas_sign(struct azr__buf *out, const char *audience, const char *key_name, const char *key,
                  int64_t expiry_s, azr__hmac_sha256_fn hmac);

/* The four fields of a token, as raw (still percent-encoded) spans into the parsed token. */
struct azr__sas_fields {
  struct azr__span sr, sig, se, skn;
  int64_t expiry_s; /* se as a number */
};

/* Splits a token: prefix "SharedAccessSignature" (case-insensitive) + blank(s), then '&'-separated
 * name=value fields in any order, names case-insensitive (§3.1). All four fields must be present once
 * and non-empty, se must be a non-negative decimal; unknown fields are ignored. AZR_E_BAD_TOKEN
 * otherwise (also above AZR_MAX_TOKEN bytes). */
int azr__sas_parse(struct azr__span token, struct azr__sas_fields *out);

/* Rights of a SAS rule (§3.5). Manage implies Listen and Send. */
enum azr__sas_right { AZR__RIGHT_LISTEN = 1, AZR__RIGHT_SEND = 2, AZR__RIGHT_MANAGE = 4 };

/* One authorization rule; all strings borrowed. */
struct azr__sas_rule {
  const char *name;
  const char *primary_key;
  const char *secondary_key; /* nullable */
  unsigned rights;           /* enum azr__sas_right bits */
  const char *entity;        /* NULL = namespace-level rule */
};

enum azr__sas_verdict {
  AZR__SAS_OK = 0,
  AZR__SAS_MISSING,         /* no token where one is required */
  AZR__SAS_MALFORMED,       /* not a SharedAccessSignature token, or a field missing/undecodable */
  AZR__SAS_UNKNOWN_RULE,    /* skn names no rule of the namespace or of this entity */
  AZR__SAS_BAD_SIGNATURE,   /* no key of the rule reproduces sig */
  AZR__SAS_EXPIRED,         /* se is in the past (after clock skew) */
  AZR__SAS_WRONG_AUDIENCE,  /* sr does not cover the entity (§3.3) */
  AZR__SAS_MISSING_RIGHT    /* the rule lacks the needed right */
};

/* What to check a token against; everything borrowed. */
struct azr__sas_check {
  const struct azr__sas_rule *rules;
  size_t rule_count;
  const char *const *namespace_hosts; /* host names the namespace answers to (no port needed) */
  size_t host_count;
  const char *entity_path;            /* the hybrid connection being accessed, e.g. "hyco" or "a/b" */
  unsigned needed_right;              /* enum azr__sas_right bits; 0 = any valid token */
  int64_t now_s;                      /* current time, seconds since the Unix epoch */
  int64_t clock_skew_s;               /* tolerance for expiry, >= 0 */
  azr__hmac_sha256_fn hmac;
};

/* The §3.6 algorithm, steps 2-7, in that order: parse, rule lookup by percent-decoded skn (namespace
 * rules and rules of this entity, name case-insensitive), signature over the raw sr and se as sent
 * with the primary then the secondary key (constant-time compare of the decoded signature), expiry,
 * audience (§3.3), rights. `token` is the token text after the carrier's own decoding (an empty span
 * means no token). *out_expiry_s (nullable) receives se once the token parsed; *out_rule (nullable)
 * receives the rule whose key verified the signature, else NULL. */
enum azr__sas_verdict azr__sas_authorize(const struct azr__sas_check *c, struct azr__span token,
                                         int64_t *out_expiry_s, const struct azr__sas_rule **out_rule);

/* Service-like text for a verdict (§10.4); for AZR__SAS_MISSING_RIGHT it names the claim of
 * needed_right ("Unauthorized access. 'Listen' claim(s) are required to perform this operation.").
 * Static, never NULL. */
const char *azr__sas_verdict_text(enum azr__sas_verdict v, unsigned needed_right);

/* The audience check of §3.3 alone: true when `audience` (the decoded sr) is an absolute URI whose
 * host matches one of hosts (case-insensitive, port ignored, any scheme) and whose path is a
 * segment-aligned, case-insensitive prefix of entity_path (trailing '/' ignored; empty path = whole
 * namespace). */
bool azr__sas_audience_matches(struct azr__span audience, const char *const *hosts, size_t host_count,
                               const char *entity_path);

#endif
