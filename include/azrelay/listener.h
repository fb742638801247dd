/* SPDX-License-Identifier: MIT */
/**
 * @file listener.h
 * @brief The listener ("receiver") of an Azure Relay hybrid connection: lifecycle, events, identity
 * and settings.
 *
 * A listener keeps a control channel open to the relay (wss://{namespace}/$hc/{path}?sb-hc-action=
 * listen), renews its token before it expires and reconnects when the channel drops. Senders that
 * arrive are offered to the application (on_connection_request), which accepts or rejects them;
 * accepted senders become connections (see connection.h) over which text and binary messages flow
 * both ways. HTTP requests sent to the hybrid connection arrive as on_http_request (see http.h).
 *
 * Threading and loops: a listener is single-threaded. It runs on its own libuv loop, driven by
 * azr_listener_run() (the reference's DoEvents), or on an application's uv_loop_t (azrelay/uv.h).
 * All calls on one listener, and all its callbacks, happen on one thread: the one that runs its loop
 * (no function here is thread-safe, not even azr_listener_interrupt_run()). Callbacks run from the
 * loop; the exceptions, where a callback runs inside the azr_* call that caused it, are named on
 * that function (azr_listener_stop(), azr_listener_shutdown(), azr_listener_accept()), and a send
 * that blocks (Timeout > 0, connection.h) runs the loop, so any callback may fire inside it.
 * Every function may be called from inside the listener's own callbacks except azr_listener_free()
 * and azr_listener_run(). Several listeners may live in one process; they share nothing.
 *
 * Settings: every property and config setting of the reference receiver has a name usable with
 * azr_listener_config() ("Name=Value") and azr_listener_get_config(); the common ones also have typed
 * setters below. docs/FEATURES.md lists them all.
 *
 * Every function taking an `azr_listener *` answers AZR_E_INVALID_ARG when it is NULL (functions
 * without a status return do nothing and return 0, false, "" or NULL); this is not repeated below.
 * @since 1.0.0
 */
#ifndef AZRELAY_LISTENER_H
#define AZRELAY_LISTENER_H

#include "azrelay/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque listener handle, created by azr_listener_new() or azr_listener_new_on_uv() and freed
 * by azr_listener_free().
 * @since 1.0.0
 */
typedef struct azr_listener azr_listener;

/**
 * @brief Names an accepted connection, a connection request or an HTTP request of one listener.
 *
 * Ids are never reused by a listener (so ConnectionUID == ConnectionId), so a stale id is reported as
 * AZR_E_INVALID_CONN_ID instead of reaching another connection; 0 is never a valid id. Connections and
 * HTTP requests draw from the same sequence.
 * @since 1.0.0
 */
typedef uint64_t azr_conn_id;

/**
 * @brief Message formats (the reference's DataFormat values): how a send is framed, and what a
 * received fragment is.
 * @since 1.0.0
 */
typedef enum azr_data_format {
  AZR_DATA_AUTOMATIC = 0, /**< Sending: text when the data is valid UTF-8, else binary.
                               Receiving: a continuation fragment. */
  AZR_DATA_TEXT = 1,      /**< A text message (UTF-8, checked on both sides). */
  AZR_DATA_BINARY = 2,    /**< A binary message. */
  AZR_DATA_PING = 9,      /**< Sending only: a Ping control frame (payload at most 125 bytes). Received
                               pings are answered by the library and never reported. */
  AZR_DATA_PONG = 10      /**< Sending only: an unsolicited Pong control frame (at most 125 bytes). */
} azr_data_format;

/**
 * @brief Control channel states, reported by azr_listener_get_state() and in
 * azr_connection_status_event::state.
 * @since 1.0.0
 */
typedef enum azr_listener_state {
  AZR_STATE_STOPPED = 0,    /**< Not listening. */
  AZR_STATE_CONNECTING = 1, /**< Opening the control channel (DNS, proxy, TLS, upgrade). */
  AZR_STATE_ONLINE = 2,     /**< The control channel is open: senders can reach us. */
  AZR_STATE_WAITING = 3     /**< Lost or refused: waiting to reconnect (backoff). */
} azr_listener_state;

/* ---- events ---------------------------------------------------------------------------------- */

