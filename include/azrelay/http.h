/* SPDX-License-Identifier: MIT */
/**
 * @file http.h
 * @brief HTTP requests relayed to a listener (the hybrid connection's https://{namespace}/{path}
 * address) and their responses.
 *
 * Each request arrives as one on_http_request event with its whole body (bodies are collected up to
 * MaxMessageSize, also when the relay delivers a large request over a rendezvous socket; a larger
 * body drops the request and fires on_error). Without an on_http_request handler every request is
 * answered 501. The event's request id is answered exactly once, with azr_http_response_send() for a
 * complete response, or azr_http_response_begin() / azr_http_response_write() /
 * azr_http_response_end() to stream one; the id may be kept and answered after the callback returns.
 * The relay gives a listener 60 seconds to answer; a request still unanswered (or unfinished) 65
 * seconds after it arrived is dropped (the relay has answered 504 by then) and its id becomes
 * invalid. At MaxHttpRequests requests in progress, further ones are refused (503 or left unserved).
 *
 * Small complete responses (body up to 64 KiB) travel on the control channel; larger ones, and
 * streamed ones still open after 2 seconds, switch to a rendezvous socket on their own, as the
 * protocol requires. Ids are shared with connections and never reused; a stale or answered id gives
 * AZR_E_INVALID_CONN_ID (126).
 *
 * Threading: as for the listener (listener.h): the loop's thread only; the functions may be called
 * inside any of the listener's callbacks. The response functions answer AZR_E_INVALID_ARG for a NULL
 * listener.
 * @since 1.0.0
 */
#ifndef AZRELAY_HTTP_H
#define AZRELAY_HTTP_H

#include "azrelay/listener.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief HTTPRequest (on_http_request): an HTTP request for the hybrid connection.
 *
 * All pointers are borrowed for the callback only: copy what you keep (the id stays valid until the
 * request is answered or dropped).
 * @since 1.0.0
 */
typedef struct azr_http_request_event {
  azr_conn_id request_id;         /**< ConnectionId: pass it to the response functions. */
  const char *rendezvous_address; /**< RendezvousAddress (where a large response would go; may be ""
                                       for a request that came over a rendezvous). */
  const char *relay_id;           /**< Id: the relay's id of the request. */
  const char *request_headers;    /**< RequestHeaders: JSON object of the sender's headers (see
                                       azr_http_get_header()). */
  const char *request_target;     /**< RequestTarget: "/{hc}[/suffix][?query]" (sb-hc-* removed). */
  const char *method;             /**< RequestMethod ("GET", "POST"...). */
  const char *host;               /**< Host header ("" when absent). */
  const char *remote_address;     /**< RemoteAddress: the sender's IP address ("" when unknown). */
  uint16_t remote_port;           /**< RemotePort (0 when unknown). */
  const uint8_t *data;            /**< RequestData: the body, never NULL (NUL-terminated, not counted). */
  size_t len;                     /**< Length of the body in bytes (0 for none). */
  bool via_rendezvous;            /**< The relay delivered the request over a rendezvous socket. */
} azr_http_request_event;

/**
 * @brief on_http_ready_to_send: a streamed response can take more data.
 *
 * Fired after azr_http_response_write() returned AZR_E_WOULDBLOCK, once there is room again.
 * @since 1.0.0
 */
typedef struct azr_http_ready_event {
  azr_conn_id request_id;         /**< The request whose response can be written again. */
} azr_http_ready_event;

