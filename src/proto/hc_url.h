/* SPDX-License-Identifier: MIT */
/* Hybrid Connections addressing (§2, §6.4, §7.1): splitting absolute URLs, building the listen,
 * connect, HTTP and reject URLs, and reading the `$hc` request targets the service receives. */
#ifndef AZR_PROTO_HC_URL_H
#define AZR_PROTO_HC_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/str.h"

/* Parts of an absolute URL; spans point into the parsed text (path may point to a static "/"). */
struct azr__url {
  struct azr__span scheme; /* as written ("wss") */
  struct azr__span host;   /* IPv6 addresses without their brackets */
  struct azr__span path;   /* starts with '/', "/" when the URL has none */
  struct azr__span query;  /* without '?'; empty when absent; a fragment is dropped */
  uint16_t port;           /* 0 = absent */
};

/* Splits an absolute sb, ws, wss, http or https URL (scheme case-insensitive). AZR_E_PARSE for any
 * other scheme, userinfo, an empty or invalid host, a port outside 1-65535, or a byte <= 0x20 or 0x7f. */
int azr__url_split(struct azr__span url, struct azr__url *out);

/* The URL builders below append to out (on failure out keeps its previous content). Hosts are
 * written as given (an IPv6 address is bracketed); port 0 omits the port. Entity paths lose their
 * leading '/'; bytes that may not appear in a URI are percent-encoded ('%' is kept, so encoded
 * input passes through). The token is form-encoded (space as '+', §3.2). All return
 * AZR_E_INVALID_ARG for a missing host/entity/tracking id or an out-of-range argument, and
 * AZR_E_TOO_BIG / AZR_E_NOMEM from the buffer. */

/* Control channel (§2.2): "{ws|wss}://{host}[:port]/$hc/{entity}?sb-hc-action=listen&sb-hc-id={id}[&sb-hc-token=..]". */
int azr__hc_url_listen(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *entity_path,
                       const char *tracking_id, const char *token);
/* Sender WebSocket (§2.2): entity_path is "{entity}[/suffix][?app-query]"; the app query comes first:
 * "...?{app-query&}sb-hc-action=connect[&sb-hc-id={id}][&sb-hc-token=..]". */
int azr__hc_url_connect(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *entity_path,
                        const char *tracking_id, const char *token);
/* HTTP sender (§2.2, §7.1): "{http|https}://{host}[:port]/{entity}[/suffix][?q][&|?]sb-hc-token=..". */
int azr__hc_url_http(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *path_and_query,
                     const char *token);
/* Reject (§6.4): accept_address + "&sb-hc-statusCode={code}&sb-hc-statusDescription={pct(text)}"
 * (description omitted when NULL; '?' instead of '&' if the address has no query). status_code must
 * be 100-999. */
int azr__hc_url_reject(struct azr__buf *out, const char *accept_address, int status_code,
                       const char *status_description);

/* A rendezvous address the relay handed out (accept, request commands) may be followed only when
 * it is a ws/wss/http/https URL that azr__url_split accepts and, when the control channel uses TLS,
 * a wss or https one: a relay, or whoever tampered with the channel, must not be able to move a
 * connection to plaintext. AZR_E_PROTOCOL with a sentence in err (nullable) otherwise. */
int azr__hc_url_check_rendezvous(const char *address, bool control_tls, char *err, size_t err_len);

/* Finds the first query parameter whose name equals `name` case-insensitively; *raw_value
 * (nullable) gets its still-encoded value (empty for a bare name). */
bool azr__query_find(struct azr__span query, const char *name, struct azr__span *raw_value);

/* Appends the query with the service's own parameters removed, exactly the §7.1 step-3 rule: split on
 * '&', drop each segment whose name starts with "sb-hc-" (case-insensitive) and that contains '=',
 * keep every other segment verbatim (empty ones too), re-join with '&'. Nothing is appended when no
 * segment is left. */
int azr__query_filter_sb_hc(struct azr__buf *out, struct azr__span query);

enum azr__hc_action {
  AZR__HC_ACTION_NONE = 0, /* no sb-hc-action: a `$hc` upgrade then means connect (§2.3) */
  AZR__HC_ACTION_LISTEN,
  AZR__HC_ACTION_CONNECT,
  AZR__HC_ACTION_ACCEPT,
  AZR__HC_ACTION_REQUEST,
  AZR__HC_ACTION_UNKNOWN
};

/* A request target as the service sees it; spans point into the parsed target. */
struct azr__hc_target {
  bool is_hc;               /* the path started with "/$hc/" (WebSocket addressing) */
  struct azr__span path;    /* entity + suffix, without the leading '/' and "$hc/" */
  struct azr__span query;   /* without '?' */
  enum azr__hc_action action;
  struct azr__span id;      /* raw sb-hc-id value (empty when absent) */
  bool has_token;           /* sb-hc-token present */
  bool has_status_code;     /* sb-hc-statusCode present (a reject) */
  int status_code;          /* its value; 0 when not an integer in 100-999 */
};

/* Reads an origin-form target "/$hc/..." or "/...". §2.1 quirk: when there is no literal '?', a
 * "%3F" in the path starts the query. AZR_E_PARSE when the target does not start with '/' or holds a
 * byte <= 0x20 or 0x7f. */
int azr__hc_target_parse(struct azr__span request_target, struct azr__hc_target *out);
/* Appends the form-decoded sb-hc-token value. AZR_E_NOT_FOUND when absent, AZR_E_PARSE on a bad escape. */
int azr__hc_target_token(const struct azr__hc_target *t, struct azr__buf *out);
/* Appends the form-decoded sb-hc-statusDescription ('+' and %20 both mean space). Errors as above. */
int azr__hc_target_status_description(const struct azr__hc_target *t, struct azr__buf *out);
/* Appends the requestTarget a listener gets (§5.4, §7.1): "/" + path, then "?" + the filtered query
 * when anything is left of it. */
int azr__hc_request_target(struct azr__buf *out, const struct azr__hc_target *t);

/* Resolves the entity of `path` (entity + suffix, no leading '/'): the longest entity that is a
 * case-insensitive, segment-aligned prefix (entities may contain '/'; their leading/trailing '/' are
 * ignored). *out_suffix gets the rest of the path, starting with '/' or empty. AZR_E_NOT_FOUND when
 * nothing matches. */
int azr__hc_entity_match(struct azr__span path, const char *const *entities, size_t count, size_t *out_index,
                         struct azr__span *out_suffix);

#endif