/**
 * @brief Connected (on_connected): one attempt to open the control channel succeeded or failed.
 *
 * Fired for every attempt, reconnects included; a failure is followed by on_disconnected, which says
 * whether and when the listener tries again. Strings are borrowed for the callback only.
 * @since 1.0.0
 */
typedef struct azr_connected_event {
  int status;              /**< AZR_OK, or why the handshake failed (an ::azr_status). */
  const char *description; /**< "OK" or why it failed (HTTP status and reason from the relay). */
  int http_status;         /**< 101 on success; the relay's HTTP status on a refused handshake (401,
                                404...); 0 when no HTTP answer came (DNS, TCP, TLS, proxy failure). */
} azr_connected_event;

/**
 * @brief Disconnected (on_disconnected): the control channel closed, or an attempt to open it failed.
 *
 * After a loss the listener reconnects on its own unless it was stopped or the fail-fast policy gave
 * up (docs/FEATURES.md, "Reconnect and fail-fast policy"; on_error then says why). Accepted
 * connections are not affected. Strings are borrowed for the callback only.
 * @since 1.0.0
 */
typedef struct azr_disconnected_event {
  int status;              /**< ::azr_status of the cause (AZR_OK after azr_listener_stop()). */
  int close_code;          /**< WebSocket close code from the relay (1008 token expired, 1011...), 1000
                                after azr_listener_stop(), or 0 when the channel never opened. */
  const char *description; /**< What happened, for people ("stopped" after azr_listener_stop()). */
  bool will_reconnect;     /**< The listener will try again after reconnect_in_ms. */
  uint32_t reconnect_in_ms; /**< Delay before the next attempt (backoff with jitter); 0 when
                                 will_reconnect is false. */
} azr_disconnected_event;

/**
 * @brief ConnectionStatus (on_connection_status): a step of the control channel's life.
 *
 * For monitoring and logs; the outcome events are on_connected and on_disconnected. Strings are
 * borrowed for the callback only.
 * @since 1.0.0
 */
typedef struct azr_connection_status_event {
  const char *event;       /**< Name of the step: "Connecting", "Online", "Waiting" (before a
                                reconnect), "TokenRenewed" or "KeepAliveTimeout" (the relay stopped
                                answering). More names may be added. */
  int status;              /**< ::azr_status that goes with the step (AZR_OK, or the cause of a
                                "Waiting" or "KeepAliveTimeout"). */
  const char *description; /**< Detail for people (host name, delay...), never NULL. */
  azr_listener_state state; /**< The control channel's state when the event fired. */
} azr_connection_status_event;

/**
 * @brief Header (on_header): one header of the relay's answer to the control channel handshake.
 *
 * Fired once per header, in order, before on_connected, also for refused handshakes. Strings are
 * borrowed for the callback only (names up to 255 bytes, values up to 2047 bytes; longer ones are
 * cut).
 * @since 1.0.0
 */
typedef struct azr_header_event {
  const char *field;       /**< Header name as the relay sent it. */
  const char *value;       /**< Header value. */
} azr_header_event;

/**
 * @brief Redirect (on_redirect): the relay answered the control channel handshake with a 3xx.
 *
 * Unlike the reference, a redirect is not followed unless the handler sets accept. When followed,
 * NamespaceAddress becomes the Location's host (and port) and the listener connects there at once.
 * @since 1.0.0
 */
typedef struct azr_redirect_event {
  const char *location;    /**< The Location header ("" when absent), borrowed for the callback. */
  bool accept;             /**< Set by the handler: follow it (default false: treated as a failure). */
} azr_redirect_event;

/**
 * @brief Error (on_error): a failure not tied to one connection.
 *
 * Examples: the listener stopped listening for good (fail-fast), a malformed control message was
 * ignored, a rendezvous address was refused, a rejection could not be delivered, a token renewal
 * failed. Failures that have their own event are also reported there.
 * @since 1.0.0
 */
typedef struct azr_error_event {
  int status;              /**< ::azr_status of the failure. */
  const char *description; /**< Detail for people, borrowed for the callback only. */
} azr_error_event;

