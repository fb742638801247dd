/* SPDX-License-Identifier: MIT */
/**
 * @file client.h
 * @brief The sender ("client") role: connect to a hybrid connection (sb-hc-action=connect), exchange
 * messages with the listener that accepted, close.
 *
 * Beyond the reference receiver, for tools, tests and bridges; it takes the same identity and
 * transport settings as a listener. One client carries one connection at a time; after its
 * on_close (or a failed on_open) it may connect again.
 *
 * Lifetime and threading follow the listener: single-threaded, own loop (azr_client_run()) or the
 * application's (azr_client_new_on_uv() in azrelay/uv.h); all calls and callbacks on the loop's
 * thread; callbacks only from the loop. Every function may be called inside the client's callbacks
 * except azr_client_free() and azr_client_run(). Sends never block: there is no Timeout.
 * @since 1.0.0
 */
#ifndef AZRELAY_CLIENT_H
#define AZRELAY_CLIENT_H

#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque sender client handle, created by azr_client_new() or azr_client_new_on_uv() and
 * freed by azr_client_free().
 * @since 1.0.0
 */
typedef struct azr_client azr_client;

/**
 * @brief on_open: the outcome of azr_client_connect().
 *
 * Strings are borrowed for the callback only.
 * @since 1.0.0
 */
typedef struct azr_client_open_event {
  int status;              /**< AZR_OK, or why the connection failed (an ::azr_status). */
  int http_status;         /**< 101 on success; the relay's or the listener's rejection status (401,
                                404, the listener's reject code...); 0 when no HTTP answer came. */
  const char *description; /**< "OK", the rejection's reason phrase, or what failed. */
} azr_client_open_event;

/**
 * @brief on_close: the last event of an opened connection.
 *
 * Strings are borrowed for the callback only.
 * @since 1.0.0
 */
typedef struct azr_client_close_event {
  int close_code;          /**< WebSocket close code (1006 when the connection was lost). */
  const char *reason;      /**< Close reason ("" for none). */
  int status;              /**< ::azr_status when it ended on an error, else AZR_OK. */
} azr_client_close_event;

/**
 * @brief on_ready_to_send: the send queue drained after a send returned AZR_E_WOULDBLOCK.
 * @since 1.0.0
 */
typedef struct azr_client_ready_event {
  size_t queued;           /**< Bytes still queued (below the low-water mark). */
} azr_client_ready_event;

/**
 * @brief The client's callbacks, registered with azr_client_set_callbacks().
 *
 * Zero-initialize, set what you handle; NULL members are not called. Each receives the client, an
 * event borrowed for the call, and the user_data given at registration, on the loop's thread. Pass
 * sizeof(azr_client_callbacks) so that members added later are ignored by an older library.
 * @since 1.0.0
 */
typedef struct azr_client_callbacks {
  /** The connection is open (status AZR_OK), or failed. With AzbridgePortName set, "open" means the
   *  listener accepted the port; a refusal (no reply and a close, or a refusing reply) is
   *  AZR_E_PROTOCOL with http_status 0 and the reason in description, and no on_close follows. */
  void (*on_open)(azr_client *c, const azr_client_open_event *ev, void *user_data);
  /** A message fragment, as azr_data_in_event (conn_id is 0); data borrowed for the call. */
  void (*on_data)(azr_client *c, const azr_data_in_event *ev, void *user_data);
  /** The send queue drained after a send returned AZR_E_WOULDBLOCK. */
  void (*on_ready_to_send)(azr_client *c, const azr_client_ready_event *ev, void *user_data);
  /** Final event of an opened connection; the client may connect again from here on. */
  void (*on_close)(azr_client *c, const azr_client_close_event *ev, void *user_data);
} azr_client_callbacks;

/**
 * @brief Creates a client with its own event loop, driven by azr_client_run().
 * @param[out] out receives the client; free it with azr_client_free(). Untouched on failure.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p out is NULL; AZR_E_NOMEM; another status if libcurl cannot
 *         be initialised.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_new(azr_client **out);
/**
 * @brief Frees the client, aborting its connection without further callbacks.
 *
 * Not inside one of its callbacks: the call is then ignored (silently) and the client stays alive.
 * With its own loop, queued bytes get a short time to flush first; on an application's loop the
 * connection finishes closing on that loop after the call.
 * @param c the client; NULL is ignored. Invalid after the call.
 * @since 1.0.0
 */
