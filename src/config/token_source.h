/* SPDX-License-Identifier: MIT */
/* Where tokens come from (a key, a pre-issued token, or the application's provider) and how a
 * NamespaceAddress splits into host and port; shared by the listener and the sender client. */
#ifndef AZR_CONFIG_TOKEN_SOURCE_H
#define AZR_CONFIG_TOKEN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "azrelay/listener.h"
#include "config/settings.h"

struct azr__token_source {
  const struct azr__listener_settings *set;
  azr_token_provider_fn fn;
  void *ud;
};

/* A token for http://{host}/{entity}/: from the provider if set, else the pre-issued token, else
 * signed with AccessKeyName/AccessKey for TokenValidity seconds. *expiry_s gets its expiry. */
int azr__token_make(const struct azr__token_source *ts, const char *host, const char *entity, char *out,
                    size_t out_len, int64_t *expiry_s, char *err, size_t err_len);

/* "host", "host:port", "[v6]:port" or a URL form ("sb://host:port/") into host and port (0 = none). */
int azr__namespace_split(const char *ns, char *host, size_t host_len, uint16_t *port);

#endif