/**
 * @brief SSLServerAuthentication (on_ssl_server_authentication): the relay's certificate on the
 * control channel, after verification, before the handshake completes.
 *
 * The handler may overrule the verdict by setting accept. Strings are borrowed for the callback only;
 * the PEM stays readable afterwards with azr_listener_get_config(l, "SSLServerCertEncoded", ...).
 * @since 1.0.0
 */
typedef struct azr_ssl_server_authentication_event {
  const char *cert_pem;    /**< The server's leaf certificate (PEM; the whole verified chain, leaf
                                first, with SSLIncludeCertChain=true). */
  const char *subject;     /**< The leaf's subject name. */
  const char *issuer;      /**< The leaf's issuer name. */
  const char *status;      /**< "OK" or the verification error text. */
  bool accept;             /**< Verified: true. Set it to accept a certificate that failed, or clear it
                                to refuse one that passed. */
} azr_ssl_server_authentication_event;

/**
 * @brief SSLStatus (on_ssl_status): progress of the control channel's TLS handshake, for diagnostics.
 * @since 1.0.0
 */
typedef struct azr_ssl_status_event {
  const char *message;     /**< One step, for people; borrowed for the callback only. */
} azr_ssl_status_event;

/**
 * @brief ConnectionRequest (on_connection_request): a sender wants to connect.
 *
 * The input fields are borrowed for the callback only (the same strings stay readable through
 * azr_conn_get_info() while the connection exists). The handler decides through the output fields:
 * when it returns, the library accepts (opens the rendezvous) or rejects (the relay tells the sender
 * the status and reason), unless defer is set or the handler already called azr_listener_accept() or
 * azr_listener_reject() for this id. Without an on_connection_request handler every request gets the
 * pre-set decision.
 * @since 1.0.0
 */
typedef struct azr_connection_request_event {
  azr_conn_id conn_id;             /**< The id the connection will have if accepted. */
  const char *rendezvous_address;  /**< Where the listener connects to accept (informational). */
  const char *relay_id;            /**< The relay's id for this connection ("<guid>_G..."). */
  const char *connect_headers;     /**< The sender's handshake headers as a JSON object. */
  const char *sub_protocols;       /**< The sender's Sec-WebSocket-Protocol offer, or "". */
  const char *extensions;          /**< The sender's Sec-WebSocket-Extensions offer, or "". */
  const char *host;                /**< The sender's Host header. */
  const char *remote_address;      /**< The sender's IP address. */
  uint16_t remote_port;            /**< The sender's TCP port (0 when the relay did not say). */
  const char *path;                /**< Path after the hybrid connection name plus query, e.g. "/orders?x=1" or "". */
  /* set by the handler */
  bool accept;                     /**< Default true, or false when AllowedClients/BlockedClients/
                                        MaxConnections already decided against it. */
  int http_status;                 /**< Reject status (default 400, or 403 for blocked clients, 503 at
                                        MaxConnections); a value outside 100-599 becomes 400. */
  char http_reason[256];           /**< Reject reason ("Rejected by user code" by default);
                                        NUL-terminated, the last byte is forced to NUL. */
  char sub_protocol[128];          /**< Accepted sub-protocol, "" for none; pre-set to the first one
                                        offered. NUL-terminated like http_reason. */
  bool defer;                      /**< Decide later with azr_listener_accept()/azr_listener_reject();
                                        undecided requests are rejected with 408 after 25 s (the relay
                                        holds a sender about 30 s). */
} azr_connection_request_event;

/**
 * @brief ConnectionConnected (on_connection_connected) and ConnectionReadyToSend
 * (on_connection_ready_to_send).
 *
 * on_connection_connected reports the rendezvous of an accepted connection: on success the
 * connection is open and on_connection_ready_to_send follows; on failure on_connection_disconnected
 * follows at once. on_connection_ready_to_send fires when the connection opens, after a send returned
 * AZR_E_WOULDBLOCK once the queue has drained below its low-water mark, and when an
 * azr_conn_send_file() completed.
 * @since 1.0.0
 */
typedef struct azr_connection_event {
  azr_conn_id conn_id;             /**< The connection. */
  int status;                      /**< AZR_OK, or why the rendezvous failed (ConnectionConnected only). */
  const char *description;         /**< "OK" or the failure, borrowed for the callback only. */
} azr_connection_event;

