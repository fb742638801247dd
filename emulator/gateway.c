/* SPDX-License-Identifier: MIT */
/* Gateways (docs/EMULATOR.md, "Gateways"): several emulator processes play one namespace, as the
 * service spreads one namespace over many gateway machines. The home holds the listeners' control
 * channels. A gateway (HomeAddress set) takes senders and their rendezvous itself, and asks the home
 * with one HTTP request per sender (an offer) to send the accept command with a rendezvous address
 * on the gateway. A relayed pair then costs the gateway its two descriptors, not the home. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "io/connect.h"
#include "util/crypto.h"

/* What a home sends back: a status line, a few headers and a short error text. */
#define MAX_OFFER_RESPONSE (16u * 1024u)
/* The offer's connection to the home (TCP and TLS) must be up by then; its answer is bounded by
 * the sender's AcceptTimeoutMs, whose timer ends the sender and with it the offer. */
#define OFFER_CONNECT_TIMEOUT_MS 10000

struct emu_offer {
  azr_emulator *em;
  struct azr__stream *stream;
  struct azr__buf request;
  struct azr__buf response;
  emu_offer_done_fn done;
  void *ud;
};

bool azr__emu_is_gateway(const azr_emulator *em) { return em->settings.home_address[0] != 0; }

static bool parse_home(const char *a, char *host, size_t host_len, uint16_t *port);

int azr__emu_gateway_check(azr_emulator *em, char *msg, size_t msg_len) {
  if (!azr__emu_is_gateway(em)) return AZR_OK;
  /* Parsed once: HomeAddress cannot change after start. */
  if (!parse_home(em->settings.home_address, em->home_host, sizeof em->home_host, &em->home_port)) {
    snprintf(msg, msg_len, "HomeAddress '%s' is not HOST:PORT", em->settings.home_address);
    return AZR_E_INVALID_ARG;
  }
  if (strlen(em->settings.gateway_secret) < EMU_GATEWAY_SECRET_MIN) {
    snprintf(msg, msg_len, "a gateway (HomeAddress set) needs GatewaySecret, the home's, of at least %d characters",
             EMU_GATEWAY_SECRET_MIN);
    return AZR_E_INVALID_ARG;
  }
  return AZR_OK;
}

/* HOST:PORT or [V6]:PORT. */
static bool parse_home(const char *a, char *host, size_t host_len, uint16_t *port) {
  const char *colon = strrchr(a, ':');
  if (!colon || colon == a || !colon[1]) return false;
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || p < 1 || p > 65535) return false;
  size_t n = (size_t)(colon - a);
  if (a[0] == '[') { /* [v6]:port */
    if (n < 3 || a[n - 1] != ']') return false;
    a++;
    n -= 2;
  }
  if (n + 1 > host_len) return false;
  memcpy(host, a, n);
  host[n] = 0;
  *port = (uint16_t)p;
  return true;
}

/* ---- the gateway's side: one offer per sender ---- */

/* Reports the outcome once; the callback may cancel (free) the offer. */
static void offer_finish(struct emu_offer *o, int status) {
  emu_offer_done_fn done = o->done;
  void *ud = o->ud;
  o->done = NULL;
  if (done) done(ud, status, o->response.data, o->response.len);
}

/* The home's status code, or 0 when what came back is not an HTTP response. */
static int response_status(const struct azr__buf *r) {
  static const char prefix[] = "HTTP/1.1 ";
  if (r->len < sizeof prefix + 2 || memcmp(r->data, prefix, sizeof prefix - 1) != 0) return 0;
  const uint8_t *d = r->data + sizeof prefix - 1;
  if (!isdigit(d[0]) || !isdigit(d[1]) || !isdigit(d[2])) return 0;
  return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

static void of_connect(struct azr__stream *s, int status, const char *detail) {
  struct emu_offer *o = s->owner;
  if (status != AZR_OK) {
    unsigned left_out; /* every sender would repeat it while the home is away */
    if (azr__emu_log_gate_open(&o->em->home_log, &left_out))
      EMU_LOG(o->em, AZR_LOG_INFO, "gateway: the home at %s is not reachable: %s (%u more since the last report)",
              o->em->settings.home_address, detail ? detail : "", left_out);
    offer_finish(o, 0);
    return;
  }
  int rc = azr__stream_write(s, o->request.data, o->request.len);
  azr__buf_free(&o->request);
  if (rc != AZR_OK) offer_finish(o, 0); /* may free o */
}

static void of_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct emu_offer *o = s->owner;
  if (azr__buf_append(&o->response, data, len) != AZR_OK) offer_finish(o, 0);
}

/* The home closes the connection after its answer: the answer is complete now. */
static void of_end(struct azr__stream *s, int status) {
  (void)status;
  struct emu_offer *o = s->owner;
  offer_finish(o, response_status(&o->response));
}

static const struct azr__stream_callbacks offer_cb = {of_connect, of_read, of_end, NULL};

bool azr__emu_gateway_header(struct azr__span name) {
  static const char prefix[] = "X-Azr-Gateway";
  return name.len >= sizeof prefix - 1 && strncasecmp(name.ptr, prefix, sizeof prefix - 1) == 0;
}

