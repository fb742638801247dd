/* SPDX-License-Identifier: MIT */
/**
 * @file connection.h
 * Accepted connections of a listener: information, sending, flow control and closing.
 *
 * A connection is named by its ::azr_conn_id. Every function checks the id, so a stale id gives
 * AZR_E_INVALID_CONN_ID (126) rather than touching freed memory. A connection exists from its
 * on_connection_request (if accepted) until its on_connection_disconnected returns.
 *
 * Sending: in asynchronous mode (Timeout 0, the default) a send copies the data into the
 * connection's bounded queue and returns; AZR_E_WOULDBLOCK (10035) means the queue is full and
 * on_connection_ready_to_send fires when it has drained. With Timeout > 0 a send blocks (running the
 * listener's loop, so other events keep flowing) until the data is queued or the timeout passes;
 * azr_conn_interrupt() stops such a wait. A send never blocks where the loop cannot be run: inside a
 * callback, and on a listener created on the application's loop (azr_listener_new_on_uv(), since
 * libuv forbids running a loop from inside one of its callbacks); there a send with Timeout > 0
 * behaves as in asynchronous mode (AZR_E_WOULDBLOCK, then on_connection_ready_to_send).
 */
#ifndef AZRELAY_CONNECTION_H
#define AZRELAY_CONNECTION_H

#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What is known about a connection. Strings are borrowed: valid until the connection's
 *  on_connection_disconnected returns. */
typedef struct azr_conn_info {
  azr_conn_id id;                /**< ConnectionId (== ConnectionUID). */
  const char *address;           /**< Address: the rendezvous URL. */
  const char *relay_id;          /**< Id: the relay's id for the connection. */
  const char *connect_headers;   /**< ConnectHeaders (JSON object). */
  const char *host;              /**< Host header of the sender. */
  const char *remote_address;    /**< RemoteAddress. */
  uint16_t remote_port;          /**< RemotePort. */
  const char *sub_protocols;     /**< SubProtocols offered by the sender. */
  const char *extensions;        /**< Extensions offered by the sender. */
  const char *sub_protocol;      /**< The sub-protocol in use, or "". */
  bool connected;                /**< Connected. */
  bool ready_to_send;            /**< ReadyToSend: the send queue has room. */
  bool accept_data;              /**< AcceptData: false while paused. */
  int data_format;               /**< DataFormat used by azr_conn_send(). */
  int timeout_s;                 /**< Timeout (0 = asynchronous). */
  uint64_t bytes_sent;           /**< BytesSent: payload bytes queued by the last send call. */
  uint64_t total_bytes_sent;     /**< Payload bytes sent over the connection's life. */
  uint64_t total_bytes_received;
  size_t queued_bytes;           /**< Bytes not yet written to the network. */
} azr_conn_info;

AZR_EXTERN AZR_NODISCARD int azr_conn_get_info(azr_listener *l, azr_conn_id id, azr_conn_info *out, size_t out_size);
/** AzureRelayConnectionCount: connections currently open (and accepted-but-connecting). */
AZR_EXTERN size_t azr_listener_get_connection_count(const azr_listener *l);
/** Fills up to @p max ids of open connections; returns how many exist. */
AZR_EXTERN size_t azr_listener_get_connection_ids(const azr_listener *l, azr_conn_id *ids, size_t max);

/** Sends data in the connection's DataFormat (AUTOMATIC: text if valid UTF-8, else binary; PING or
 *  PONG send a control frame of at most 125 bytes). See the file comment for blocking rules.
 *  @return AZR_OK, AZR_E_INVALID_CONN_ID, AZR_E_WOULDBLOCK, AZR_E_TIMEOUT, AZR_E_INTERRUPTED,
 *  AZR_E_CLOSED, AZR_E_TOO_BIG (control frame over 125 bytes), AZR_E_UTF8 (TEXT that is not UTF-8). */
AZR_EXTERN AZR_NODISCARD int azr_conn_send(azr_listener *l, azr_conn_id id, const void *data, size_t len);
/** SendText: a text message (must be UTF-8). */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_text(azr_listener *l, azr_conn_id id, const char *text, size_t len);
/** SendBytes: a binary message. */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_bytes(azr_listener *l, azr_conn_id id, const void *data, size_t len);
/** Sends one fragment of a message whose length is not known in advance: @p format (TEXT or BINARY)
 *  applies to the first fragment of a message, @p eom ends it. The fragments of a text message must
 *  add up to valid UTF-8 (the peer checks the whole message). Same blocking rules and results as
 *  azr_conn_send(). Goes beyond the reference (which only offers MessageLength). */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_fragment(azr_listener *l, azr_conn_id id, azr_data_format format,
                                                   const void *data, size_t len, bool eom);
/** SendFile: streams a file as one binary message in MaxFrameSize fragments, reading it as the
 *  network drains (never the whole file in memory). Completion is reported by
 *  on_connection_ready_to_send (success) or on_connection_error (read failure: AZR_E_FILE, after
 *  which the connection is closed with 1011, since a half-sent message cannot be taken back).
 *  @return AZR_OK, AZR_E_INVALID_CONN_ID, AZR_E_FILE (cannot open), AZR_E_WOULDBLOCK (a send is
 *  already queued and the queue is full). */
AZR_EXTERN AZR_NODISCARD int azr_conn_send_file(azr_listener *l, azr_conn_id id, const char *path);
/** MessageLength[id]: the next @p length bytes of sends form one message; each send becomes a
 *  fragment and only the last one ends the message (EOM). 0 (default) = every send is a message. */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_message_length(azr_listener *l, azr_conn_id id, uint64_t length);

AZR_EXTERN AZR_NODISCARD int azr_conn_set_data_format(azr_listener *l, azr_conn_id id, azr_data_format format);
/** Timeout in seconds for this connection's sends (0 = asynchronous). */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_timeout(azr_listener *l, azr_conn_id id, int timeout_s);
/** Interrupt: ends a blocking send or an ongoing SendFile on this connection (AZR_E_INTERRUPTED). */
AZR_EXTERN AZR_NODISCARD int azr_conn_interrupt(azr_listener *l, azr_conn_id id);

/** PauseData: stop reading from the connection (the sender is slowed by TCP flow control). */
AZR_EXTERN AZR_NODISCARD int azr_conn_pause(azr_listener *l, azr_conn_id id);
/** ProcessData: resume reading. */
AZR_EXTERN AZR_NODISCARD int azr_conn_resume(azr_listener *l, azr_conn_id id);

/** Disconnect: closes with DisconnectStatusCode / DisconnectStatusDescription after queued data.
 *  With WaitForCloseResponse false the connection is dropped right after the Close frame. */
AZR_EXTERN AZR_NODISCARD int azr_conn_disconnect(azr_listener *l, azr_conn_id id);
/** Closes with an explicit code (1000-4999) and reason (at most 123 bytes of UTF-8). */
AZR_EXTERN AZR_NODISCARD int azr_conn_close(azr_listener *l, azr_conn_id id, int code, const char *reason);

/** Per-connection pointer for the application. */
AZR_EXTERN AZR_NODISCARD int azr_conn_set_user_data(azr_listener *l, azr_conn_id id, void *user_data);
AZR_EXTERN void *azr_conn_get_user_data(azr_listener *l, azr_conn_id id);

#ifdef __cplusplus
}
#endif
#endif
