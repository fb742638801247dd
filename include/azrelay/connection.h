/* SPDX-License-Identifier: MIT */
/**
 * @file connection.h
 * @brief Accepted connections of a listener: information, sending, flow control and closing.
 *
 * A connection is named by its ::azr_conn_id. Every function checks the id, so a stale id gives
 * AZR_E_INVALID_CONN_ID (126) rather than touching freed memory. A connection exists from its
 * on_connection_request until its on_connection_disconnected returns (or, for a rejected request,
 * until the decision). Sending, pausing and resuming need an open connection: before
 * on_connection_connected they answer AZR_E_BAD_STATE, once it is closing or closed AZR_E_CLOSED.
 *
 * Sending: in asynchronous mode (Timeout 0, the default) a send copies the data into the
 * connection's bounded queue and returns; AZR_E_WOULDBLOCK (10035) means the queue is full and
 * on_connection_ready_to_send fires when it has drained. With Timeout > 0 a send blocks (running the
 * listener's loop, so other events keep flowing) until the data is queued or the timeout passes;
 * azr_conn_interrupt() stops such a wait. A send never blocks where the loop cannot be run: inside a
 * callback, and on a listener created on the application's loop (azr_listener_new_on_uv(), since
 * libuv forbids running a loop from inside one of its callbacks); there a send with Timeout > 0
 * behaves as in asynchronous mode (AZR_E_WOULDBLOCK, then on_connection_ready_to_send).
 * A message is always queued when the queue is empty, whatever its size; the bound (SendQueueSize,
 * 4 MiB by default) applies to what waits behind it. Sent data is copied: the caller's buffer may be
 * reused when the call returns.
 *
 * Threading: as for the listener (listener.h): the loop's thread only; every function may be called
 * inside the listener's callbacks. Every function answers AZR_E_INVALID_ARG for a NULL listener.
 * @since 1.0.0
 */
#ifndef AZRELAY_CONNECTION_H
#define AZRELAY_CONNECTION_H

#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief What is known about a connection, filled by azr_conn_get_info().
 *
 * A snapshot: numbers do not change after the call. Strings are borrowed from the connection: valid
 * until its on_connection_disconnected returns. Members may be added at the end.
 * @since 1.0.0
 */
typedef struct azr_conn_info {
  azr_conn_id id;                /**< ConnectionId (== ConnectionUID). */
  const char *address;           /**< Address: the rendezvous URL (it carries the relay's credential
                                      for this connection: do not log it). */
  const char *relay_id;          /**< Id: the relay's id for the connection. */
  const char *connect_headers;   /**< ConnectHeaders: the sender's handshake headers (JSON object). */
  const char *host;              /**< Host header of the sender ("" when absent). */
  const char *remote_address;    /**< RemoteAddress: the sender's IP address ("" when unknown). */
  uint16_t remote_port;          /**< RemotePort (0 when unknown). */
  const char *sub_protocols;     /**< SubProtocols offered by the sender ("" for none). */
  const char *extensions;        /**< Extensions offered by the sender ("" for none). */
  const char *sub_protocol;      /**< The sub-protocol in use, or "" (also before the rendezvous). */
  bool connected;                /**< Connected: open (after on_connection_connected, before closing). */
  bool ready_to_send;            /**< ReadyToSend: open and the send queue below SendQueueSize. */
  bool accept_data;              /**< AcceptData: false while paused. */
  int data_format;               /**< DataFormat used by azr_conn_send() (an ::azr_data_format). */
  int timeout_s;                 /**< Timeout in seconds (0 = asynchronous). */
  uint64_t bytes_sent;           /**< BytesSent: payload bytes queued by the last successful send call
                                      (the whole file after an azr_conn_send_file() completed). */
  uint64_t total_bytes_sent;     /**< Payload bytes queued over the connection's life. */
  uint64_t total_bytes_received; /**< Payload bytes received over the connection's life. */
  size_t queued_bytes;           /**< Bytes not yet written to the network. */
} azr_conn_info;

/**
 * @brief Reads what is known about a connection (also a pending or connecting one).
 * @param l        the listener.
 * @param id       the connection.
 * @param[out] out receives the snapshot.
 * @param out_size sizeof *out as the application was compiled: only that many bytes are written, so
 *                 members a newer header adds stay as they were with an older library.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_INVALID_ARG (@p out NULL or @p out_size 0).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_get_info(azr_listener *l, azr_conn_id id, azr_conn_info *out, size_t out_size);
/**
 * @brief AzureRelayConnectionCount: connections that exist now.
 *
 * Counts open and closing connections, accepted ones whose rendezvous is connecting, and deferred
 * requests awaiting a decision (the same set MaxConnections limits).
 * @param l the listener (NULL gives 0).
 * @return the number of connections.
 * @since 1.0.0
 */
