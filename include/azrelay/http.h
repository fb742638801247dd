/* SPDX-License-Identifier: MIT */
/**
 * @file http.h
 * HTTP requests relayed to a listener (the hybrid connection's https://{namespace}/{path} address).
 *
 * Each request arrives as one on_http_request event with its body (bodies are collected up to
 * MaxMessageSize, also when the relay delivers a large request over a rendezvous socket). The
 * event's request id is answered exactly once, with azr_http_response_send() for a complete
 * response, or azr_http_response_begin() / _write() / _end() to stream a large one. The relay gives
 * a listener 60 seconds to start answering; a request not answered within HttpRequestTimeout
 * seconds (default 60) is dropped (the relay has answered 504 by then) and its id becomes invalid.
 *
 * Small responses (up to 64 KiB) travel on the control channel; larger or slow ones switch to a
 * rendezvous socket on their own, as the protocol requires. Ids are shared with connections and never
 * reused; a stale or answered id gives AZR_E_INVALID_CONN_ID (126).
 */
#ifndef AZRELAY_HTTP_H
#define AZRELAY_HTTP_H

#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/** HTTPRequest. All pointers are borrowed for the call. */
typedef struct azr_http_request_event {
  azr_conn_id request_id;         /**< ConnectionId: pass it to the response functions. */
  const char *rendezvous_address; /**< RendezvousAddress (where a large response would go). */
  const char *relay_id;           /**< Id: the relay's id of the request. */
  const char *request_headers;    /**< RequestHeaders: JSON object of the sender's headers. */
  const char *request_target;     /**< RequestTarget: "/{hc}[/suffix][?query]" (sb-hc-* removed). */
  const char *method;             /**< RequestMethod. */
  const char *host;               /**< Host header. */
  const char *remote_address;     /**< RemoteAddress. */
  uint16_t remote_port;           /**< RemotePort. */
  const uint8_t *data;            /**< RequestData: the body (NUL-terminated, not counted). */
  size_t len;
  bool via_rendezvous;            /**< The relay delivered the request over a rendezvous socket. */
} azr_http_request_event;

/** Event for an HTTP response that can take more data (see azr_http_response_write). */
typedef struct azr_http_ready_event {
  azr_conn_id request_id;
} azr_http_ready_event;

/** SendHTTPResponse: answers a request with a complete response. @p headers is NULL or
 *  {name, value, ..., NULL}; hop-by-hop headers (Connection, Content-Length, Transfer-Encoding...)
 *  are dropped because the relay frames the response itself. @p description NULL or "" uses the
 *  standard reason phrase. @return AZR_OK, AZR_E_INVALID_CONN_ID (unknown, expired or answered),
 *  AZR_E_INVALID_ARG (status outside 100-599, bad header), AZR_E_CLOSED (the control channel or the
 *  rendezvous is gone; the relay will answer the sender itself). */
AZR_EXTERN AZR_NODISCARD int azr_http_response_send(azr_listener *l, azr_conn_id request_id, int status,
                                                   const char *description, const char *const *headers,
                                                   const void *body, size_t len);

/** Starts a streamed response (status and headers now, body with _write, finished by _end). */
AZR_EXTERN AZR_NODISCARD int azr_http_response_begin(azr_listener *l, azr_conn_id request_id, int status,
                                                    const char *description, const char *const *headers);
/** Appends body bytes (copied). AZR_E_WOULDBLOCK when the response's queue is full: wait for
 *  on_http_ready_to_send. */
AZR_EXTERN AZR_NODISCARD int azr_http_response_write(azr_listener *l, azr_conn_id request_id, const void *data,
                                                    size_t len);
/** Ends the streamed response. */
AZR_EXTERN AZR_NODISCARD int azr_http_response_end(azr_listener *l, azr_conn_id request_id);

/** Looks up a request header (case-insensitive) in an event's request_headers JSON and copies its
 *  value into @p out. @return AZR_OK, AZR_E_NOT_FOUND, AZR_E_TOO_BIG (out too small), AZR_E_PARSE. */
AZR_EXTERN AZR_NODISCARD int azr_http_get_header(const azr_http_request_event *ev, const char *name, char *out,
                                                size_t out_len);

/** Pending HTTP requests (answered or not yet released). */
AZR_EXTERN size_t azr_listener_get_http_request_count(const azr_listener *l);

#ifdef __cplusplus
}
#endif
#endif
