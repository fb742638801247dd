/* SPDX-License-Identifier: MIT */
/**
 * @file emulator.h
 * The local Azure Relay Hybrid Connections emulator, embeddable in a program or a test.
 *
 * One emulator plays one namespace on one TCP port: listener control channels, senders, rendezvous,
 * HTTP requests, SAS validation and TLS (or plain ws/http on loopback). Create it, describe its
 * authorization rules and hybrid connections, start it, then drive it with azr_emulator_run() (its
 * own loop) or attach it to an application loop (azrelay/uv.h). All calls must come from the thread
 * that runs its loop.
 */
#ifndef AZRELAY_EMULATOR_H
#define AZRELAY_EMULATOR_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct azr_emulator azr_emulator;

/** Rights of an authorization rule (bit set). Manage implies Listen and Send. */
enum { AZR_RIGHT_LISTEN = 1, AZR_RIGHT_SEND = 2, AZR_RIGHT_MANAGE = 4 };

/** Options for azr_emulator_new(). Zero-initialize, then set what you need. */
typedef struct azr_emulator_options {
  const char *bind_host;        /**< Address to listen on; default "127.0.0.1". */
  uint16_t port;                /**< TCP port; 0 picks a free one (see azr_emulator_port()). */
  const char *namespace_host;   /**< Namespace host name used in connection strings and rendezvous
                                     addresses; default "localhost". */
  bool plain;                   /**< Serve ws:// and http:// instead of TLS (loopback bind only). */
  const char *tls_cert_pem;     /**< Server certificate (PEM text); NULL = generate ECDSA P-256 for
                                     localhost and 127.0.0.1. */
  const char *tls_key_pem;      /**< Private key for tls_cert_pem (PEM text). */
  azr_log_fn log;               /**< Log sink (NULL = silent). */
  void *log_user_data;
  int log_level;                /**< AZR_LOG_* */
} azr_emulator_options;

/** Creates an emulator (not yet listening). @return AZR_OK, AZR_E_INVALID_ARG, AZR_E_NOMEM,
 *  AZR_E_TLS_CREDENTIALS (bad certificate or key). */
AZR_EXTERN AZR_NODISCARD int azr_emulator_new(azr_emulator **out, const azr_emulator_options *options);
/** Stops serving (closing every connection) and frees the emulator. NULL is ignored. */
AZR_EXTERN void azr_emulator_free(azr_emulator *em);

/** Adds a SAS authorization rule. @p entity NULL makes it namespace-wide, else it applies to that
 *  hybrid connection only. @p secondary_key may be NULL. Strings are copied. */
AZR_EXTERN AZR_NODISCARD int azr_emulator_add_rule(azr_emulator *em, const char *name, const char *primary_key,
                                                   const char *secondary_key, unsigned rights, const char *entity);
/** Adds a hybrid connection (entity path, may contain '/'). Senders need a Send token when
 *  @p requires_client_authorization is true (the service's default). */
AZR_EXTERN AZR_NODISCARD int azr_emulator_add_hybrid_connection(azr_emulator *em, const char *path,
                                                                bool requires_client_authorization);
/** Sets an emulator setting by name ("Name=Value"), the same names as the config file and the
 *  command line's --set option; see docs/EMULATOR.md. AZR_E_NOT_FOUND for an unknown name,
 *  AZR_E_INVALID_ARG for a bad value. */
AZR_EXTERN AZR_NODISCARD int azr_emulator_config(azr_emulator *em, const char *setting);
/** Reads a config file (rules, hybrid connections, settings); see docs/EMULATOR.md. */
AZR_EXTERN AZR_NODISCARD int azr_emulator_load_config(azr_emulator *em, const char *path);

/** Binds and starts accepting. @return AZR_OK, AZR_E_BAD_STATE (already started), AZR_E_IO. */
AZR_EXTERN AZR_NODISCARD int azr_emulator_start(azr_emulator *em);
/** Runs the emulator's own loop for up to @p timeout_ms (negative = until azr_emulator_stop()). */
AZR_EXTERN AZR_NODISCARD int azr_emulator_run(azr_emulator *em, int timeout_ms);
/** Makes a running azr_emulator_run() return (callable from a signal handler's flag check or any
 *  callback on the loop thread). */
AZR_EXTERN void azr_emulator_stop(azr_emulator *em);

/** The bound TCP port (after start). */
AZR_EXTERN uint16_t azr_emulator_port(const azr_emulator *em);
/** The server certificate in PEM (generated or given); valid until azr_emulator_free(). */
AZR_EXTERN const char *azr_emulator_certificate_pem(const azr_emulator *em);
/** Writes a connection string for hybrid connection @p path with rule @p rule_name into @p out
 *  (NUL-terminated). AZR_E_NOT_FOUND for an unknown rule or path, AZR_E_TOO_BIG if out_len is short. */
AZR_EXTERN AZR_NODISCARD int azr_emulator_connection_string(const azr_emulator *em, const char *path,
                                                            const char *rule_name, char *out, size_t out_len);
/** The message of the last failed call. */
AZR_EXTERN const char *azr_emulator_last_error(const azr_emulator *em);

#ifdef __cplusplus
}
#endif
#endif