/**
 * @brief ConnectionDataIn (on_connection_data_in): received message data.
 *
 * A message arrives as one or more fragments in order (one event per message with BufferMessage=true,
 * up to MaxMessageSize). `data` is borrowed for the callback only: copy what you keep. Do not rely on
 * a NUL after the data: use len. No event arrives while the connection is paused (azr_conn_pause()).
 * @since 1.0.0
 */
typedef struct azr_data_in_event {
  azr_conn_id conn_id;             /**< The connection (0 for an ::azr_client). */
  azr_data_format format;          /**< TEXT or BINARY for the first fragment of a message,
                                        AUTOMATIC (0) for continuation fragments. */
  const uint8_t *data;             /**< The fragment's bytes (NULL or any pointer when len is 0). */
  size_t len;                      /**< Number of bytes at data; 0 is possible (an empty message or an
                                        empty last fragment). */
  bool eom;                        /**< The last fragment of the message. */
} azr_data_in_event;

/**
 * @brief ConnectionDisconnected (on_connection_disconnected): the last event of a connection.
 *
 * Also fired for a connection whose rendezvous failed. When the handler returns, the id becomes
 * invalid and the strings of azr_conn_get_info() are freed.
 * @since 1.0.0
 */
typedef struct azr_connection_disconnected_event {
  azr_conn_id conn_id;             /**< The connection. */
  int close_code;                  /**< WebSocket close code (1000 normal, 1006 lost without close...). */
  const char *description;         /**< The close reason or failure, borrowed for the callback only. */
  int status;                      /**< ::azr_status when it ended on an error, else AZR_OK. */
} azr_connection_disconnected_event;

/**
 * @brief ConnectionError (on_connection_error): a failure on one connection.
 *
 * Fired before on_connection_disconnected when a connection ends on an error (lost, protocol
 * violation, SendFile read failure), and on its own when an azr_conn_send_file() was interrupted or
 * a forwarded connection's target failed.
 * @since 1.0.0
 */
typedef struct azr_connection_error_event {
  azr_conn_id conn_id;             /**< The connection. */
  int status;                      /**< ::azr_status of the failure. */
  const char *description;         /**< Detail for people, borrowed for the callback only. */
} azr_connection_error_event;

struct azr_http_request_event;
struct azr_http_ready_event;

/**
 * @brief The listener's callbacks (its events), registered with azr_listener_set_callbacks().
 *
 * Zero-initialize, set what you handle; NULL members are not called. Every callback receives the
 * listener, an event struct borrowed for the call, and the user_data given at registration. Callbacks
 * run on the listener's loop thread; inside them the application may call any function of the
 * listener except azr_listener_free() and azr_listener_run(), and should return quickly since the
 * loop waits (a send with a Timeout never blocks there). Members may be added at the end; pass
 * sizeof(azr_listener_callbacks) so that an older library ignores them.
 * @since 1.0.0
 */
