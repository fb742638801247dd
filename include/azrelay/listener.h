/* SPDX-License-Identifier: MIT */
/**
 * @file listener.h
 * The listener ("receiver") of an Azure Relay hybrid connection.
 *
 * A listener keeps a control channel open to the relay (wss://{namespace}/$hc/{path}?sb-hc-action=
 * listen), renews its token before it expires and reconnects when the channel drops. Senders that
 * arrive are offered to the application (on_connection_request), which accepts or rejects them;
 * accepted senders become connections (see connection.h) over which text and binary messages flow
 * both ways. HTTP requests sent to the hybrid connection arrive as on_http_request (see http.h).
 *
 * Threading and loops: a listener is single-threaded. It runs on its own libuv loop, driven by
 * azr_listener_run() (the reference's DoEvents), or on an application's uv_loop_t (azrelay/uv.h).
 * Callbacks only ever run from the loop, never from inside the azr_* call that caused them. Several
 * listeners may live in one process.
 *
 * Settings: every property and config setting of the reference receiver has a name usable with
 * azr_listener_config() ("Name=Value") and azr_listener_get_config(); the common ones also have typed
 * setters below. docs/FEATURES.md lists them all.
 */
#ifndef AZRELAY_LISTENER_H
#define AZRELAY_LISTENER_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct azr_listener azr_listener;

/** Connection ids are never reused by a listener (so ConnectionUID == ConnectionId); 0 is invalid. */
typedef uint64_t azr_conn_id;

/** Data formats (the reference's DataFormat values). */
typedef enum azr_data_format {
  AZR_DATA_AUTOMATIC = 0, /**< Sending: text when the data is valid UTF-8, else binary.
                               Receiving: a continuation fragment. */
  AZR_DATA_TEXT = 1,
  AZR_DATA_BINARY = 2,
  AZR_DATA_PING = 9,
  AZR_DATA_PONG = 10
} azr_data_format;

/** Control channel states reported by azr_listener_state() and on_connection_status. */
typedef enum azr_listener_state {
  AZR_STATE_STOPPED = 0,    /**< Not listening. */
  AZR_STATE_CONNECTING = 1, /**< Opening the control channel (DNS, proxy, TLS, upgrade). */
  AZR_STATE_ONLINE = 2,     /**< The control channel is open: senders can reach us. */
  AZR_STATE_WAITING = 3     /**< Lost or refused: waiting to reconnect (backoff). */
} azr_listener_state;

/* ---- events ---------------------------------------------------------------------------------- */

/** Connected: the control channel handshake completed (status_code 0, "OK") or failed. */
typedef struct azr_connected_event {
  int status;              /**< AZR_OK, or why the handshake failed (an ::azr_status). */
  const char *description; /**< "OK" or why it failed (HTTP status and reason from the relay). */
  int http_status;         /**< The relay's HTTP status on a refused handshake (401, 404...), else 0. */
} azr_connected_event;

/** Disconnected: the control channel closed. The listener reconnects unless stopped. */
typedef struct azr_disconnected_event {
  int status;              /**< ::azr_status of the cause (AZR_OK after azr_listener_stop). */
  int close_code;          /**< WebSocket close code from the relay (1008 token expired, 1011...), or 0. */
  const char *description;
  bool will_reconnect;
  uint32_t reconnect_in_ms;
} azr_disconnected_event;

/** ConnectionStatus: a step of the control channel's life ("Connecting", "Online", "Renewed token"...). */
typedef struct azr_connection_status_event {
  const char *event;       /**< Short name of the step. */
  int status;
  const char *description;
  azr_listener_state state;
} azr_connection_status_event;

/** Header: one header of the relay's handshake response on the control channel. */
typedef struct azr_header_event {
  const char *field;
  const char *value;
} azr_header_event;

/** Redirect: the relay answered the control channel handshake with a redirection (3xx). */
typedef struct azr_redirect_event {
  const char *location;
  bool accept;             /**< Set by the handler: follow it (default false: treated as a failure). */
} azr_redirect_event;

/** Error: a failure not tied to one connection (also reported through its own event when it has one). */
typedef struct azr_error_event {
  int status;
  const char *description;
} azr_error_event;

