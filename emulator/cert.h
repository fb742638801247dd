/* SPDX-License-Identifier: MIT */
/* The emulator's generated TLS identity: a self-signed ECDSA P-256 certificate that clients can
 * trust directly (as a CA file) while the emulator serves it as its server certificate. */
#ifndef AZR_EMULATOR_CERT_H
#define AZR_EMULATOR_CERT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Generates a new P-256 key and a self-signed X.509 v3 certificate for it and appends both, as PEM,
 * to cert_pem ("CERTIFICATE") and key_pem (PKCS#8 "PRIVATE KEY").
 *
 * The certificate names every entry of dns_names and ip_addrs (IPv4 dotted or IPv6 text) in its
 * subjectAltName; the first DNS name is also the subject common name (left out when longer than the
 * 64 characters X.509 allows there). It is valid from one hour ago for 825 days, is marked CA:TRUE
 * so it can be its own trust anchor, and allows serverAuth.
 *
 * dns_count must be at least 1; ip_count may be 0. On failure both buffers keep their previous
 * content (anything appended is wiped) and err receives a message.
 * Returns AZR_OK, AZR_E_INVALID_ARG (no or malformed name or address), AZR_E_NOMEM, AZR_E_TOO_BIG
 * (a buffer's cap), AZR_E_TLS_CREDENTIALS (OpenSSL could not build or sign the certificate). */
int azr__emu_cert_generate(const char *const *dns_names, size_t dns_count, const char *const *ip_addrs,
                           size_t ip_count, struct azr__buf *cert_pem, struct azr__buf *key_pem, char *err,
                           size_t err_len);

/* Whether the PEM certificate's subjectAltName covers host (a DNS name, an IPv4 address or an
 * IPv6 address with or without brackets), as a client's host-name check would decide. */
bool azr__emu_cert_covers(const char *cert_pem, size_t cert_len, const char *host);
/* Whether host is a numeric IPv4 or IPv6 address (no brackets). */
bool azr__emu_cert_is_ip(const char *host);

#endif