AZR_EXTERN void azr_client_free(azr_client *c);
/**
 * @brief Registers the callbacks and the user_data pointer passed to every callback.
 * @param c         the client.
 * @param cb        the callbacks, copied; NULL removes them all.
 * @param size      sizeof(azr_client_callbacks) as the application was compiled; members beyond it
 *                  are treated as NULL.
 * @param user_data passed unchanged to every callback.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p c is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_set_callbacks(azr_client *c, const azr_client_callbacks *cb, size_t size,
                                                    void *user_data);
/**
 * @brief Sets the log sink of this client (level from its LogLevel setting, default 1).
 * @param c         the client; NULL is ignored.
 * @param fn        the sink, or NULL for no logging (the default).
 * @param user_data passed unchanged to @p fn.
 * @since 1.0.0
 */
AZR_EXTERN void azr_client_set_log(azr_client *c, azr_log_fn fn, void *user_data);
/**
 * @brief Sets the identity from a connection string, as azr_listener_set_connection_string() (the
 * rule needs the Send right).
 * @param c                 the client.
 * @param connection_string NUL-terminated; copied as needed.
 * @return AZR_OK; AZR_E_INVALID_ARG (an argument NULL); AZR_E_BAD_CONNSTR (detail in
 *         azr_client_get_last_error()).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_set_connection_string(azr_client *c, const char *connection_string);
/**
 * @brief Sets a setting, "Name=Value", used from the next azr_client_connect().
 *
 * Any setting of the listener's table that applies to a connection (NamespaceAddress,
 * HybridConnection, credentials, transport, TLS, proxy, MaxFrameSize, BufferMessage, MaxMessageSize,
 * SendQueueSize, TokenValidity, LogLevel...; docs/FEATURES.md). The client's own setting:
 * "AzbridgePortName=NAME" makes every connection start with Microsoft azbridge's per-stream preamble
 * naming logical port NAME (1-255 characters of [0-9A-Za-z/_.-]); on_open reports success only after
 * the listener's accept, the bytes after it are data, and an empty send outside a message is skipped
 * (azbridge reads an empty message as end of stream). "" turns it off.
 * @param c       the client.
 * @param setting NUL-terminated "Name=Value".
 * @return AZR_OK; AZR_E_NOT_FOUND (unknown name); AZR_E_INVALID_ARG (no '=', bad value);
 *         AZR_E_UNSUPPORTED (not applicable here); AZR_E_BAD_STATE (AzbridgePortName while connecting
 *         or connected).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_config(azr_client *c, const char *setting);
/**
 * @brief Sets (or with NULL removes) the token provider, as azr_listener_set_token_provider(); it is
 * called inside azr_client_connect().
 * @param c         the client.
 * @param fn        the provider, or NULL.
 * @param user_data passed unchanged to @p fn.
 * @return AZR_OK; AZR_E_INVALID_ARG if @p c is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_set_token_provider(azr_client *c, azr_token_provider_fn fn, void *user_data);
/**
 * @brief Adds a header to every following connect handshake; it reaches the listener in
 * ConnectHeaders. Headers cannot be removed.
 * @param c     the client.
 * @param name  header name (copied): non-empty, printable ASCII without blanks or ':'.
 * @param value header value (copied): no CR or LF.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or invalid name or value); AZR_E_TOO_BIG (more than 32
 *         headers); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_add_header(azr_client *c, const char *name, const char *value);
/**
 * @brief Sets the tracking id sent as sb-hc-id on every following connect (default: a new GUID per
 * connect).
 * @param c  the client.
 * @param id the id (copied, at most 127 bytes); "" restores the default.
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL or too long).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_set_id(azr_client *c, const char *id);

/**
 * @brief Connects to the hybrid connection; on_open reports the outcome from the loop.
 *
 * Makes the token (calling the token provider inside this call) and starts the connection.
 * @param c              the client.
 * @param path_and_query appended after the hybrid connection name ("/suffix?app=1"; a '/' is put
 *                       in front unless it starts with '/' or '?'); NULL or "" for none. Copied.
 * @param sub_protocols  offered as Sec-WebSocket-Protocol ("a, b"); NULL for none. Copied.
 * @return AZR_OK (started); AZR_E_BAD_STATE (already connecting or connected); AZR_E_INVALID_ARG (no
 *         namespace, hybrid connection or credentials); the token provider's status, AZR_E_BAD_TOKEN
 *         or AZR_E_TOO_BIG for a token failure; AZR_E_NOMEM. Detail in azr_client_get_last_error().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_connect(azr_client *c, const char *path_and_query, const char *sub_protocols);

/**
 * @brief Sends a fragment of a message, or a whole message with @p eom true.
 *
 * Never blocks; data is copied. Unlike the listener's azr_conn_send_text(), TEXT is not checked for
 * UTF-8 here (the listener closes with 1007 if it is not).
 * @param c      the client.
 * @param format TEXT or BINARY (used by a message's first fragment); AUTOMATIC picks TEXT when the
 *               fragment is valid UTF-8, else BINARY; PING or PONG send a control frame (at most 125
 *               bytes; @p eom ignored).
 * @param data   the bytes; must not be NULL when @p len is not 0.
 * @param len    number of bytes.
 * @param eom    true for the last fragment of the message.
 * @return AZR_OK; AZR_E_CLOSED (not open); AZR_E_WOULDBLOCK (queue full: wait for
 *         on_ready_to_send); AZR_E_TOO_BIG (PING/PONG over 125 bytes); AZR_E_INVALID_ARG (NULL
 *         client, or NULL data with a length); AZR_E_UTF8 (TEXT that is not UTF-8, checked across
 *         the parts of one message; nothing is sent); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_send(azr_client *c, azr_data_format format, const void *data, size_t len,
                                           bool eom);
/**
 * @brief Stops delivering on_data and reading from the connection (TCP flow control then slows the
 * listener); allowed while connecting. A Close the listener sent meanwhile is answered only after
 * azr_client_resume(), once the messages before it were delivered.
 * @param c the client.
 * @return AZR_OK; AZR_E_CLOSED (no connection, or @p c NULL).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_pause(azr_client *c);
/**
 * @brief Resumes reading after azr_client_pause(); kept data is delivered from the loop.
 * @param c the client.
 * @return AZR_OK; AZR_E_CLOSED (no connection, or @p c NULL).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_resume(azr_client *c);
/**
 * @brief Starts the close handshake after queued data; on_close reports the end. While connecting it
 * aborts instead (on_open then reports the failure).
 * @param c      the client.
 * @param code   1000-4999 except 1005, 1006 and 1015.
 * @param reason UTF-8 text, copied; cut at 123 bytes. NULL = "".
 * @return AZR_OK; AZR_E_INVALID_ARG (NULL client, bad code); AZR_E_CLOSED (no connection, or already
 *         closing).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_close(azr_client *c, int code, const char *reason);
/**
 * @brief Bytes queued and not yet written to the network.
 * @param c the client (NULL gives 0).
 * @return the byte count; 0 without a connection.
 * @since 1.0.0
 */
