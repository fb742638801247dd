/* SPDX-License-Identifier: MIT */
/**
 * @file common.h
 * @brief Status codes, export macros, log levels and the version query shared by every azrelay header.
 *
 * Every fallible function returns an ::azr_status (0 = success). Where a situation matches one of the
 * reference receiver's error numbers (126 invalid connection id, 10035 would block, ...) the same number
 * is used. Each handle also keeps a detail message for its last failure (see the handle's
 * `*_get_last_error()` function); the wording of messages is not part of the API, the codes are.
 *
 * The functions of this file keep no state: they may be called from any thread.
 *
 * @since 1.0.0
 */
#ifndef AZRELAY_COMMON_H
#define AZRELAY_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "azrelay/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @def AZR_EXTERN
 * @brief Marks a declaration as part of the library's exported interface.
 *
 * Empty for applications. The shared library is built with hidden visibility and BUILDING_AZRELAY,
 * so only declarations carrying this macro are exported; linking the static library
 * (azrelay::azrelay_static, which defines AZR_STATICLIB) needs no export marks.
 * @since 1.0.0
 */
#if defined(AZR_STATICLIB)
#define AZR_EXTERN
#elif defined(BUILDING_AZRELAY)
#define AZR_EXTERN __attribute__((visibility("default")))
#else
#define AZR_EXTERN
#endif

/**
 * @def AZR_NODISCARD
 * @brief Asks the compiler to warn when a returned status is ignored.
 *
 * Only where a (void) cast can silence it (clang): GCC's warn_unused_result cannot be silenced, which
 * would make deliberate ignoring (e.g. of a best-effort close) impossible for users. Empty elsewhere.
 * @since 1.0.0
 */
#if defined(__clang__)
#define AZR_NODISCARD __attribute__((warn_unused_result))
#else
#define AZR_NODISCARD
#endif

/**
 * @brief Status codes returned by every fallible function.
 *
 * Values are stable and never renumbered; new codes may be added, so treat an unknown value as a
 * failure and print it with azr_strerror(). Codes 1-19 are azrelay's own; the others reuse the
 * reference receiver's numbers. Fields named `status` in events hold these values too.
 * @since 1.0.0
 */
typedef enum azr_status {
  AZR_OK = 0,                /**< Success. */

  /* azrelay's own codes (no equivalent in the reference). */
  AZR_E_INVALID_ARG = 1,     /**< A caller-supplied argument is NULL, empty or out of range. */
  AZR_E_NOMEM = 2,           /**< An allocation failed. */
  AZR_E_BAD_STATE = 3,       /**< The call is not allowed in the handle's current state. */
  AZR_E_TOO_BIG = 4,         /**< Input or output exceeds a configured or protocol limit. */
  AZR_E_PARSE = 5,           /**< Malformed input (JSON, URL, HTTP head, ...). */
  AZR_E_NOT_FOUND = 6,       /**< The named item (config setting, request, file) does not exist. */
  AZR_E_IO = 7,              /**< A system I/O call failed; the detail message has the system text. */
  AZR_E_PROTOCOL = 8,        /**< The peer violated the WebSocket or Hybrid Connections protocol. */
  AZR_E_AUTH = 9,            /**< The relay refused the credentials (HTTP 401 or 403). */
  AZR_E_ENDPOINT_NOT_FOUND = 10, /**< The relay answered 404 (no such hybrid connection, no listener). */
  AZR_E_HTTP_STATUS = 11,    /**< The relay or peer answered with an unexpected HTTP status. */
  AZR_E_CLOSED = 12,         /**< The connection is closed or closing. */
  AZR_E_UNSUPPORTED = 13,    /**< The feature is not applicable on this platform. */
  AZR_E_BAD_CONNSTR = 14,    /**< The connection string is malformed or incomplete. */
  AZR_E_BAD_TOKEN = 15,      /**< A SAS token is malformed, expired or has a wrong signature. */
  AZR_E_UTF8 = 16,           /**< Text is not valid UTF-8. */
  AZR_E_PROXY = 17,          /**< The proxy or SOCKS firewall refused or failed the connection. */
  AZR_E_FILE = 18,           /**< A file could not be opened or read. */
  AZR_E_QUOTA = 19,          /**< A connection or listener quota is exhausted. */

  /* Numbers shared with the reference receiver. */
  AZR_E_ALREADY_LISTENING = 104,  /**< StartListening while already listening. */
  AZR_E_CANT_CHANGE_MAX_CONNECTIONS = 108, /**< MaxConnections cannot change while listening. */
  AZR_E_INVALID_CONN_ID = 126,    /**< No connection (or HTTP request) has that id. */
  AZR_E_TLS_CREDENTIALS = 273,    /**< Client certificate or key could not be loaded. */
  AZR_E_TLS_VERIFY = 275,         /**< The server's certificate chain did not verify. */
  AZR_E_TLS_HANDSHAKE = 276,      /**< The TLS handshake failed. */
  AZR_E_SEND = 4202,              /**< Error sending data to the connected client. */
  AZR_E_INTERRUPTED = 10004,      /**< A synchronous operation was interrupted (Interrupt). */
  AZR_E_WOULDBLOCK = 10035,       /**< The send queue is full; wait for the ready-to-send event. */
  AZR_E_CONN_RESET = 10054,       /**< The peer reset the connection. */
  AZR_E_TIMEOUT = 10060,          /**< The operation timed out. */
  AZR_E_CONN_REFUSED = 10061,     /**< The connection was refused. */
  AZR_E_HOST_NOT_FOUND = 11001    /**< The host name could not be resolved. */
} azr_status;

