/* SPDX-License-Identifier: MIT */
/**
 * @file client.h
 * The sender ("client") role: connect to a hybrid connection (sb-hc-action=connect), exchange
 * messages with the listener that accepted, close. Beyond the reference receiver, for tools, tests
 * and bridges; it takes the same identity and transport settings as a listener.
 *
 * Lifetime and threading follow the listener: single-threaded, own loop (azr_client_run) or the
 * application's (azr_client_new_on_uv in azrelay/uv.h), callbacks only from the loop.
 */
#ifndef AZRELAY_CLIENT_H
#define AZRELAY_CLIENT_H

#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct azr_client azr_client;

/** on_open: the outcome of azr_client_connect(). */
typedef struct azr_client_open_event {
  int status;              /**< AZR_OK, or why the connection failed (an ::azr_status). */
  int http_status;         /**< The relay's or the listener's rejection status (401, 404, the
                                listener's reject code...), else 0. */
  const char *description; /**< Its reason phrase, or what failed. */
} azr_client_open_event;

/** on_close: the last event of an opened connection. */
typedef struct azr_client_close_event {
  int close_code;          /**< WebSocket close code (1006 when the connection was lost). */
  const char *reason;      /**< Close reason. */
  int status;              /**< ::azr_status when it ended on an error, else AZR_OK. */
} azr_client_close_event;

/** on_ready_to_send: the send queue drained after a send returned AZR_E_WOULDBLOCK. */
typedef struct azr_client_ready_event {
  size_t queued;           /**< Bytes still queued (below the low-water mark). */
} azr_client_ready_event;

typedef struct azr_client_callbacks {
  /** The connection is open (status AZR_OK), or failed. With AzbridgePortName set, "open" means the
   *  listener accepted the port; a refusal (no reply and a close, or a refusing reply) is
   *  AZR_E_PROTOCOL with http_status 0 and the reason in description, and no on_close follows. */
  void (*on_open)(azr_client *c, const azr_client_open_event *ev, void *user_data);
  /** A message fragment, as azr_data_in_event (conn_id is 0). */
  void (*on_data)(azr_client *c, const azr_data_in_event *ev, void *user_data);
  /** The send queue drained after a send returned AZR_E_WOULDBLOCK. */
  void (*on_ready_to_send)(azr_client *c, const azr_client_ready_event *ev, void *user_data);
  /** Final event of an opened connection. */
  void (*on_close)(azr_client *c, const azr_client_close_event *ev, void *user_data);
} azr_client_callbacks;

AZR_EXTERN AZR_NODISCARD int azr_client_new(azr_client **out);
/** Frees the client, dropping its connection. Not inside one of its callbacks. */
AZR_EXTERN void azr_client_free(azr_client *c);
AZR_EXTERN AZR_NODISCARD int azr_client_set_callbacks(azr_client *c, const azr_client_callbacks *cb, size_t size,
                                                    void *user_data);
AZR_EXTERN void azr_client_set_log(azr_client *c, azr_log_fn fn, void *user_data);
/** Identity, as for the listener (the rule needs the Send right). */
AZR_EXTERN AZR_NODISCARD int azr_client_set_connection_string(azr_client *c, const char *connection_string);
/** Any setting of the listener's table that applies to a connection (transport, TLS, proxy,
 *  MaxFrameSize, BufferMessage, MaxMessageSize, TokenValidity...): "Name=Value".
 *  The client's own setting: "AzbridgePortName=NAME" makes every connection start with Microsoft
 *  azbridge's per-stream preamble naming logical port NAME (1-255 characters of [0-9A-Za-z/_.-]);
 *  on_open reports success only after the listener's accept, the bytes after it are data, and
 *  an empty send outside a message is skipped (azbridge reads an empty message as end of stream).
 *  "" turns it off. Cannot change while connected (AZR_E_BAD_STATE). */
AZR_EXTERN AZR_NODISCARD int azr_client_config(azr_client *c, const char *setting);
AZR_EXTERN AZR_NODISCARD int azr_client_set_token_provider(azr_client *c, azr_token_provider_fn fn, void *user_data);
/** An extra header for the connect handshake; it reaches the listener in ConnectHeaders. */
AZR_EXTERN AZR_NODISCARD int azr_client_add_header(azr_client *c, const char *name, const char *value);
/** The tracking id sent as sb-hc-id (default: a new GUID per connect). */
AZR_EXTERN AZR_NODISCARD int azr_client_set_id(azr_client *c, const char *id);

/** Connects; @p path_and_query is appended after the hybrid connection name ("" or
 *  "/suffix?app=1"); @p sub_protocols is offered as Sec-WebSocket-Protocol (NULL for none).
 *  on_open reports the outcome. */
AZR_EXTERN AZR_NODISCARD int azr_client_connect(azr_client *c, const char *path_and_query, const char *sub_protocols);

/** Sends a fragment (or a whole message with eom=true): same results as azr_conn_send_fragment(). */
AZR_EXTERN AZR_NODISCARD int azr_client_send(azr_client *c, azr_data_format format, const void *data, size_t len,
                                           bool eom);
AZR_EXTERN AZR_NODISCARD int azr_client_pause(azr_client *c);
AZR_EXTERN AZR_NODISCARD int azr_client_resume(azr_client *c);
/** Starts the close handshake after queued data. */
AZR_EXTERN AZR_NODISCARD int azr_client_close(azr_client *c, int code, const char *reason);
AZR_EXTERN size_t azr_client_get_queued(const azr_client *c);
AZR_EXTERN bool azr_client_is_open(const azr_client *c);
/** The sub-protocol the listener chose, or "". */
AZR_EXTERN const char *azr_client_get_sub_protocol(const azr_client *c);

AZR_EXTERN AZR_NODISCARD int azr_client_run(azr_client *c, int timeout_ms);
AZR_EXTERN void azr_client_interrupt_run(azr_client *c);
AZR_EXTERN const char *azr_client_get_last_error(const azr_client *c);

#ifdef __cplusplus
}
#endif
#endif