/** SSLServerAuthentication: the relay's certificate after verification. */
typedef struct azr_ssl_server_authentication_event {
  const char *cert_pem;    /**< The server's leaf certificate (PEM). */
  const char *subject;
  const char *issuer;
  const char *status;      /**< "OK" or the verification error text. */
  bool accept;             /**< Verified: true. Set it to accept a certificate that failed. */
} azr_ssl_server_authentication_event;

/** SSLStatus: progress of a TLS handshake. */
typedef struct azr_ssl_status_event {
  const char *message;
} azr_ssl_status_event;

/** ConnectionRequest: a sender wants to connect. Handler may change the output fields. */
typedef struct azr_connection_request_event {
  azr_conn_id conn_id;             /**< The id the connection will have if accepted. */
  const char *rendezvous_address;  /**< Where the listener connects to accept (informational). */
  const char *relay_id;            /**< The relay's id for this connection ("<guid>_G..."). */
  const char *connect_headers;     /**< The sender's handshake headers as a JSON object. */
  const char *sub_protocols;       /**< The sender's Sec-WebSocket-Protocol offer, or "". */
  const char *extensions;          /**< The sender's Sec-WebSocket-Extensions offer, or "". */
  const char *host;                /**< The sender's Host header. */
  const char *remote_address;      /**< The sender's IP address. */
  uint16_t remote_port;
  const char *path;                /**< Path after the hybrid connection name plus query, e.g. "/orders?x=1" or "". */
  /* set by the handler */
  bool accept;                     /**< Default true, or false when AllowedClients/BlockedClients/
                                        MaxConnections already decided against it. */
  int http_status;                 /**< Reject status (default 400, or 403 for blocked clients, 503 at MaxConnections). */
  char http_reason[256];           /**< Reject reason ("Rejected by user code" by default). */
  char sub_protocol[128];          /**< Accepted sub-protocol; pre-set to the first one offered. */
  bool defer;                      /**< Decide later with azr_listener_accept()/azr_listener_reject(). */
} azr_connection_request_event;

/** ConnectionConnected / ConnectionReadyToSend. */
typedef struct azr_connection_event {
  azr_conn_id conn_id;
  int status;                      /**< AZR_OK, or why the rendezvous failed (ConnectionConnected only). */
  const char *description;
} azr_connection_event;

/** ConnectionDataIn. `data` is borrowed for the call; it is NUL-terminated (not counted in len). */
typedef struct azr_data_in_event {
  azr_conn_id conn_id;
  azr_data_format format;          /**< TEXT or BINARY for the first fragment of a message,
                                        AUTOMATIC (0) for continuation fragments. */
  const uint8_t *data;
  size_t len;
  bool eom;                        /**< The last fragment of the message. */
} azr_data_in_event;

/** ConnectionDisconnected: the last event of a connection. */
typedef struct azr_connection_disconnected_event {
  azr_conn_id conn_id;
  int close_code;                  /**< WebSocket close code (1000 normal, 1006 lost without close...). */
  const char *description;
  int status;                      /**< ::azr_status when it ended on an error, else AZR_OK. */
} azr_connection_disconnected_event;

/** ConnectionError. */
typedef struct azr_connection_error_event {
  azr_conn_id conn_id;
  int status;
  const char *description;
} azr_connection_error_event;

struct azr_http_request_event;
struct azr_http_ready_event;

/** The callbacks. Zero-initialize, set what you handle, register with azr_listener_set_callbacks(). */
typedef struct azr_listener_callbacks {
  void (*on_connected)(azr_listener *l, const azr_connected_event *ev, void *user_data);
  void (*on_disconnected)(azr_listener *l, const azr_disconnected_event *ev, void *user_data);
  void (*on_connection_status)(azr_listener *l, const azr_connection_status_event *ev, void *user_data);
  void (*on_header)(azr_listener *l, const azr_header_event *ev, void *user_data);
  void (*on_redirect)(azr_listener *l, azr_redirect_event *ev, void *user_data);
  void (*on_error)(azr_listener *l, const azr_error_event *ev, void *user_data);
  void (*on_ssl_server_authentication)(azr_listener *l, azr_ssl_server_authentication_event *ev, void *user_data);
  void (*on_ssl_status)(azr_listener *l, const azr_ssl_status_event *ev, void *user_data);
  void (*on_connection_request)(azr_listener *l, azr_connection_request_event *ev, void *user_data);
  void (*on_connection_connected)(azr_listener *l, const azr_connection_event *ev, void *user_data);
  void (*on_connection_ready_to_send)(azr_listener *l, const azr_connection_event *ev, void *user_data);
  void (*on_connection_data_in)(azr_listener *l, const azr_data_in_event *ev, void *user_data);
  void (*on_connection_disconnected)(azr_listener *l, const azr_connection_disconnected_event *ev, void *user_data);
  void (*on_connection_error)(azr_listener *l, const azr_connection_error_event *ev, void *user_data);
  void (*on_http_request)(azr_listener *l, const struct azr_http_request_event *ev, void *user_data);
  /** A streamed HTTP response's queue drained after azr_http_response_write returned WOULDBLOCK. */
  void (*on_http_ready_to_send)(azr_listener *l, const struct azr_http_ready_event *ev, void *user_data);
} azr_listener_callbacks;

