/* SPDX-License-Identifier: MIT */
/* Control-channel commands (§5.3-§5.7): JSON text <-> typed structs, for both the listener and the
 * emulator side. Parsing is strict about types and tolerant about order and unknown members
 * (§12.3); writing follows the member order the real service and SDKs use (§12.2). */
#ifndef AZR_PROTO_HC_CMD_H
#define AZR_PROTO_HC_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/mem.h"

/* Entries one headers object may hold when parsed (repeated names count each time). */
#define AZR__HC_MAX_HEADERS 256u

/* One header; name and value are owned, NUL-terminated UTF-8. */
struct azr__hc_header {
  char *name;
  char *value;
};

/* Headers in insertion order, one entry per name (case-insensitive). */
struct azr__hc_headers {
  struct azr__hc_header *items;
  size_t count;
};

/* Adds a header (copies name and value); a name already present (case-insensitive) gets ", " + value
 * appended to its value (§6.1, §7.1). AZR_E_INVALID_ARG for an empty name, AZR_E_NOMEM. */
int azr__hc_headers_add(const struct azr__mem *mem, struct azr__hc_headers *h, const char *name, size_t name_len,
                        const char *value, size_t value_len);
/* Value of `name` (case-insensitive) or NULL; borrowed from h. */
const char *azr__hc_headers_get(const struct azr__hc_headers *h, const char *name);
void azr__hc_headers_free(const struct azr__mem *mem, struct azr__hc_headers *h);
/* Appends {"Name":"value",...}. AZR_E_UTF8 when a string is not valid UTF-8; buffer errors. */
int azr__hc_headers_to_json(struct azr__buf *out, const struct azr__hc_headers *h);

/* remoteEndpoint: {"address": string, "port": number}. */
struct azr__hc_endpoint {
  bool present;
  char *address;
  int port;
};

/* §5.3 accept. */
struct azr__hc_accept {
  char *address;
  char *id;
  struct azr__hc_headers connect_headers;
  struct azr__hc_endpoint remote;
};

enum azr__hc_body { AZR__HC_BODY_ABSENT = 0, AZR__HC_BODY_FALSE, AZR__HC_BODY_TRUE };

/* §5.4 (full form) and §5.5 (rendezvous-only form) request. Absent strings are NULL. */
struct azr__hc_request {
  char *address;
  char *id;
  char *request_target;
  char *method;
  struct azr__hc_endpoint remote;
  struct azr__hc_headers request_headers;
  enum azr__hc_body body;
};

/* True for the rendezvous-only form: no method (how Node decides) or no body member (.NET/Java) (§5.5). */
bool azr__hc_request_is_rendezvous_only(const struct azr__hc_request *r);

/* §5.6 response. */
struct azr__hc_response {
  char *request_id;
  int status_code;
  char *status_description; /* NULL = absent */
  struct azr__hc_headers response_headers;
  bool body;
};

enum azr__hc_cmd_type { AZR__HC_CMD_ACCEPT = 1, AZR__HC_CMD_REQUEST, AZR__HC_CMD_RESPONSE, AZR__HC_CMD_RENEW_TOKEN };

struct azr__hc_cmd {
  enum azr__hc_cmd_type type;
  union {
    struct azr__hc_accept accept;
    struct azr__hc_request request;
    struct azr__hc_response response;
    struct {
      char *token; /* secret: wiped on free */
    } renew_token;
  } u;
};

/* Parses one control message. The JSON must be one object with exactly one member naming the command.
 * Returns AZR_OK (free *out with azr__hc_cmd_free), or, with *out zeroed and a message in err
 * (nullable):
 *   AZR_E_TOO_BIG   len > AZR_MAX_CONTROL_MSG
 *   AZR_E_NOT_FOUND the member is none of accept/request/response/renewToken (callers ignore those)
 *   AZR_E_PARSE     malformed JSON (incl. invalid UTF-8, control characters or "\u0000" in strings),
 *                   not an object, a required member missing, a member of the wrong type, a header
 *                   name that is not an HTTP token or a value with CR/LF, more than AZR__HC_MAX_HEADERS
 *                   headers, statusCode not an integer 100-999 (a numeric string is accepted, §13.1 #7),
 *                   a port outside 0-65535
 *   AZR_E_NOMEM
 * Members may come in any order; unknown ones are ignored; null counts as absent. Header values may be
 * strings or numbers (converted to text). */
int azr__hc_cmd_parse(const struct azr__mem *mem, const uint8_t *json, size_t len, struct azr__hc_cmd *out, char *err,
                      size_t err_len);
void azr__hc_cmd_free(const struct azr__mem *mem, struct azr__hc_cmd *cmd);

/* Writers append one JSON command to out (on failure out keeps its previous content). Strings are
 * escaped as JSON requires and kept as UTF-8. AZR_E_INVALID_ARG for a missing required member or an
 * out-of-range number, AZR_E_UTF8 for a string that is not valid UTF-8, buffer errors. */

/* {"accept":{address,id,connectHeaders,remoteEndpoint}}: connectHeaders and remoteEndpoint are always
 * written (Java dereferences both, §13.2); a missing endpoint is written as "0.0.0.0" port 0. */
int azr__hc_cmd_write_accept(struct azr__buf *out, const struct azr__hc_accept *a);
/* Full form {"request":{address,id,requestTarget,method,remoteEndpoint (when present),requestHeaders,body}}
 * when method != NULL (requestTarget defaults to "/"; address is left out when NULL, as a request on
 * a rendezvous may be, §7.4); otherwise the rendezvous-only form with only address and id (§5.5). */
int azr__hc_cmd_write_request(struct azr__buf *out, const struct azr__hc_request *r);
/* {"response":{requestId,statusCode,statusDescription (when set),responseHeaders,body}}. */
int azr__hc_cmd_write_response(struct azr__buf *out, const struct azr__hc_response *r);
/* {"renewToken":{"token":...}} (§3.7). */
int azr__hc_cmd_write_renew_token(struct azr__buf *out, const char *token);

/* Appends `s` as a JSON string literal with quotes. AZR_E_UTF8 when s is not valid UTF-8. */
int azr__json_append_string(struct azr__buf *out, const char *s, size_t len);

#endif
