/* SPDX-License-Identifier: MIT */
/**
 * @file emulator.h
 * @brief The local Azure Relay Hybrid Connections emulator, embeddable in a program or a test.
 *
 * One emulator plays one namespace on one TCP port: listener control channels, senders, rendezvous,
 * HTTP requests, SAS validation and TLS (or plain ws/http on loopback). Create it, describe its
 * authorization rules and hybrid connections, start it, then drive it with azr_emulator_run(). It
 * always has its own loop (there is no variant on an application's loop), so a program that also
 * runs a listener either alternates the two run functions on one thread or gives each its own
 * thread. All calls on one emulator must come from the thread that runs its loop. Settings and the
 * config file are described in docs/EMULATOR.md.
 *
 * Every function taking an `azr_emulator *` answers AZR_E_INVALID_ARG when it is NULL (functions
 * without a status return do nothing and return 0, "" or NULL), except azr_emulator_run().
 * @since 1.0.0
 */
#ifndef AZRELAY_EMULATOR_H
#define AZRELAY_EMULATOR_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque emulator handle, created by azr_emulator_new() and freed by azr_emulator_free().
 * @since 1.0.0
 */
typedef struct azr_emulator azr_emulator;

/**
 * @brief Rights of an authorization rule, a bit set for azr_emulator_add_rule(). Manage implies
 * Listen and Send.
 * @since 1.0.0
 */
enum {
  AZR_RIGHT_LISTEN = 1, /**< May open listener control channels. */
  AZR_RIGHT_SEND = 2,   /**< May connect as a sender and send HTTP requests. */
  AZR_RIGHT_MANAGE = 4  /**< Management right; granted with Listen and Send. */
};

/**
 * @brief Options for azr_emulator_new().
 *
 * Zero-initialize, set what you need, and pass sizeof: members a newer header adds are then left at
 * their defaults by an older library, and vice versa. Strings are copied by azr_emulator_new().
 * @since 1.0.0
 */
typedef struct azr_emulator_options {
  const char *bind_host;        /**< Address to listen on; NULL or "" = "127.0.0.1". */
  uint16_t port;                /**< TCP port; 0 picks a free one (see azr_emulator_get_port()). */
  const char *namespace_host;   /**< Namespace host name used in connection strings and rendezvous
                                     addresses; NULL or "" = "localhost". */
  bool plain;                   /**< Serve ws:// and http:// instead of TLS (loopback bind only:
                                     azr_emulator_start() refuses others). */
  const char *tls_cert_pem;     /**< Server certificate (PEM text); NULL = generate an ECDSA P-256
                                     one at azr_emulator_start() for the namespace host, localhost,
                                     127.0.0.1 and ::1. Used only together with tls_key_pem. */
  const char *tls_key_pem;      /**< Private key for tls_cert_pem (PEM text). */
  azr_log_fn log;               /**< Log sink (NULL = silent); called on the loop's thread. */
  void *log_user_data;          /**< Passed unchanged to log. */
  int log_level;                /**< Highest ::azr_log_level delivered to log. The zero-initialised
                                     value is AZR_LOG_NONE: set AZR_LOG_INFO to see anything. */
} azr_emulator_options;

/**
 * @brief Creates an emulator (not yet listening), with its own loop.
 * @param[out] out     receives the emulator; free it with azr_emulator_free(). NULL on failure.
 * @param options      NULL for all defaults; else read up to @p options_size bytes.
 * @param options_size sizeof(azr_emulator_options) as the application was compiled.
 * @return AZR_OK; AZR_E_INVALID_ARG (@p out NULL, or @p options given with size 0); AZR_E_NOMEM.
 *         A bad certificate or key is reported by azr_emulator_start().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_new(azr_emulator **out, const azr_emulator_options *options,
                                              size_t options_size);
/**
 * @brief Stops serving (closing every connection at once) and frees the emulator.
 *
 * Not from inside azr_emulator_run() (e.g. from a log sink).
 * @param em the emulator; NULL is ignored. Invalid after the call.
 * @since 1.0.0
 */