/* ---- lifecycle ------------------------------------------------------------------------------- */

/** Creates a listener with its own event loop. @return AZR_OK, AZR_E_INVALID_ARG, AZR_E_NOMEM. */
AZR_EXTERN AZR_NODISCARD int azr_listener_new(azr_listener **out);

/** Frees the listener, closing everything at once. Must not be called inside one of its callbacks
 *  (the call is then ignored and logged). NULL is ignored. */
AZR_EXTERN void azr_listener_free(azr_listener *l);

/** Registers callbacks (copied; members beyond @p size are treated as NULL) and the user_data pointer
 *  passed to every callback. */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_callbacks(azr_listener *l, const azr_listener_callbacks *cb, size_t size,
                                                      void *user_data);

/** Log sink for this listener (level from the LogLevel setting). Messages are redacted. */
AZR_EXTERN void azr_listener_set_log(azr_listener *l, azr_log_fn fn, void *user_data);

/** StartListening: opens the control channel in the background. on_connected reports the result;
 *  later losses reconnect automatically. @return AZR_OK, AZR_E_ALREADY_LISTENING, AZR_E_INVALID_ARG
 *  (no namespace, hybrid connection or credentials; detail in azr_listener_get_last_error()). */
AZR_EXTERN AZR_NODISCARD int azr_listener_start(azr_listener *l);
/** StopListening: closes the control channel; accepted connections stay open. */
AZR_EXTERN AZR_NODISCARD int azr_listener_stop(azr_listener *l);
/** Shutdown: stops listening and closes every connection (close code DisconnectStatusCode). */
AZR_EXTERN AZR_NODISCARD int azr_listener_shutdown(azr_listener *l);

/** DoEvents: runs the listener's loop for at most @p timeout_ms (0 = only what is ready now,
 *  negative = until azr_listener_interrupt_run()). Not allowed inside callbacks (AZR_E_BAD_STATE)
 *  except through the synchronous-send path, which pumps events itself. */
AZR_EXTERN AZR_NODISCARD int azr_listener_run(azr_listener *l, int timeout_ms);
/** Makes a running azr_listener_run() return soon. */
AZR_EXTERN void azr_listener_interrupt_run(azr_listener *l);

/** Listening: true between start and stop (also while reconnecting). */
AZR_EXTERN bool azr_listener_is_listening(const azr_listener *l);
/** Connected: true while the control channel is open. */
AZR_EXTERN bool azr_listener_is_connected(const azr_listener *l);
AZR_EXTERN azr_listener_state azr_listener_get_state(const azr_listener *l);
/** Detail message of the last failure on this listener (valid until the next call on it). */
AZR_EXTERN const char *azr_listener_get_last_error(const azr_listener *l);

/** Counters since azr_listener_new() (never reset; `_open` and `online` are current values), for
 *  monitoring: `azrelay listen --metrics` serves them in the OpenMetrics text format. */