/* The sender's request as the home should see it, plus who asks and where the rendezvous goes. */
static int build_request(azr_emulator *em, struct azr__buf *out, const struct azr__http_head *head, const char *id,
                         const char *authority, const char *peer_addr, uint16_t peer_port) {
  int rc = azr__buf_printf(out, "%.*s %.*s HTTP/1.1\r\n", (int)head->method.len, head->method.ptr,
                           (int)head->target.len, head->target.ptr);
  for (size_t i = 0; !rc && i < head->header_count; i++) {
    const struct azr__http_header *h = &head->headers[i];
    if (azr__emu_gateway_header(h->name)) continue; /* only this gateway speaks for itself */
    rc = azr__buf_printf(out, "%.*s: %.*s\r\n", (int)h->name.len, h->name.ptr, (int)h->value.len, h->value.ptr);
  }
  if (!rc)
    rc = azr__buf_printf(out,
                         "X-Azr-Gateway: %s\r\nX-Azr-Gateway-Id: %s\r\nX-Azr-Gateway-Rendezvous: %s\r\n"
                         "X-Azr-Gateway-Peer: %s %u\r\n\r\n",
                         em->settings.gateway_secret, id, authority, peer_addr, peer_port);
  return rc;
}

int azr__emu_gateway_offer(azr_emulator *em, const struct azr__http_head *head, const char *id,
                           const char *peer_addr, uint16_t peer_port, emu_offer_done_fn done, void *ud,
                           struct emu_offer **out) {
  *out = NULL;
  if (!em->home_curl) {
    int rc = azr__curl_new(&em->loop, em->mem, &em->log, &em->home_curl);
    if (rc) return rc;
  }
  struct emu_offer *o = azr__calloc(em->mem, 1, sizeof *o);
  if (!o) return AZR_E_NOMEM;
  o->em = em;
  o->done = done;
  o->ud = ud;
  azr__buf_init(&o->request, em->mem, 0);
  azr__buf_init(&o->response, em->mem, MAX_OFFER_RESPONSE);
  /* The rendezvous comes here: to the host the sender dialled, or GatewayHost. */
  const struct azr__http_header *host = azr__http_head_find(head, "Host");
  char dialled[300], authority[300];
  snprintf(dialled, sizeof dialled, "%.*s", host ? (int)host->value.len : 0, host ? host->value.ptr : "");
  azr__emu_rendezvous_authority(em, dialled, authority, sizeof authority);
  int rc = build_request(em, &o->request, head, id, authority, peer_addr, peer_port);
  if (!rc) {
    struct azr__connect_options co = {0};
    co.host = em->home_host;
    co.port = em->home_port;
    co.tls = !em->plain;
    /* Home and gateways serve one certificate (docs/EMULATOR.md): it is the only one trusted here. */
    co.ca_pem = azr__buf_cstr(&em->cert_pem);
    co.connect_timeout_ms = OFFER_CONNECT_TIMEOUT_MS;
    rc = azr__connect(em->home_curl, &co, &offer_cb, o, &o->stream);
  }
  if (rc) {
    o->stream = NULL;
    o->done = NULL;
    azr__emu_gateway_offer_cancel(o);
    return rc;
  }
  *out = o;
  return AZR_OK;
}

void azr__emu_gateway_offer_cancel(struct emu_offer *o) {
  if (!o) return;
  if (o->stream) azr__stream_close(o->stream, AZR__CLOSE_ABORT);
  azr__buf_free(&o->request);
  azr__buf_free(&o->response);
  azr__free(o->em->mem, o);
}

static void mark_true(void *ud) { *(bool *)ud = true; }

void azr__emu_gateway_free(azr_emulator *em) {
  if (!em->home_curl) return;
  bool freed = false;
  azr__curl_free(em->home_curl, mark_true, &freed);
  em->home_curl = NULL;
  for (int i = 0; i < 200 && !freed; i++) uv_run(&em->loop, UV_RUN_NOWAIT);
}

/* ---- the home's side: is this request a gateway's offer? ---- */

static bool header_copy(const struct azr__http_head *head, const char *name, char *out, size_t out_len,
                        const char *allowed) {
  const struct azr__http_header *h = azr__http_head_find(head, name);
  if (!h || !h->value.len || h->value.len >= out_len) return false;
  for (size_t i = 0; i < h->value.len; i++) {
    char c = h->value.ptr[i];
    if (!isalnum((unsigned char)c) && !strchr(allowed, c)) return false;
  }
  memcpy(out, h->value.ptr, h->value.len);
  out[h->value.len] = 0;
  return true;
}

enum emu_offer_kind azr__emu_gateway_parse_offer(azr_emulator *em, const struct azr__http_head *head,
                                                 struct emu_offer_info *info) {
  const struct azr__http_header *secret = azr__http_head_find(head, "X-Azr-Gateway");
  /* Only a home takes offers; a gateway drops such headers from its senders (build_request). */
  if (!secret || azr__emu_is_gateway(em)) return EMU_NOT_AN_OFFER;
  size_t want = strlen(em->settings.gateway_secret);
  /* An emulator without GatewaySecret takes no offers; the comparison takes the same time for any
   * secret of the right length. */
  if (!want || secret->value.len != want || !azr__secure_equal(secret->value.ptr, em->settings.gateway_secret, want))
    return EMU_OFFER_WRONG_SECRET;
  char peer[72];
  if (!header_copy(head, "X-Azr-Gateway-Id", info->id, sizeof info->id, "-_.~") ||
      !header_copy(head, "X-Azr-Gateway-Rendezvous", info->authority, sizeof info->authority, "-.:[]") ||
      !header_copy(head, "X-Azr-Gateway-Peer", peer, sizeof peer, ".:% "))
    return EMU_OFFER_MALFORMED;
  char *space = strrchr(peer, ' ');
  char *end;
  long port = space ? strtol(space + 1, &end, 10) : -1;
  if (!space || space == peer || *end || port < 0 || port > 65535) return EMU_OFFER_MALFORMED;
  *space = 0;
  if (strlen(peer) >= sizeof info->peer_addr) return EMU_OFFER_MALFORMED;
  memcpy(info->peer_addr, peer, strlen(peer) + 1);
  info->peer_port = (uint16_t)port;
  return EMU_OFFER;
}