typedef struct azr_listener_callbacks {
  /** Connected: each attempt to open the control channel, successful or not. */
  void (*on_connected)(azr_listener *l, const azr_connected_event *ev, void *user_data);
  /** Disconnected: the control channel closed or an attempt failed; also fired inside
   *  azr_listener_stop() when a channel was open or opening. */
  void (*on_disconnected)(azr_listener *l, const azr_disconnected_event *ev, void *user_data);
  /** ConnectionStatus: each step of the control channel's life. */
  void (*on_connection_status)(azr_listener *l, const azr_connection_status_event *ev, void *user_data);
  /** Header: each header of the relay's handshake answer on the control channel. */
  void (*on_header)(azr_listener *l, const azr_header_event *ev, void *user_data);
  /** Redirect: the relay redirected the control channel; the handler may set ev->accept. */
  void (*on_redirect)(azr_listener *l, azr_redirect_event *ev, void *user_data);
  /** Error: a failure not tied to one connection. */
  void (*on_error)(azr_listener *l, const azr_error_event *ev, void *user_data);
  /** SSLServerAuthentication: the relay's certificate on the control channel; the handler may change
   *  ev->accept. Not fired for rendezvous connections. */
  void (*on_ssl_server_authentication)(azr_listener *l, azr_ssl_server_authentication_event *ev, void *user_data);
  /** SSLStatus: TLS handshake progress on the control channel. */
  void (*on_ssl_status)(azr_listener *l, const azr_ssl_status_event *ev, void *user_data);
  /** ConnectionRequest: a sender wants to connect; the handler sets the decision in ev. */
  void (*on_connection_request)(azr_listener *l, azr_connection_request_event *ev, void *user_data);
  /** ConnectionConnected: the rendezvous of an accepted connection opened or failed. */
  void (*on_connection_connected)(azr_listener *l, const azr_connection_event *ev, void *user_data);
  /** ConnectionReadyToSend: the connection can take data (see ::azr_connection_event). */
  void (*on_connection_ready_to_send)(azr_listener *l, const azr_connection_event *ev, void *user_data);
  /** ConnectionDataIn: a fragment of a received message. */
  void (*on_connection_data_in)(azr_listener *l, const azr_data_in_event *ev, void *user_data);
  /** ConnectionDisconnected: the connection is gone; its id is invalid after the handler returns. */
  void (*on_connection_disconnected)(azr_listener *l, const azr_connection_disconnected_event *ev, void *user_data);
  /** ConnectionError: a failure on one connection. */
  void (*on_connection_error)(azr_listener *l, const azr_connection_error_event *ev, void *user_data);
  /** HTTPRequest: an HTTP request for the hybrid connection (azrelay/http.h). Without this handler
   *  requests are answered 501 Not Implemented. */
  void (*on_http_request)(azr_listener *l, const struct azr_http_request_event *ev, void *user_data);
  /** A streamed HTTP response's queue drained after azr_http_response_write() returned
   *  AZR_E_WOULDBLOCK. */
  void (*on_http_ready_to_send)(azr_listener *l, const struct azr_http_ready_event *ev, void *user_data);
} azr_listener_callbacks;

/* ---- lifecycle ------------------------------------------------------------------------------- */

/**
 * @brief Creates a listener with its own event loop, driven by azr_listener_run().
 *
 * The new listener is stopped, with every setting at its default. The thread that calls
 * azr_listener_run() from then on owns it (see the file comment).
 * @param[out] out receives the listener; free it with azr_listener_free(). Untouched on failure.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p out is NULL; AZR_E_NOMEM (also when the loop cannot be
 *         set up); another status if libcurl cannot be initialised.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_new(azr_listener **out);

/**
 * @brief Frees the listener, aborting the control channel, every connection and every HTTP request at
 * once (no close handshakes, no further callbacks).
 *
 * Must not be called inside one of its callbacks: the call is then ignored (and logged) and the
 * listener stays alive, so free it after the loop returns. With its own loop the function returns
 * when everything is closed; on an application's loop (azr_listener_new_on_uv()) the memory is
 * released by the loop once the last handle has closed, so keep running that loop.
 * @param l the listener; NULL is ignored. Invalid after the call.
 * @since 1.0.0
 */
AZR_EXTERN void azr_listener_free(azr_listener *l);

/**
 * @brief Registers the callbacks and the user_data pointer passed to every callback.
 *
 * Replaces any earlier registration; may be called at any time, also inside a callback.
 * @param l         the listener.
 * @param cb        the callbacks, copied (the struct need not outlive the call); NULL removes them all.
 * @param size      sizeof(azr_listener_callbacks) as the application was compiled; members beyond it
 *                  are treated as NULL, members of a newer header beyond the library's are ignored.
 * @param user_data passed unchanged to every callback; the library never dereferences it.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p l is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_callbacks(azr_listener *l, const azr_listener_callbacks *cb, size_t size,
                                                      void *user_data);

/**
 * @brief Sets the log sink of this listener (the reference's Log event).
 *
 * Messages up to the LogLevel setting (default 1, info) are delivered; they are redacted.
 * @param l         the listener; NULL is ignored.
 * @param fn        the sink, or NULL for no logging (the default).
 * @param user_data passed unchanged to @p fn.
 * @since 1.0.0
 */
AZR_EXTERN void azr_listener_set_log(azr_listener *l, azr_log_fn fn, void *user_data);