typedef struct azr_listener_stats {
  uint64_t control_opens;         /**< control channel handshakes that succeeded (first + reconnects) */
  uint64_t control_losses;        /**< control channel losses and refused attempts (on_disconnected) */
  uint64_t token_renewals;        /**< renewToken commands sent */
  uint64_t connection_requests;   /**< senders offered (accept commands) */
  uint64_t connections_rejected;  /**< ... turned away (by the application or Allowed/Blocked/MaxConnections) */
  uint64_t connections_accepted;  /**< rendezvous opened */
  uint64_t connections_failed;    /**< rendezvous that could not be opened */
  uint64_t connections_closed;    /**< accepted connections that ended */
  uint64_t connections_open;      /**< accepted connections open now */
  uint64_t bytes_received;        /**< payload bytes received on accepted connections */
  uint64_t bytes_sent;            /**< payload bytes sent on accepted connections */
  uint64_t http_requests;         /**< HTTP requests delivered to on_http_request */
  uint64_t http_responses;        /**< HTTP responses started */
  uint64_t online;                /**< 1 while the control channel is open, else 0 */
  uint64_t connection_requests_dropped; /**< requests left unanswered: too many rejections in flight, or
                                             a rendezvous address refused (see docs/SECURITY.md) */
  uint64_t http_requests_refused; /**< HTTP requests answered 503 or not served: MaxHttpRequests reached */
} azr_listener_stats;

/** Fills @p out (of @p out_size bytes: pass sizeof *out; fields a newer header adds stay unfilled
 *  for an older library). @return AZR_OK or AZR_E_INVALID_ARG. */
AZR_EXTERN AZR_NODISCARD int azr_listener_get_stats(const azr_listener *l, azr_listener_stats *out, size_t out_size);

/* ---- identity and settings ------------------------------------------------------------------- */

/** Uses an Azure portal connection string (Endpoint, SharedAccessKeyName/SharedAccessKey or
 *  SharedAccessSignature, EntityPath, UseDevelopmentEmulator). AZR_E_BAD_CONNSTR with detail. */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_connection_string(azr_listener *l, const char *connection_string);
AZR_EXTERN AZR_NODISCARD int azr_listener_set_namespace(azr_listener *l, const char *namespace_address);
AZR_EXTERN AZR_NODISCARD int azr_listener_set_hybrid_connection(azr_listener *l, const char *path);
/** AccessKeyName + AccessKey. May change while listening: used from the next token renewal. */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_key(azr_listener *l, const char *key_name, const char *key);
/** A pre-issued SAS token (or any token the relay accepts, e.g. from Entra ID) instead of a key; it
 *  is sent as is and, while listening, in the next renewal. */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_token(azr_listener *l, const char *token);

/** Token provider: called whenever a token is needed (connect, renewal). Write a NUL-terminated
 *  token into @p out (size @p out_len) and its expiry (seconds since the epoch, 0 = unknown) into
 *  *expiry_s; return AZR_OK or a status to fail this attempt. @p audience is the URI being signed. */
typedef int (*azr_token_provider_fn)(const char *audience, char *out, size_t out_len, int64_t *expiry_s,
                                     void *user_data);
AZR_EXTERN AZR_NODISCARD int azr_listener_set_token_provider(azr_listener *l, azr_token_provider_fn fn,
                                                            void *user_data);

/** Sets a property or config setting by its reference name: "Name=Value". Names are
 *  case-insensitive; indexed settings use "Name[conn_id]=Value". @return AZR_OK, AZR_E_NOT_FOUND
 *  (unknown name), AZR_E_INVALID_ARG (bad value), AZR_E_BAD_STATE (cannot change now),
 *  AZR_E_UNSUPPORTED (not applicable on this platform: the detail says why). */
AZR_EXTERN AZR_NODISCARD int azr_listener_config(azr_listener *l, const char *setting);
/** Reads a property or config setting ("Name" or "Name[conn_id]") into @p out (NUL-terminated).
 *  Secrets (AccessKey, passwords) read back as "" . @return AZR_OK, AZR_E_NOT_FOUND, AZR_E_TOO_BIG. */
AZR_EXTERN AZR_NODISCARD int azr_listener_get_config(azr_listener *l, const char *name, char *out, size_t out_len);

/* ---- accepting --------------------------------------------------------------------------------- */

/** Completes a deferred connection request (ev->defer). AZR_E_INVALID_CONN_ID when unknown or
 *  already decided. The relay gives a listener about 30 seconds. */
AZR_EXTERN AZR_NODISCARD int azr_listener_accept(azr_listener *l, azr_conn_id id, const char *sub_protocol);
AZR_EXTERN AZR_NODISCARD int azr_listener_reject(azr_listener *l, azr_conn_id id, int http_status,
                                                const char *http_reason);

#ifdef __cplusplus
}
#endif
#endif