AZR_EXTERN size_t azr_listener_get_connection_count(const azr_listener *l);
/**
 * @brief Lists the ids of the connections counted by azr_listener_get_connection_count(), newest
 * first.
 * @param l        the listener (NULL gives 0).
 * @param[out] ids receives up to @p max ids; may be NULL to only count.
 * @param max      capacity of @p ids.
 * @return how many connections exist (may exceed @p max: call again with a larger array).
 * @since 1.0.0
 */
AZR_EXTERN size_t azr_listener_get_connection_ids(const azr_listener *l, azr_conn_id *ids, size_t max);

/**
 * @brief Send: sends a message in the connection's DataFormat.
 *
 * AUTOMATIC (default): text if the data is valid UTF-8, else binary; TEXT or BINARY as
 * azr_conn_send_text() / azr_conn_send_bytes(); PING or PONG send a control frame (not subject to
 * MessageLength or the queue bound). With MessageLength set, the send is the next part of that
 * message. See the file comment for queueing and blocking.
 * @param l    the listener.
 * @param id   the connection.
 * @param data the bytes (copied); must not be NULL when @p len is not 0.
 * @param len  number of bytes.
 * @return AZR_OK (queued); AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE (not open yet); AZR_E_CLOSED;
 *         AZR_E_WOULDBLOCK (queue full: wait for on_connection_ready_to_send); AZR_E_TIMEOUT or
 *         AZR_E_INTERRUPTED (blocking send, Timeout > 0); AZR_E_TOO_BIG (PING/PONG over 125 bytes);
 *         AZR_E_UTF8 (DataFormat TEXT with data that is not UTF-8); AZR_E_INVALID_ARG (more than
 *         MessageLength has left); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_send(azr_listener *l, azr_conn_id id, const void *data, size_t len);
/**
 * @brief SendText: sends a text message (or, with MessageLength set, the next part of one).
 *
 * Each call is checked as UTF-8 on its own, so with MessageLength a character must not be split
 * between two calls (use azr_conn_send_fragment() for that).
 * @param l    the listener.
 * @param id   the connection.
 * @param text UTF-8 text (copied; need not be NUL-terminated); must not be NULL when @p len is not 0.
 * @param len  number of bytes.
 * @return as azr_conn_send(); AZR_E_UTF8 when @p text is not valid UTF-8; AZR_E_INVALID_ARG also
 *         for NULL @p text with a length.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_text(azr_listener *l, azr_conn_id id, const char *text, size_t len);
/**
 * @brief SendBytes: sends a binary message (or, with MessageLength set, the next part of one).
 * @param l    the listener.
 * @param id   the connection.
 * @param data the bytes (copied); must not be NULL when @p len is not 0.
 * @param len  number of bytes.
 * @return as azr_conn_send(); AZR_E_INVALID_ARG also for NULL @p data with a length.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_bytes(azr_listener *l, azr_conn_id id, const void *data, size_t len);
/**
 * @brief Sends one fragment of a message whose length is not known in advance.
 *
 * Goes beyond the reference (which only offers MessageLength); ignores MessageLength. The fragments
 * of a text message must add up to valid UTF-8: they are not checked here (the peer checks the whole
 * message and closes with 1007 if it is not). Same queueing and blocking rules as azr_conn_send().
 * @param l      the listener.
 * @param id     the connection.
 * @param format TEXT or BINARY, used by the first fragment of a message (any other value means
 *               BINARY); ignored for the following fragments.
 * @param data   the bytes (copied); must not be NULL when @p len is not 0.
 * @param len    number of bytes; 0 is allowed (e.g. an empty last fragment).
 * @param eom    true for the last fragment of the message.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE; AZR_E_CLOSED; AZR_E_WOULDBLOCK;
 *         AZR_E_TIMEOUT; AZR_E_INTERRUPTED; AZR_E_INVALID_ARG; AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_fragment(azr_listener *l, azr_conn_id id, azr_data_format format,
                                                   const void *data, size_t len, bool eom);
/**
 * @brief SendFile: streams a file as one binary message in MaxFrameSize fragments.
 *
 * The file is read as the network drains (never whole in memory); a regular file is sent with the
 * length it had when opened. The call returns at once. Completion is reported by
 * on_connection_ready_to_send (success) or on_connection_error: AZR_E_INTERRUPTED after
 * azr_conn_interrupt() (the message is ended where it stands), or AZR_E_FILE for a read failure or a
 * file that shrank, after which the connection is closed with 1011 (a half-sent message cannot be
 * taken back). Other sends may be queued behind it.
 * @param l    the listener.
 * @param id   the connection.
 * @param path the file's path (opened before the call returns; not kept).
 * @return AZR_OK (started); AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE; AZR_E_CLOSED; AZR_E_FILE (cannot
 *         open); AZR_E_WOULDBLOCK (another SendFile is still in progress on this connection);
 *         AZR_E_INVALID_ARG (@p path NULL); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_file(azr_listener *l, azr_conn_id id, const char *path);
/**
 * @brief MessageLength[id]: the next @p length bytes of sends form one message.
 *
 * Each azr_conn_send(), azr_conn_send_text() or azr_conn_send_bytes() then becomes a fragment and
 * the one that reaches @p length ends the message; after it, every send is a message again.
 * @param l      the listener.
 * @param id     the connection (in any state).
 * @param length bytes of the coming message; 0 (default) = every send is a message.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_message_length(azr_listener *l, azr_conn_id id, uint64_t length);

/**
 * @brief DataFormat[id]: how azr_conn_send() frames its data.
 * @param l      the listener.
 * @param id     the connection (in any state).
 * @param format an ::azr_data_format (AUTOMATIC by default).
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_INVALID_ARG (not one of the enumerators).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_data_format(azr_listener *l, azr_conn_id id, azr_data_format format);
/**
 * @brief Timeout[id]: seconds a send may block waiting for room in the queue.
 * @param l         the listener.
 * @param id        the connection (in any state).
 * @param timeout_s 0 = asynchronous (AZR_E_WOULDBLOCK at once); new connections get DefaultTimeout.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_INVALID_ARG (negative).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_timeout(azr_listener *l, azr_conn_id id, int timeout_s);
/**
 * @brief Interrupt: ends a blocking send (it returns AZR_E_INTERRUPTED) or an ongoing SendFile (see
 * azr_conn_send_file()) on this connection.
 *
 * Typically called from a callback that runs while a blocking send pumps the loop. It also stops the
 * listener's loop, like azr_listener_interrupt_run(): a running azr_listener_run() returns, and on
 * an application's loop uv_run() returns.
 * @param l  the listener.
 * @param id the connection (in any state).
 * @return AZR_OK (also when nothing was in progress); AZR_E_INVALID_CONN_ID.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_interrupt(azr_listener *l, azr_conn_id id);

/**
 * @brief PauseData: stops delivering on_connection_data_in and stops reading from the connection.
 *
 * Takes effect at once, also inside on_connection_data_in (bytes already read are kept and delivered
 * after azr_conn_resume()); the sender is then slowed by TCP flow control. Sending still works.
 * A Close the sender sent meanwhile is answered only after resuming, once the messages before it
 * were delivered: replies to them still reach the sender.
 * @param l  the listener.
 * @param id the connection.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE (not open yet); AZR_E_CLOSED.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_pause(azr_listener *l, azr_conn_id id);
/**
 * @brief ProcessData: resumes reading after azr_conn_pause(); kept data is delivered from the loop,
 * not inside this call.
 * @param l  the listener.
 * @param id the connection.
 * @return AZR_OK (also when not paused); AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE; AZR_E_CLOSED.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_resume(azr_listener *l, azr_conn_id id);

/**
 * @brief Disconnect: azr_conn_close() with DisconnectStatusCode (default 1000) and
 * DisconnectStatusDescription.
 *
 * The Close frame follows the queued data; with WaitForCloseResponse false the connection is dropped
 * right after it, else when the peer answers (or a timeout passes). on_connection_disconnected
 * reports the end.
 * @param l  the listener.
 * @param id the connection.
 * @return as azr_conn_close().
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_disconnect(azr_listener *l, azr_conn_id id);
/**
 * @brief Closes a connection with an explicit code and reason, after its queued data.
 *
 * On a deferred request it rejects instead (HTTP 400 for code 1000, else 503, with @p reason); on a
 * connection whose rendezvous is still connecting it aborts (on_connection_connected then reports the
 * failure).
 * @param l      the listener.
 * @param id     the connection.
 * @param code   1000-4999 except 1005, 1006 and 1015 (which RFC 6455 forbids on the wire).
 * @param reason UTF-8 text, copied; cut at 123 bytes (the Close frame's limit). NULL = "".
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_INVALID_ARG (bad code); AZR_E_CLOSED (already closing
 *         or closed).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_close(azr_listener *l, azr_conn_id id, int code, const char *reason);

/**
 * @brief Attaches an application pointer to a connection (NULL at first).
 * @param l         the listener.
 * @param id        the connection (in any state, e.g. inside on_connection_request).
 * @param user_data any pointer; never dereferenced by the library, not freed with the connection.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_user_data(azr_listener *l, azr_conn_id id, void *user_data);
/**
 * @brief The pointer set with azr_conn_set_user_data().
 * @param l  the listener.
 * @param id the connection.
 * @return the pointer; NULL when none was set or the id is unknown. Still readable inside the
 *         connection's on_connection_disconnected (the place to free what it points to), NULL
 *         after it.
 * @since 1.0.0
 */
AZR_EXTERN void *azr_conn_get_user_data(azr_listener *l, azr_conn_id id);

#ifdef __cplusplus
}
#endif
#endif