/**
 * @brief StartListening: opens the control channel in the background.
 *
 * Checks the identity and makes the first token (calling the token provider, if any, inside this
 * call), then returns; the connection is made from the loop and on_connected reports the result.
 * Later losses reconnect automatically (docs/FEATURES.md, "Reconnect and fail-fast policy").
 * @param l the listener.
 * @return AZR_OK; AZR_E_ALREADY_LISTENING; AZR_E_INVALID_ARG (no namespace, hybrid connection or
 *         credentials); AZR_E_TOO_BIG (a token over 8 KiB); or the status the token provider
 *         returned (AZR_E_BAD_TOKEN for an empty token). Detail in azr_listener_get_last_error().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_start(azr_listener *l);
/**
 * @brief StopListening: closes the control channel (close code 1000); accepted connections stay open.
 *
 * When a channel was open or opening, on_disconnected fires inside this call (status AZR_OK,
 * close_code 1000, will_reconnect false). HTTP requests that came over the control channel can then
 * no longer be answered there (AZR_E_CLOSED).
 * @param l the listener.
 * @return AZR_OK (also when not listening); AZR_E_INVALID_ARG if @p l is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_stop(azr_listener *l);
/**
 * @brief Shutdown: stops listening (as azr_listener_stop(), callbacks included) and starts closing
 * every connection with DisconnectStatusCode / DisconnectStatusDescription.
 *
 * The connections finish closing on the loop; each reports on_connection_disconnected.
 * @param l the listener.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p l is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_shutdown(azr_listener *l);

/**
 * @brief DoEvents: runs the listener's own loop, delivering callbacks on the calling thread.
 *
 * Returns when @p timeout_ms has passed, when azr_listener_interrupt_run() or azr_conn_interrupt()
 * was called, or (negative timeout) when the loop has nothing left to do. Not for a listener created
 * with azr_listener_new_on_uv(): the application runs that loop. A blocking send (Timeout > 0) runs
 * the loop itself while it waits.
 * @param l          the listener.
 * @param timeout_ms at most this long; 0 = only what is ready now; negative = until interrupted.
 * @return AZR_OK (whatever ended the run); AZR_E_BAD_STATE inside a callback (libuv cannot re-enter
 *         its loop); AZR_E_INVALID_ARG if @p l is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_run(azr_listener *l, int timeout_ms);
/**
 * @brief Makes a running azr_listener_run() return at the end of the current loop iteration.
 *
 * Only from the loop's thread, typically inside a callback: it is not thread-safe and cannot wake
 * the loop from another thread or a signal handler. On an application's loop it stops that loop
 * (uv_stop()), so uv_run() returns.
 * @param l the listener; NULL is ignored.
 * @since 1.0.0
 */
AZR_EXTERN void azr_listener_interrupt_run(azr_listener *l);

/**
 * @brief Listening: true between azr_listener_start() and azr_listener_stop() (also while
 * reconnecting), false once the fail-fast policy gave up.
 * @param l the listener (NULL gives false).
 * @return whether the listener is listening.
 * @since 1.0.0
 */
AZR_EXTERN bool azr_listener_is_listening(const azr_listener *l);
/**
 * @brief Connected: true while the control channel is open (senders can reach the listener).
 * @param l the listener (NULL gives false).
 * @return whether the control channel is open.
 * @since 1.0.0
 */
AZR_EXTERN bool azr_listener_is_connected(const azr_listener *l);
/**
 * @brief The control channel's state.
 * @param l the listener (NULL gives AZR_STATE_STOPPED).
 * @return the current ::azr_listener_state.
 * @since 1.0.0
 */
AZR_EXTERN azr_listener_state azr_listener_get_state(const azr_listener *l);
/**
 * @brief Detail message of the last failure on this listener.
 *
 * Set by failing calls (not cleared by successful ones) and by some failures on the loop.
 * @param l the listener (NULL gives "").
 * @return a NUL-terminated message owned by the listener, valid until the next call on it; "" when
 *         nothing failed yet.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_listener_get_last_error(const azr_listener *l);

/**
 * @brief Counters of one listener, filled by azr_listener_get_stats().
 *
 * Counted since azr_listener_new() and never reset; `connections_open` and `online` are current
 * values. For monitoring: `azrelay listen --metrics` serves them in the OpenMetrics text format.
 * Members may be added at the end (see azr_listener_get_stats()).
 * @since 1.0.0
 */
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

