/* SPDX-License-Identifier: MIT */
/* Private to settings.c and settings_transport.c: the table row type and the hooks that convert
 * settings which do not map 1:1 onto a field (certificates, cipher suites, groups, proxies). */
#ifndef AZR_CONFIG_SETTINGS_HOOKS_H
#define AZR_CONFIG_SETTINGS_HOOKS_H

#include <stdint.h>

#include "config/settings.h"
#include "config/settings_table.h"
#include "util/buf.h"
#include "util/mem.h"

struct azr__settings_entry;

/* One azr__settings_set call in progress. */
struct azr__settings_call {
  const struct azr__settings_entry *e;
  const struct azr__mem *mem;
  struct azr__listener_settings *s;
  char *err;
  size_t err_len;
};

struct azr__settings_entry {
  struct azr__setting_desc d;
  /* Extra validation after the generic parse: text as given, number when numeric. */
  int (*check)(struct azr__settings_call *c, const char *text, int64_t number);
  /* Replaces the generic parse-and-store. */
  int (*set)(struct azr__settings_call *c, const char *text);
  /* Replaces the generic formatting. */
  int (*get)(const struct azr__listener_settings *s, struct azr__buf *out);
};

/* Writes "Name: message" into the call's err and returns status. */
int azr__settings_fail(struct azr__settings_call *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The number in text, checked against the row's bounds (and enum values). */
int azr__settings_parse_number(struct azr__settings_call *c, const char *text, int64_t *out);
/* Size, UTF-8 and control-character checks of a text value. */
int azr__settings_check_text(struct azr__settings_call *c, const char *text);
/* Frees *slot (wiping it if the row is secret) and stores text (owned) there. */
void azr__settings_replace_text(struct azr__settings_call *c, char **slot, char *text);
/* Copies len bytes of v into *slot. */
int azr__settings_store_text(struct azr__settings_call *c, char **slot, const char *v, size_t len);

/* settings_transport.c */
int azr__settings_set_firewall_type(struct azr__settings_call *c, const char *text);
int azr__settings_set_proxy_auth_scheme(struct azr__settings_call *c, const char *text);
int azr__settings_set_accept_server_cert(struct azr__settings_call *c, const char *text);
int azr__settings_set_cert_store_type(struct azr__settings_call *c, const char *text);
int azr__settings_get_cert_store_type(const struct azr__listener_settings *s, struct azr__buf *out);
int azr__settings_set_cert_subject(struct azr__settings_call *c, const char *text);
int azr__settings_set_ip_version(struct azr__settings_call *c, const char *text);
int azr__settings_get_ip_version(const struct azr__listener_settings *s, struct azr__buf *out);
int azr__settings_set_ca_file_paths(struct azr__settings_call *c, const char *text);
int azr__settings_set_cipher_suites(struct azr__settings_call *c, const char *text);
int azr__settings_get_cipher_suites(const struct azr__listener_settings *s, struct azr__buf *out);
int azr__settings_set_groups(struct azr__settings_call *c, const char *text);
int azr__settings_get_groups(const struct azr__listener_settings *s, struct azr__buf *out);
/* TLS12SignatureAlgorithms / TLS13SignatureAlgorithms: stored as given, combined into sigalgs. */
int azr__settings_set_sigalgs(struct azr__settings_call *c, const char *text);
int azr__settings_check_protocols(struct azr__settings_call *c, const char *text, int64_t number);
int azr__settings_check_security_flags(struct azr__settings_call *c, const char *text, int64_t number);
int azr__settings_check_pem_certs(struct azr__settings_call *c, const char *text, int64_t number);

/* SSLEnabledProtocols bits of the reference, and SSLSecurityFlags bits that apply. */
#define AZR__PROTO_TLS10 0xC0u
#define AZR__PROTO_TLS11 0x300u
#define AZR__PROTO_TLS12 0xC00u
#define AZR__PROTO_TLS13 0x3000u
#define AZR__PROTO_SSL 0x3Cu /* SSL 2.0 (0x0C) and SSL 3.0 (0x30) */
#define AZR__SECFLAG_UNKNOWN_CA 0x10u
#define AZR__SECFLAG_IGNORE_NAME 0x80000000u

#endif