AZR_EXTERN void azr_emulator_free(azr_emulator *em);

/**
 * @brief Adds a SAS authorization rule (a shared access policy). Allowed before and after start.
 * @param em            the emulator.
 * @param name          the rule's key name (1-256 characters); copied.
 * @param primary_key   its primary key (1-256 characters), used as text to sign; copied.
 * @param secondary_key its secondary key, or NULL or "" for none; copied.
 * @param rights        bits of AZR_RIGHT_LISTEN, AZR_RIGHT_SEND, AZR_RIGHT_MANAGE.
 * @param entity        NULL or "" makes the rule namespace-wide; else it applies to that hybrid
 *                      connection only (not checked to exist). Copied.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or empty name or key); AZR_E_TOO_BIG (a name or key over
 *         256 characters); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_add_rule(azr_emulator *em, const char *name, const char *primary_key,
                                                   const char *secondary_key, unsigned rights, const char *entity);
/**
 * @brief Adds a hybrid connection. Only before azr_emulator_start().
 * @param em                            the emulator.
 * @param path                          entity path, 1-260 characters after leading and trailing '/'
 *                                      are removed; may contain '/'; no blanks, '?', '#', '%' or '\';
 *                                      unique (case-insensitive). Copied.
 * @param requires_client_authorization senders need a token with the Send right (the service's
 *                                      default); false lets anyone connect.
 * @return AZR_OK; AZR_E_INVALID_ARG (bad or duplicate path); AZR_E_BAD_STATE (already started);
 *         AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_add_hybrid_connection(azr_emulator *em, const char *path,
                                                                bool requires_client_authorization);
/**
 * @brief Sets an emulator setting, "Name=Value" (names case-insensitive).
 *
 * The same names as the config file and the command line's --set option (docs/EMULATOR.md). Allowed
 * before and after start; some act at once (DropListenersNow, RefuseListenSeconds).
 * @param em      the emulator.
 * @param setting NUL-terminated "Name=Value".
 * @return AZR_OK; AZR_E_NOT_FOUND (unknown name); AZR_E_INVALID_ARG (no '=', bad value). Detail in
 *         azr_emulator_get_last_error().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_config(azr_emulator *em, const char *setting);
/**
 * @brief Reads a config file: namespace name, rules, hybrid connections and settings
 * (docs/EMULATOR.md).
 *
 * Items are applied in order as by azr_emulator_add_rule(), azr_emulator_add_hybrid_connection() and
 * azr_emulator_config(); on failure the ones before it stay applied. Load it before
 * azr_emulator_start() (hybrid connections cannot be added later).
 * @param em   the emulator.
 * @param path the file's path.
 * @return AZR_OK; AZR_E_INVALID_ARG (an argument NULL); the file's read or parse error (AZR_E_FILE,
 *         AZR_E_PARSE...); or the first failing item's status. Detail in azr_emulator_get_last_error().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_load_config(azr_emulator *em, const char *path);

/**
 * @brief Binds the port and starts accepting; the loop serves once azr_emulator_run() runs.
 *
 * Generates the TLS certificate first when none was given (this takes a moment).
 * @param em the emulator.
 * @return AZR_OK; AZR_E_BAD_STATE (already started); AZR_E_INVALID_ARG (plain mode on a
 *         non-loopback address, or a GatewayHost the certificate does not name); a TLS status such
 *         as AZR_E_TLS_CREDENTIALS (bad certificate or key); AZR_E_IO (cannot bind). Detail in
 *         azr_emulator_get_last_error().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_start(azr_emulator *em);
/**
 * @brief Runs the emulator's own loop on the calling thread.
 * @param em         the emulator.
 * @param timeout_ms at most this long; 0 = only what is ready now; negative = until
 *                   azr_emulator_stop().
 * @return AZR_OK (whatever ended the run); AZR_E_BAD_STATE (not started, or @p em NULL).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_run(azr_emulator *em, int timeout_ms);
/**
 * @brief Makes a running azr_emulator_run() return at the end of the current loop iteration.
 *
 * From the loop's thread only: it is not thread-safe and not async-signal-safe, and since the
 * emulator's only callback is its log sink, that is in practice the one place to call it from; a call
 * between runs is forgotten by the next azr_emulator_run(). To stop from elsewhere (a signal, another
 * thread), set a flag there and run in slices with a timeout, checking the flag between them.
 * @param em the emulator; NULL is ignored.
 * @since 1.0.0
 */