/**
 * @brief Reads the listener's counters.
 * @param l        the listener.
 * @param[out] out receives the counters.
 * @param out_size sizeof *out as the application was compiled: only that many bytes are written, so
 *                 members a newer header adds stay as they were with an older library.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p l or @p out is NULL or @p out_size is 0.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_get_stats(const azr_listener *l, azr_listener_stats *out, size_t out_size);

/* ---- identity and settings ------------------------------------------------------------------- */

/*
 * The identity (namespace, hybrid connection, credentials) is read by azr_listener_start(); the
 * namespace and hybrid connection cannot change while listening (AZR_E_BAD_STATE), credentials can.
 * Where a token comes from, first match wins: the token provider, a token (azr_listener_set_token()),
 * the key (azr_listener_set_key()). Secrets are copied and wiped when replaced or freed.
 */

/**
 * @brief Sets the identity from an Azure portal connection string.
 *
 * Endpoint gives NamespaceAddress, EntityPath HybridConnection, SharedAccessKeyName/SharedAccessKey or
 * SharedAccessSignature the credentials, UseDevelopmentEmulator=true allows plain ws:// to a local
 * emulator. Parsed as azr_connection_string_parse() does.
 * @param l                 the listener.
 * @param connection_string NUL-terminated; copied as needed.
 * @return AZR_OK; AZR_E_INVALID_ARG if an argument is NULL; AZR_E_BAD_CONNSTR (detail in
 *         azr_listener_get_last_error(), never containing the key); AZR_E_BAD_STATE if it would change
 *         the namespace or hybrid connection while listening.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_connection_string(azr_listener *l, const char *connection_string);
/**
 * @brief NamespaceAddress: the relay namespace's host name, optionally with ":port".
 * @param l                 the listener.
 * @param namespace_address e.g. "contoso.servicebus.windows.net"; copied.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or malformed); AZR_E_BAD_STATE while listening.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_namespace(azr_listener *l, const char *namespace_address);
/**
 * @brief HybridConnection: the name (entity path) of the hybrid connection to listen on.
 * @param l    the listener.
 * @param path e.g. "hc1"; copied.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or malformed); AZR_E_BAD_STATE while listening.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_hybrid_connection(azr_listener *l, const char *path);
/**
 * @brief AccessKeyName + AccessKey: sign SAS tokens with a shared access policy's key.
 *
 * May change while listening: used from the next token renewal. The rule needs the Listen right.
 * @param l        the listener.
 * @param key_name the policy name, e.g. "RootManageSharedAccessKey"; copied.
 * @param key      the policy's key as shown in the portal; copied, wiped when replaced.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or invalid value).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_key(azr_listener *l, const char *key_name, const char *key);
/**
 * @brief A pre-issued token (the SasToken setting) instead of a key.
 *
 * A SAS token or any token the relay accepts (e.g. from Entra ID). It is sent as is; while
 * listening, it is sent with the next renewal. Its expiry is read from a SAS token's se field
 * (TokenValidity seconds from now for other tokens) to time renewals.
 * @param l     the listener.
 * @param token the token text; copied, wiped when replaced. "" removes it.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or invalid value).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_token(azr_listener *l, const char *token);

/**
 * @brief Token provider: makes the token for each connection and renewal.
 *
 * Called on the loop thread whenever a token is needed: inside azr_listener_start() and
 * azr_client_connect(), when reading the AccessToken setting, and from the loop before each
 * reconnect and token renewal. It should return quickly (the loop waits) and must not free the
 * handle; fetch slow tokens ahead of time.
 * @param audience   the URI the token must be valid for, e.g. "http://ns.servicebus.windows.net/hc/";
 *                   borrowed for the call.
 * @param out        where to write the NUL-terminated token.
 * @param out_len    size of @p out (8 KiB; 4 KiB when reading the AccessToken setting).
 * @param expiry_s   where to write the token's expiry in seconds since 1970 (0 or left alone =
 *                   unknown: TokenValidity seconds from now is assumed), which times the renewal.
 * @param user_data  the pointer given with the provider.
 * @return AZR_OK with a token in @p out; any other ::azr_status fails this attempt (an empty token
 *         counts as AZR_E_BAD_TOKEN). A failed attempt is reported like a refused connection.
 * @since 1.0.0
 */