/**
 * @brief Describes a status code in one English sentence.
 * @param status an ::azr_status value (any int is accepted).
 * @return a static, never-NULL string ("Unknown error." for a value that is not a status code).
 *         The wording may change between releases: do not parse it.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_strerror(int status);
/**
 * @brief Names a status code.
 * @param status an ::azr_status value (any int is accepted).
 * @return a static, never-NULL string: the enumerator's identifier ("AZR_E_WOULDBLOCK"), or
 *         "AZR_E_UNKNOWN" for a value that is not a status code.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_status_name(int status);
/**
 * @brief The version of the library linked at run time.
 *
 * Compare it with AZR_VERSION_STRING (the headers compiled against) to detect a mismatch.
 * @return a static string "major.minor.patch".
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_version(void);

/**
 * @brief Log levels, numbered as the reference's LogLevel setting.
 *
 * A log sink receives messages whose level is at most the handle's level (the LogLevel setting of a
 * listener or client, azr_emulator_options::log_level for the emulator).
 * @since 1.0.0
 */
typedef enum azr_log_level {
  AZR_LOG_NONE = 0,    /**< Nothing is logged. */
  AZR_LOG_INFO = 1,    /**< Connections, disconnections, errors (default). */
  AZR_LOG_VERBOSE = 2, /**< Every connection and control-channel step. */
  AZR_LOG_DEBUG = 3    /**< Protocol detail: headers, commands, frames. Secrets are still redacted. */
} azr_log_level;

/**
 * @brief Log sink, registered with azr_listener_set_log(), azr_client_set_log() or
 * azr_emulator_options::log.
 *
 * Called synchronously on the thread of the handle's loop, from inside library code (possibly inside
 * another azr_* call): write the message somewhere and return. Do not call the handle's functions
 * from the sink.
 *
 * @param level     an ::azr_log_level (1-3) of this message.
 * @param category  a short static word naming the part that logs ("listener", "control",
 *                  "rendezvous", "http", "tls", ...).
 * @param message   NUL-terminated text without a trailing newline, borrowed for the call only, and
 *                  already redacted: SAS signatures, keys and tokens never reach it.
 * @param user_data the pointer given with the sink.
 * @since 1.0.0
 */
typedef void (*azr_log_fn)(int level, const char *category, const char *message, void *user_data);

#ifdef __cplusplus
}
#endif
#endif
