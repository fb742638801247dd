/* SPDX-License-Identifier: MIT */
/**
 * @file token.h
 * @brief SAS tokens and Azure portal connection strings: pure functions, no network.
 *
 * A connection string ("Endpoint=sb://{namespace}/;SharedAccessKeyName=...;SharedAccessKey=...;
 * EntityPath=...") names a relay namespace and a credential. azr_connection_string_parse() splits it
 * into an ::azr_connection_string that the caller frees with azr_connection_string_free().
 * azr_sas_token_create() and azr_sas_token_for_entity() sign a SharedAccessSignature token
 * ("SharedAccessSignature sr=...&sig=...&se=...&skn=...") with a key; the string they return is
 * freed with azr_free(). All functions may be called from any thread; none keeps global state.
 * @since 1.0.0
 */
#ifndef AZRELAY_TOKEN_H
#define AZRELAY_TOKEN_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A parsed connection string. Every member is owned by the struct, valid until
 * azr_connection_string_free(), and NULL (or 0/false) when the connection string did not give it.
 * The struct is allocated by the library: do not copy it or free its members yourself.
 * @since 1.0.0
 */
typedef struct azr_connection_string {
  const char *endpoint;                /**< Endpoint as given, e.g. "sb://contoso.servicebus.windows.net/". */
  const char *host;                    /**< Host name of the endpoint, lower-cased (IPv6 without brackets). */
  uint16_t port;                       /**< Port of the endpoint; 0 when not given (use 443). */
  const char *key_name;                /**< SharedAccessKeyName. */
  const char *key;                     /**< SharedAccessKey (secret; wiped when freed). */
  const char *shared_access_signature; /**< SharedAccessSignature: a ready token (secret; wiped when freed). */
  const char *entity_path;             /**< EntityPath (the hybrid connection), without leading/trailing '/'. */
  bool use_development_emulator;       /**< UseDevelopmentEmulator=true. */
} azr_connection_string;

/**
 * @brief Parses an Azure portal connection string.
 *
 * Keys are case-insensitive and may come in any order; blanks around parts are ignored, as are empty
 * parts. Besides the members of ::azr_connection_string, OperationTimeout and Authentication are
 * accepted and ignored. Either SharedAccessKeyName + SharedAccessKey or SharedAccessSignature must be
 * present (not both).
 *
 * @param[in]  text     NUL-terminated connection string (at most 16 KiB).
 * @param[out] out      receives a new ::azr_connection_string, owned by the caller; free it with
 *                      azr_connection_string_free(). Set to NULL on failure.
 * @param[out] err      nullable buffer for a message saying what is wrong; the message names keys but
 *                      never contains the value of a key or signature.
 * @param[in]  err_len  size of @p err.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p text or @p out is NULL; AZR_E_BAD_CONNSTR if the text is
 *         malformed (missing Endpoint, scheme other than sb://, bad port, unknown or duplicate key,
 *         key without key name or the reverse, no or two credentials, key or key name over 256
 *         characters, text too long); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_connection_string_parse(const char *text, azr_connection_string **out, char *err,
                                                         size_t err_len);

/**
 * @brief Frees a parsed connection string, wiping its key and signature.
 * @param cs what azr_connection_string_parse() returned; NULL is ignored.
 * @since 1.0.0
 */
AZR_EXTERN void azr_connection_string_free(azr_connection_string *cs);

/**
 * @brief Creates a SAS token for a resource URI.
 *
 * The token is "SharedAccessSignature sr={sr}&sig={sig}&se={expiry_s}&skn={key_name}" where sr is
 * @p resource_uri percent-encoded and sig is the base64 HMAC-SHA256 of sr, a newline and the expiry,
 * under the key text (the key is used as text; its base64 is not decoded).
 *
 * @param[in]  resource_uri the audience, e.g. "http://contoso.servicebus.windows.net/hyco/".
 * @param[in]  key_name     the SAS rule name (1-256 characters).
 * @param[in]  key          the rule's key, as shown in the portal (1-256 characters).
 * @param[in]  expiry_s     expiry as seconds since 1970-01-01T00:00:00Z (>= 0); an absolute time, not
 *                          a lifetime.
 * @param[out] out_token    receives a NUL-terminated token owned by the caller; free it with
 *                          azr_free(). Set to NULL on failure.
 * @return AZR_OK; AZR_E_INVALID_ARG for a NULL or empty argument, an over-long key or key name or a
 *         negative expiry; AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_sas_token_create(const char *resource_uri, const char *key_name, const char *key,
                                                  int64_t expiry_s, char **out_token);

/**
 * @brief Creates a SAS token for one hybrid connection of a namespace.
 *
 * The audience is the one the .NET SDK uses:
 * "http://{host}/{entity_path}/" (host lower-cased, port dropped). With @p entity_path NULL or empty
 * the audience is "http://{host}/", which covers every hybrid connection of the namespace.
 *
 * @param[in]  host         namespace host name, e.g. "contoso.servicebus.windows.net" (a ":port" is ignored).
 * @param[in]  entity_path  nullable hybrid connection path.
 * @param[in]  key_name     as for azr_sas_token_create().
 * @param[in]  key          as for azr_sas_token_create().
 * @param[in]  expiry_s     as for azr_sas_token_create().
 * @param[out] out_token    as for azr_sas_token_create(); free with azr_free().
 * @return as azr_sas_token_create(); AZR_E_INVALID_ARG also for an empty host.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_sas_token_for_entity(const char *host, const char *entity_path, const char *key_name,
                                                      const char *key, int64_t expiry_s, char **out_token);

/**
 * @brief Frees memory the library returned to the caller (the tokens of azr_sas_token_create() and
 * azr_sas_token_for_entity()).
 * @param p what the library returned; NULL is ignored.
 * @since 1.0.0
 */
AZR_EXTERN void azr_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