AZR_EXTERN void azr_emulator_stop(azr_emulator *em);

/**
 * @brief The bound TCP port.
 * @param em the emulator (NULL gives 0).
 * @return the port after azr_emulator_start() (the chosen one when the options said 0), before it
 *         the configured one.
 * @since 1.0.0
 */
AZR_EXTERN uint16_t azr_emulator_get_port(const azr_emulator *em);
/**
 * @brief The namespace host name (from the options or the config file).
 * @param em the emulator (NULL gives "").
 * @return a string owned by the emulator, valid until azr_emulator_free() or a config file that
 *         renames the namespace.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_emulator_get_namespace(const azr_emulator *em);
/**
 * @brief Number of hybrid connections.
 * @param em the emulator (NULL gives 0).
 * @return the count; indexes for azr_emulator_get_hybrid_connection_at() go from 0 to count - 1.
 * @since 1.0.0
 */
AZR_EXTERN size_t azr_emulator_get_hybrid_connection_count(const azr_emulator *em);
/**
 * @brief The path of one hybrid connection, in the order they were added.
 * @param em    the emulator.
 * @param index 0 to azr_emulator_get_hybrid_connection_count() - 1.
 * @return the path, owned by the emulator and valid until azr_emulator_free(); NULL past the end.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_emulator_get_hybrid_connection_at(const azr_emulator *em, size_t index);
/**
 * @brief The server certificate in PEM (given, or generated by azr_emulator_start()), for clients
 * to trust (e.g. the listener's SSLAcceptServerCertEncoded setting).
 * @param em the emulator.
 * @return the PEM text, valid until azr_emulator_free(); NULL before start unless one was given, and
 *         in plain mode.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_emulator_get_certificate_pem(const azr_emulator *em);
/**
 * @brief Writes a connection string for a hybrid connection, with a rule's primary key.
 * @param em        the emulator.
 * @param path      the hybrid connection (case-insensitive).
 * @param rule_name the rule; NULL picks the first rule that applies to @p path.
 * @param[out] out  receives the NUL-terminated connection string (it contains the key).
 * @param out_len   size of @p out.
 * @return AZR_OK; AZR_E_NOT_FOUND (unknown path, or no such rule for it); AZR_E_TOO_BIG (@p out_len
 *         too small); AZR_E_INVALID_ARG (@p em, @p path or @p out NULL).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_emulator_get_connection_string(const azr_emulator *em, const char *path,
                                                            const char *rule_name, char *out, size_t out_len);
/**
 * @brief The clock the emulator checks token expiry against.
 *
 * The wall clock, or with ClockSpeed N a clock that runs N times faster from azr_emulator_new().
 * Lets a test or a token provider sign tokens that live N times shorter in real time.
 * @param em the emulator (NULL gives 0).
 * @return seconds since 1970.
 * @since 1.0.0
 */
AZR_EXTERN int64_t azr_emulator_get_clock_s(const azr_emulator *em);
/**
 * @brief The message of the last failed call.
 * @param em the emulator (NULL gives "").
 * @return a NUL-terminated message owned by the emulator, valid until the next call on it; "" when
 *         nothing failed yet.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_emulator_get_last_error(const azr_emulator *em);

#ifdef __cplusplus
}
#endif
#endif