/**
 * @brief SendHTTPResponse: answers a request with a complete response.
 *
 * On success the request is answered and its id becomes invalid (for a body over 64 KiB: once the
 * rendezvous that carries it has sent it). After AZR_E_INVALID_ARG, AZR_E_CLOSED or AZR_E_TOO_BIG
 * the request is still pending, until it is answered or expires.
 * @param l           the listener.
 * @param request_id  azr_http_request_event::request_id.
 * @param status      HTTP status, 100-599.
 * @param description reason phrase; NULL or "" uses the standard one for @p status.
 * @param headers     NULL, or {name, value, name, value, ..., NULL}: copied. Hop-by-hop headers
 *                    (Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade,
 *                    Proxy-Connection) and Content-Length are dropped because the relay frames the
 *                    response itself (Content-Length is kept for HEAD). Names must be HTTP
 *                    tokens and values (and @p description) free of control characters other
 *                    than tab: a CR or LF could end the sender's response head early.
 * @param body        the body, copied; must not be NULL when @p len is not 0.
 * @param len         length of the body.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID (unknown, expired or answered); AZR_E_BAD_STATE (a streamed
 *         response was begun); AZR_E_INVALID_ARG (status outside 100-599, a header name that is not
 *         a token, a control character in a value or @p description, NULL body with a length); AZR_E_CLOSED (the control channel or the request's rendezvous is gone;
 *         the relay will answer the sender itself); AZR_E_TOO_BIG (a body over 64 KiB and over
 *         SendQueueSize); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_http_response_send(azr_listener *l, azr_conn_id request_id, int status,
                                                   const char *description, const char *const *headers,
                                                   const void *body, size_t len);

/**
 * @brief Starts a streamed response: status and headers now, the body with azr_http_response_write(),
 * finished by azr_http_response_end().
 *
 * For a request that came on the control channel the body is held back until it passes 64 KiB or
 * 2 seconds, so that a short response can still travel on the control channel.
 * @param l           the listener.
 * @param request_id  azr_http_request_event::request_id.
 * @param status      HTTP status, 100-599.
 * @param description reason phrase; NULL or "" uses the standard one.
 * @param headers     as for azr_http_response_send().
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE (already begun); AZR_E_INVALID_ARG;
 *         AZR_E_CLOSED (the request's rendezvous is gone); AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_http_response_begin(azr_listener *l, azr_conn_id request_id, int status,
                                                    const char *description, const char *const *headers);
/**
 * @brief Appends body bytes to a streamed response.
 * @param l          the listener.
 * @param request_id the request.
 * @param data       the bytes, copied; must not be NULL when @p len is not 0.
 * @param len        number of bytes (0 does nothing).
 * @return AZR_OK; AZR_E_WOULDBLOCK (the response's queue, SendQueueSize, is full: nothing was taken;
 *         wait for on_http_ready_to_send); AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE (not begun, or
 *         already ended); AZR_E_INVALID_ARG; AZR_E_CLOSED; AZR_E_NOMEM.
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_http_response_write(azr_listener *l, azr_conn_id request_id, const void *data,
                                                    size_t len);
/**
 * @brief Ends a streamed response; the id becomes invalid once the response is delivered (at once,
 * or when its rendezvous has sent it).
 * @param l          the listener.
 * @param request_id the request.
 * @return AZR_OK; AZR_E_INVALID_CONN_ID; AZR_E_BAD_STATE (not begun, or already ended);
 *         AZR_E_CLOSED (the control channel or the rendezvous is gone).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_http_response_end(azr_listener *l, azr_conn_id request_id);

/**
 * @brief Looks up a request header (name case-insensitive) in an event's request_headers JSON and
 * copies its value.
 *
 * Usable wherever the event is valid (inside on_http_request, or on a copy whose request_headers the
 * application keeps). Thread-safe: it touches only its arguments.
 * @param ev      the request event.
 * @param name    NUL-terminated header name.
 * @param[out] out receives the NUL-terminated value (untouched on failure).
 * @param out_len size of @p out.
 * @return AZR_OK; AZR_E_NOT_FOUND; AZR_E_TOO_BIG (@p out too small); AZR_E_PARSE (request_headers is
 *         not JSON); AZR_E_INVALID_ARG (an argument NULL, @p out_len 0).
 * @since 1.0.0
 */
AZR_EXTERN AZR_NODISCARD int azr_http_get_header(const azr_http_request_event *ev, const char *name, char *out,
                                                size_t out_len);

/**
 * @brief HTTP requests the listener holds now: being received, awaiting an answer, or with a
 * response in progress.
 * @param l the listener (NULL gives 0).
 * @return the number of requests.
 * @since 1.0.0
 */
AZR_EXTERN size_t azr_listener_get_http_request_count(const azr_listener *l);

#ifdef __cplusplus
}
#endif
#endif