typedef int (*azr_token_provider_fn)(const char *audience, char *out, size_t out_len, int64_t *expiry_s,
                                     void *user_data);
/**
 * @brief Sets (or with NULL removes) the token provider; it takes precedence over a token or key.
 * @param l         the listener.
 * @param fn        the provider, or NULL.
 * @param user_data passed unchanged to @p fn.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p l is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_set_token_provider(azr_listener *l, azr_token_provider_fn fn,
                                                            void *user_data);

/**
 * @brief Config: sets a property or config setting by its reference name, "Name=Value".
 *
 * Names are case-insensitive; docs/FEATURES.md lists them with their types, bounds and defaults.
 * Per-connection settings use "Name[conn_id]=Value" (MessageLength, DataFormat, Timeout: as the
 * azr_conn_set_* functions).
 * @param l       the listener.
 * @param setting NUL-terminated "Name=Value"; copied as needed.
 * @return AZR_OK; AZR_E_NOT_FOUND (unknown name, or a read-only indexed name); AZR_E_INVALID_ARG (no
 *         '=', bad value, read-only property); AZR_E_BAD_STATE (cannot change while listening);
 *         AZR_E_CANT_CHANGE_MAX_CONNECTIONS (MaxConnections while listening); AZR_E_UNSUPPORTED (not
 *         applicable on this platform: the detail says why); AZR_E_INVALID_CONN_ID (indexed, no such
 *         connection). Detail in azr_listener_get_last_error().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_config(azr_listener *l, const char *setting);
/**
 * @brief Reads a property or config setting ("Name" or "Name[conn_id]") as text.
 *
 * Secrets (AccessKey, passwords) read back as "". "AccessToken" makes a fresh token (calling the
 * token provider, if any).
 * @param l       the listener.
 * @param name    NUL-terminated name, case-insensitive.
 * @param[out] out receives the NUL-terminated value.
 * @param out_len size of @p out.
 * @return AZR_OK; AZR_E_NOT_FOUND (unknown name); AZR_E_TOO_BIG (@p out too small; @p out is then
 *         untouched); AZR_E_INVALID_CONN_ID (indexed, no such connection); AZR_E_INVALID_ARG (an
 *         argument NULL, @p out_len 0, malformed index); for "AccessToken", what azr_listener_start()
 *         returns for a token failure.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_get_config(azr_listener *l, const char *name, char *out, size_t out_len);

/* ---- accepting --------------------------------------------------------------------------------- */

/**
 * @brief Accepts a deferred connection request (one whose handler set ev->defer).
 *
 * Starts the rendezvous; on_connection_connected reports it. Also allowed inside the request's own
 * on_connection_request. If the rendezvous cannot even start, on_connection_connected and
 * on_connection_disconnected fire inside this call. Requests left undecided are rejected with 408
 * after 25 s.
 * @param l            the listener.
 * @param id           the request's azr_connection_request_event::conn_id.
 * @param sub_protocol the sub-protocol to answer with (copied, up to 127 bytes); NULL or "" for none
 *                     (not the pre-set first offer).
 * @return AZR_OK; AZR_E_INVALID_CONN_ID (unknown id, already decided or timed out).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_accept(azr_listener *l, azr_conn_id id, const char *sub_protocol);
/**
 * @brief Rejects a deferred connection request: the relay answers the sender with this status.
 *
 * The id is invalid after the call. Also allowed inside the request's own on_connection_request.
 * @param l           the listener.
 * @param id          the request's azr_connection_request_event::conn_id.
 * @param http_status the status for the sender, 100-599 (other values become 400).
 * @param http_reason the reason phrase (copied); NULL gives "Rejected".
 * @return AZR_OK; AZR_E_INVALID_CONN_ID (unknown id, already decided or timed out).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_listener_reject(azr_listener *l, azr_conn_id id, int http_status,
                                                const char *http_reason);

#ifdef __cplusplus
}
#endif
#endif