AZR_EXTERN size_t azr_client_get_queued(const azr_client *c);
/**
 * @brief Whether the connection is open: from a successful on_open until on_close.
 * @param c the client (NULL gives false).
 * @return true while open.
 * @since 1.0.0
 */
AZR_EXTERN bool azr_client_is_open(const azr_client *c);
/**
 * @brief The sub-protocol the listener chose.
 * @param c the client (NULL gives "").
 * @return a NUL-terminated string owned by the client, valid until the connection ends; "" for none
 *         or without a connection.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_client_get_sub_protocol(const azr_client *c);

/**
 * @brief Runs the client's own loop, as azr_listener_run() does for a listener.
 * @param c          the client.
 * @param timeout_ms at most this long; 0 = only what is ready now; negative = until interrupted or
 *                   nothing is left to do.
 * @return AZR_OK; AZR_E_BAD_STATE inside a callback; AZR_E_INVALID_ARG if @p c is NULL.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_client_run(azr_client *c, int timeout_ms);
/**
 * @brief Makes a running azr_client_run() return at the end of the current loop iteration (loop
 * thread only, as azr_listener_interrupt_run()).
 * @param c the client; NULL is ignored.
 * @since 1.0.0
 */
AZR_EXTERN void azr_client_interrupt_run(azr_client *c);
/**
 * @brief Detail message of the last failure on this client.
 * @param c the client (NULL gives "").
 * @return a NUL-terminated message owned by the client, valid until the next call on it; "" when
 *         nothing failed yet.
 * @since 1.0.0
 */
AZR_EXTERN const char *azr_client_get_last_error(const azr_client *c);

#ifdef __cplusplus
}
#endif
#endif
