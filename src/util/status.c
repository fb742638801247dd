/* SPDX-License-Identifier: MIT */
/* Status code names and sentences. */
#include <stddef.h>

#include "azrelay/common.h"

struct status_text {
  int code;
  const char *name;
  const char *text;
};

static const struct status_text table[] = {
    {AZR_OK, "AZR_OK", "Success."},
    {AZR_E_INVALID_ARG, "AZR_E_INVALID_ARG", "Invalid argument."},
    {AZR_E_NOMEM, "AZR_E_NOMEM", "Out of memory."},
    {AZR_E_BAD_STATE, "AZR_E_BAD_STATE", "Operation not allowed in the current state."},
    {AZR_E_TOO_BIG, "AZR_E_TOO_BIG", "Size limit exceeded."},
    {AZR_E_PARSE, "AZR_E_PARSE", "Malformed input."},
    {AZR_E_NOT_FOUND, "AZR_E_NOT_FOUND", "Not found."},
    {AZR_E_IO, "AZR_E_IO", "I/O error."},
    {AZR_E_PROTOCOL, "AZR_E_PROTOCOL", "Protocol violation by the peer."},
    {AZR_E_AUTH, "AZR_E_AUTH", "The relay refused the credentials."},
    {AZR_E_ENDPOINT_NOT_FOUND, "AZR_E_ENDPOINT_NOT_FOUND", "The relay endpoint was not found."},
    {AZR_E_HTTP_STATUS, "AZR_E_HTTP_STATUS", "Unexpected HTTP status."},
    {AZR_E_CLOSED, "AZR_E_CLOSED", "The connection is closed."},
    {AZR_E_UNSUPPORTED, "AZR_E_UNSUPPORTED", "Not supported on this platform."},
    {AZR_E_BAD_CONNSTR, "AZR_E_BAD_CONNSTR", "Malformed connection string."},
    {AZR_E_BAD_TOKEN, "AZR_E_BAD_TOKEN", "Invalid shared access signature token."},
    {AZR_E_UTF8, "AZR_E_UTF8", "Invalid UTF-8 text."},
    {AZR_E_PROXY, "AZR_E_PROXY", "The proxy or firewall refused the connection."},
    {AZR_E_FILE, "AZR_E_FILE", "File error."},
    {AZR_E_QUOTA, "AZR_E_QUOTA", "Quota exceeded."},
    {AZR_E_ALREADY_LISTENING, "AZR_E_ALREADY_LISTENING", "Already listening."},
    {AZR_E_CANT_CHANGE_MAX_CONNECTIONS, "AZR_E_CANT_CHANGE_MAX_CONNECTIONS",
     "Cannot change MaxConnections while listening."},
    {AZR_E_INVALID_CONN_ID, "AZR_E_INVALID_CONN_ID", "Invalid ConnectionId."},
    {AZR_E_TLS_CREDENTIALS, "AZR_E_TLS_CREDENTIALS", "Cannot acquire security credentials."},
    {AZR_E_TLS_VERIFY, "AZR_E_TLS_VERIFY", "Cannot verify certificate chain."},
    {AZR_E_TLS_HANDSHAKE, "AZR_E_TLS_HANDSHAKE", "Error during TLS handshake."},
    {AZR_E_SEND, "AZR_E_SEND", "Error sending data to the connected client."},
    {AZR_E_INTERRUPTED, "AZR_E_INTERRUPTED", "Interrupted."},
    {AZR_E_WOULDBLOCK, "AZR_E_WOULDBLOCK", "Operation would block."},
    {AZR_E_CONN_RESET, "AZR_E_CONN_RESET", "Connection reset by peer."},
    {AZR_E_TIMEOUT, "AZR_E_TIMEOUT", "Connection timed out."},
    {AZR_E_CONN_REFUSED, "AZR_E_CONN_REFUSED", "Connection refused."},
    {AZR_E_HOST_NOT_FOUND, "AZR_E_HOST_NOT_FOUND", "Host not found."},
};

static const struct status_text *find(int code) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].code == code) return &table[i];
  return NULL;
}

const char *azr_strerror(int status) {
  const struct status_text *t = find(status);
  return t ? t->text : "Unknown error.";
}

const char *azr_status_name(int status) {
  const struct status_text *t = find(status);
  return t ? t->name : "AZR_E_UNKNOWN";
}

const char *azr_version(void) { return AZR_VERSION_STRING; }
