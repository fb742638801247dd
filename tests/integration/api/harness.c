/* SPDX-License-Identifier: MIT */
/* The in-process test world: emulator, listeners and clients on their own loops, recording callbacks. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "azrelay/uv.h"

#define H_MAX_CAPTURE ((size_t)64 << 20)

unsigned h_wait_scale(void) {
  const char *v = getenv("AZR_TEST_WAIT_SCALE");
  int n = v ? atoi(v) : 1;
  return n >= 1 && n <= 100 ? (unsigned)n : 1;
}

uint64_t h_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool h_contains(const char *haystack, const char *needle) { return haystack && needle && strstr(haystack, needle); }

bool h_icontains(const char *haystack, const char *needle) {
  if (!haystack || !needle) return false;
  size_t n = strlen(needle);
  for (const char *p = haystack; *p; p++)
    if (!strncasecmp(p, needle, n)) return true;
  return !n;
}

static void copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : "(null)"); }

/* Appends to a growable text buffer; the cap keeps a runaway log from eating the machine. */
static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t want = *cap ? *cap : 4096;
    while (want < *len + n + 1) want *= 2;
    if (want > H_MAX_CAPTURE) fail_msg("captured text exceeds %zu bytes", H_MAX_CAPTURE);
    char *p = realloc(*buf, want);
    if (!p) fail_msg("out of memory");
    *buf = p;
    *cap = want;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = 0;
}

static void data_add(struct h_data *d, const azr_data_in_event *ev) {
  if (d->n < H_MAX_EVENTS) d->ev[d->n] = (struct h_frag){(int)ev->format, ev->len, ev->eom};
  d->n++;
  if (ev->eom) d->msgs++;
  if (d->len + ev->len > d->cap) {
    size_t want = d->cap ? d->cap : 65536;
    while (want < d->len + ev->len) want *= 2;
    if (want > H_MAX_CAPTURE) fail_msg("received data exceeds %zu bytes", H_MAX_CAPTURE);
    unsigned char *p = realloc(d->bytes, want);
    if (!p) fail_msg("out of memory");
    d->bytes = p;
    d->cap = want;
  }
  if (ev->len) memcpy(d->bytes + d->len, ev->data, ev->len);
  d->len += ev->len;
}

void h_data_reset(struct h_data *d) {
  d->n = d->msgs = 0;
  d->len = 0;
}

void h_pattern(unsigned char *out, size_t len, uint64_t offset) {
  for (size_t i = 0; i < len; i++) {
    uint64_t x = offset + i;
    out[i] = (unsigned char)((x * 131u + (x >> 8) * 7u) & 0xff);
  }
}

bool h_pattern_ok(const unsigned char *data, size_t len, uint64_t offset) {
  for (size_t i = 0; i < len; i++) {
    uint64_t x = offset + i;
    if (data[i] != (unsigned char)((x * 131u + (x >> 8) * 7u) & 0xff)) return false;
  }
  return true;
}

void h_temp_file(char *path, size_t path_len, uint64_t size) {
  snprintf(path, path_len, "/tmp/azr-api-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) fail_msg("mkstemp failed");
  unsigned char buf[65536];
  for (uint64_t off = 0; off < size;) {
    size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
    h_pattern(buf, n, off);
    if (write(fd, buf, n) != (ssize_t)n) fail_msg("write to %s failed", path);
    off += n;
  }
  close(fd);
}

/* ---- world ---- */

static void emulator_log(int level, const char *category, const char *message, void *ud) {
  struct h_world *w = ud;
  if (!w->capture_emulator_log) return;
  char head[64];
  int n = snprintf(head, sizeof head, "%d %s ", level, category);
  append(&w->em_log, &w->em_log_len, &w->em_log_cap, head, (size_t)n);
  append(&w->em_log, &w->em_log_len, &w->em_log_cap, message, strlen(message));
  append(&w->em_log, &w->em_log_len, &w->em_log_cap, "\n", 1);
}

static struct h_world *world_prepare(bool tls, const char *bind_host, const char *const *emulator_settings) {
  struct h_world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->tls = tls;
  azr_emulator_options o;
  memset(&o, 0, sizeof o);
  o.bind_host = bind_host;
  o.plain = !tls;
  o.log = emulator_log;
  o.log_user_data = w;
  o.log_level = AZR_LOG_DEBUG;
  assert_int_equal(azr_emulator_new(&w->em, &o, sizeof o), AZR_OK);
  assert_int_equal(azr_emulator_add_rule(w->em, H_KEY_NAME, H_KEY, NULL, AZR_RIGHT_MANAGE, NULL), AZR_OK);
  assert_int_equal(azr_emulator_add_hybrid_connection(w->em, H_HC, true), AZR_OK);
  for (size_t i = 0; emulator_settings && emulator_settings[i]; i++)
    if (azr_emulator_config(w->em, emulator_settings[i]) != AZR_OK)
      fail_msg("emulator setting %s: %s", emulator_settings[i], azr_emulator_get_last_error(w->em));
  return w;
}

struct h_world *h_world_prepare(bool tls, const char *const *emulator_settings) {
  return world_prepare(tls, NULL, emulator_settings);
}

struct h_world *h_world_new_bound(bool tls, const char *bind_host, const char *const *emulator_settings) {
  struct h_world *w = world_prepare(tls, bind_host, emulator_settings);
  h_world_start(w);
  return w;
}

void h_world_start(struct h_world *w) {
  if (azr_emulator_start(w->em) != AZR_OK) fail_msg("emulator start: %s", azr_emulator_get_last_error(w->em));
  assert_int_equal(azr_emulator_get_connection_string(w->em, H_HC, H_KEY_NAME, w->connstr, sizeof w->connstr), AZR_OK);
  if (w->tls) {
    const char *pem = azr_emulator_get_certificate_pem(w->em);
    assert_non_null(pem);
    snprintf(w->ca_path, sizeof w->ca_path, "/tmp/azr-api-ca-XXXXXX");
    int fd = mkstemp(w->ca_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
    close(fd);
  }
}

struct h_world *h_world_new(bool tls, const char *const *emulator_settings) {
  struct h_world *w = h_world_prepare(tls, emulator_settings);
  h_world_start(w);
  return w;
}

void h_world_add_gateway(struct h_world *w, const char *const *settings) {
  assert_false(w->tls);
  assert_null(w->gateway);
  azr_emulator_options o;
  memset(&o, 0, sizeof o);
  o.plain = true;
  o.log = emulator_log; /* into w->em_log too, when capture_emulator_log is set */
  o.log_user_data = w;
  o.log_level = AZR_LOG_DEBUG;
  assert_int_equal(azr_emulator_new(&w->gateway, &o, sizeof o), AZR_OK);
  assert_int_equal(azr_emulator_add_rule(w->gateway, H_KEY_NAME, H_KEY, NULL, AZR_RIGHT_MANAGE, NULL), AZR_OK);
  assert_int_equal(azr_emulator_add_hybrid_connection(w->gateway, H_HC, true), AZR_OK);
  char home[64];
  snprintf(home, sizeof home, "HomeAddress=127.0.0.1:%u", azr_emulator_get_port(w->em));
  assert_int_equal(azr_emulator_config(w->gateway, home), AZR_OK);
  for (size_t i = 0; settings && settings[i]; i++)
    if (azr_emulator_config(w->gateway, settings[i]) != AZR_OK)
      fail_msg("gateway setting %s: %s", settings[i], azr_emulator_get_last_error(w->gateway));
  if (azr_emulator_start(w->gateway) != AZR_OK) fail_msg("gateway start: %s", azr_emulator_get_last_error(w->gateway));
  assert_int_equal(
      azr_emulator_get_connection_string(w->gateway, H_HC, H_KEY_NAME, w->gateway_connstr, sizeof w->gateway_connstr),
      AZR_OK);
}

void h_world_free(struct h_world *w) {
  if (!w) return;
  while (w->nc) h_client_free(w->cs[w->nc - 1]);
  while (w->nl) h_listener_free(w->ls[w->nl - 1]);
  azr_emulator_free(w->gateway);
  azr_emulator_free(w->em);
  if (w->ca_path[0]) unlink(w->ca_path);
  free(w->em_log);
  free(w);
}

bool h_step(struct h_world *w, uint64_t deadline_ms) {
  if (!w->em_paused && azr_emulator_run(w->em, 0) != AZR_OK) fail_msg("azr_emulator_run failed");
  if (w->gateway && azr_emulator_run(w->gateway, 0) != AZR_OK) fail_msg("azr_emulator_run (gateway) failed");
  for (size_t i = 0; i < w->nl; i++)
    if (!w->ls[i]->on_uv && azr_listener_run(w->ls[i]->l, 0) != AZR_OK)
      fail_msg("azr_listener_run: %s", azr_listener_get_last_error(w->ls[i]->l));
  for (size_t i = 0; i < w->nc; i++)
    if (azr_client_run(w->cs[i]->c, 0) != AZR_OK) fail_msg("azr_client_run: %s", azr_client_get_last_error(w->cs[i]->c));
  if (w->uv) uv_run(w->uv, UV_RUN_NOWAIT);
  usleep(300);
  return h_now_ms() < deadline_ms;
}

void h_pump_for(struct h_world *w, int ms) {
  uint64_t deadline = h_now_ms() + (uint64_t)ms;
  while (h_step(w, deadline)) {
  }
}

/* ---- listener callbacks: record, then act as the test asked ---- */

static void l_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  struct h_listener *hl = ud;
  hl->n_connected++;
  hl->connected_status = ev->status;
  hl->connected_http = ev->http_status;
  copy(hl->connected_desc, sizeof hl->connected_desc, ev->description);
  if (hl->interrupt_on_connected) azr_listener_interrupt_run(l);
  if (hl->probe_in_callback && !hl->probe_done) {
    hl->probe_done = true;
    hl->probe_run_rc = azr_listener_run(l, 0);
    azr_listener_free(l); /* must be ignored inside a callback */
  }
}

static void l_disconnected(azr_listener *l, const azr_disconnected_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_disconnected++;
  hl->disc_status = ev->status;
  hl->disc_close = ev->close_code;
  if (hl->n_disconnected == 1) hl->disc_close_first = ev->close_code;
  hl->disc_reconnect = ev->will_reconnect;
  hl->disc_in_ms = ev->reconnect_in_ms;
  copy(hl->disc_desc, sizeof hl->disc_desc, ev->description);
}

static void l_status(azr_listener *l, const azr_connection_status_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  if (hl->n_status < H_MAX_STATUS) copy(hl->status[hl->n_status], sizeof hl->status[0], ev->event);
  hl->n_status++;
  if (!strcmp(ev->event, "Online")) {
    hl->n_online++;
    if (ev->state != AZR_STATE_ONLINE) fail_msg("Online status with state %d", (int)ev->state);
  }
  if (!strcmp(ev->event, "TokenRenewed")) hl->n_renewed++;
  if (!strcmp(ev->event, "KeepAliveTimeout")) hl->n_keepalive_timeout++;
  if (hl->on_status_hook) hl->on_status_hook(hl, ev);
}

static void l_header(azr_listener *l, const azr_header_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_header++;
  size_t n = strlen(hl->headers);
  snprintf(hl->headers + n, sizeof hl->headers - n, "%s: %s\n", ev->field, ev->value);
}

static void l_redirect(azr_listener *l, azr_redirect_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_redirect++;
  copy(hl->redirect_location, sizeof hl->redirect_location, ev->location);
  hl->redirect_accept_in = ev->accept;
  if (hl->redirect_accept_override >= 0) ev->accept = hl->redirect_accept_override == 1;
}

static void l_error(azr_listener *l, const azr_error_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_error++;
  hl->error_code = ev->status;
  copy(hl->error_desc, sizeof hl->error_desc, ev->description);
}

static void l_ssl_auth(azr_listener *l, azr_ssl_server_authentication_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_ssl_auth++;
  copy(hl->ssl_auth_status, sizeof hl->ssl_auth_status, ev->status);
  size_t n = strlen(hl->ssl_auth_statuses);
  snprintf(hl->ssl_auth_statuses + n, sizeof hl->ssl_auth_statuses - n, "%s accept=%d\n", ev->status, ev->accept);
  copy(hl->ssl_auth_pem, sizeof hl->ssl_auth_pem, ev->cert_pem);
  hl->ssl_auth_accept_in = ev->accept;
  if (hl->ssl_accept_override >= 0) ev->accept = hl->ssl_accept_override == 1;
}

static void l_ssl_status(azr_listener *l, const azr_ssl_status_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_ssl_status++;
  size_t n = strlen(hl->ssl_status);
  snprintf(hl->ssl_status + n, sizeof hl->ssl_status - n, "%s\n", ev->message);
}

static void l_request(azr_listener *l, azr_connection_request_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_request++;
  struct h_request *r = &hl->req;
  r->conn_id = ev->conn_id;
  copy(r->rendezvous_address, sizeof r->rendezvous_address, ev->rendezvous_address);
  copy(r->id, sizeof r->id, ev->relay_id);
  copy(r->connect_headers, sizeof r->connect_headers, ev->connect_headers);
  copy(r->sub_protocols, sizeof r->sub_protocols, ev->sub_protocols);
  copy(r->extensions, sizeof r->extensions, ev->extensions);
  copy(r->host, sizeof r->host, ev->host);
  copy(r->remote_address, sizeof r->remote_address, ev->remote_address);
  r->remote_port = ev->remote_port;
  copy(r->path, sizeof r->path, ev->path);
  r->accept = ev->accept;
  r->status_code = ev->http_status;
  copy(r->sub_protocol, sizeof r->sub_protocol, ev->sub_protocol);
  if (hl->policy == H_REJECT) {
    ev->accept = false;
    ev->http_status = hl->reject_status;
    snprintf(ev->http_reason, sizeof ev->http_reason, "%s", hl->reject_desc);
  } else if (hl->policy == H_DEFER) {
    ev->defer = true;
  }
}

static void l_conn_connected(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_conn_connected++;
  hl->conn_connected_status = ev->status;
  if (ev->status == AZR_OK) hl->conn = ev->conn_id;
}

static void l_ready(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)l;
  (void)ev;
  struct h_listener *hl = ud;
  hl->n_ready++;
}

static void l_data(azr_listener *l, const azr_data_in_event *ev, void *ud) {
  struct h_listener *hl = ud;
  data_add(&hl->in, ev);
  if (hl->echo) {
    int rc = azr_conn_send_fragment(l, ev->conn_id, ev->format ? ev->format : AZR_DATA_BINARY, ev->data, ev->len, ev->eom);
    if (rc) fail_msg("echo failed: %s", azr_status_name(rc));
  }
  if (hl->on_data_hook) hl->on_data_hook(hl, ev);
}

static void l_conn_disc(azr_listener *l, const azr_connection_disconnected_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_conn_disc++;
  hl->cd_id = ev->conn_id;
  hl->cd_code = ev->close_code;
  hl->cd_error = ev->status;
  copy(hl->cd_desc, sizeof hl->cd_desc, ev->description);
}

static void l_conn_error(azr_listener *l, const azr_connection_error_event *ev, void *ud) {
  (void)l;
  struct h_listener *hl = ud;
  hl->n_conn_error++;
  hl->ce_code = ev->status;
  copy(hl->ce_desc, sizeof hl->ce_desc, ev->description);
}

static void l_log(int level, const char *category, const char *message, void *ud) {
  struct h_listener *hl = ud;
  if (getenv("AZR_TEST_TRACE")) fprintf(stderr, "[%llu listener %p %d %s] %s\n", (unsigned long long)h_now_ms(),
                                        (void *)hl, level, category, message);
  if (!hl->capture_log) return;
  char head[64];
  int n = snprintf(head, sizeof head, "%d %s ", level, category);
  append(&hl->log, &hl->log_len, &hl->log_cap, head, (size_t)n);
  append(&hl->log, &hl->log_len, &hl->log_cap, message, strlen(message));
  append(&hl->log, &hl->log_len, &hl->log_cap, "\n", 1);
  hl->n_log++;
}

static const azr_listener_callbacks listener_cb = {
    .on_connected = l_connected,
    .on_disconnected = l_disconnected,
    .on_connection_status = l_status,
    .on_header = l_header,
    .on_redirect = l_redirect,
    .on_error = l_error,
    .on_ssl_server_authentication = l_ssl_auth,
    .on_ssl_status = l_ssl_status,
    .on_connection_request = l_request,
    .on_connection_connected = l_conn_connected,
    .on_connection_ready_to_send = l_ready,
    .on_connection_data_in = l_data,
    .on_connection_disconnected = l_conn_disc,
    .on_connection_error = l_conn_error,
};

static struct h_listener *listener_setup(struct h_world *w, azr_listener *l, bool trust) {
  assert_true(w->nl < H_MAX_PEERS);
  struct h_listener *hl = calloc(1, sizeof *hl);
  assert_non_null(hl);
  hl->w = w;
  hl->l = l;
  hl->ssl_accept_override = -1;
  hl->redirect_accept_override = -1;
  hl->reject_status = 400;
  snprintf(hl->reject_desc, sizeof hl->reject_desc, "rejected by the test");
  if (azr_listener_set_connection_string(l, w->connstr) != AZR_OK)
    fail_msg("connection string: %s", azr_listener_get_last_error(l));
  if (w->tls && trust) {
    char s[128];
    snprintf(s, sizeof s, "OpenSSLCAFile=%s", w->ca_path);
    h_listener_config(hl, s);
  }
  assert_int_equal(azr_listener_set_callbacks(l, &listener_cb, sizeof listener_cb, hl), AZR_OK);
  azr_listener_set_log(l, l_log, hl);
  /* AZR_TEST_TRACE=1: every listener logs at level 3 to stderr (debugging a test by hand). */
  if (getenv("AZR_TEST_TRACE")) h_listener_config(hl, "LogLevel=3");
  w->ls[w->nl++] = hl;
  return hl;
}

struct h_listener *h_listener_new(struct h_world *w, bool trust) {
  azr_listener *l;
  assert_int_equal(azr_listener_new(&l), AZR_OK);
  return listener_setup(w, l, trust);
}

struct h_listener *h_listener_new_on_uv(struct h_world *w, bool trust) {
  assert_non_null(w->uv);
  azr_listener *l;
  assert_int_equal(azr_listener_new_on_uv(&l, w->uv), AZR_OK);
  struct h_listener *hl = listener_setup(w, l, trust);
  hl->on_uv = true;
  return hl;
}

void h_listener_config(struct h_listener *hl, const char *setting) {
  if (azr_listener_config(hl->l, setting) != AZR_OK)
    fail_msg("azr_listener_config(%.60s): %s", setting, azr_listener_get_last_error(hl->l));
}

void h_listener_get(struct h_listener *hl, const char *name, char *out, size_t out_len) {
  int rc = azr_listener_get_config(hl->l, name, out, out_len);
  if (rc) fail_msg("azr_listener_get_config(%s): %s (%s)", name, azr_status_name(rc), azr_listener_get_last_error(hl->l));
}

void h_listener_start_online(struct h_listener *hl) {
  int before = hl->n_online, attempts = hl->n_connected;
  int rc = azr_listener_start(hl->l);
  if (rc) fail_msg("azr_listener_start: %s (%s)", azr_status_name(rc), azr_listener_get_last_error(hl->l));
  H_WAIT(hl->w, hl->n_online > before || (hl->n_connected > attempts && hl->connected_status), 5000);
  if (hl->n_online == before) fail_msg("listener not online: %s (%s)", azr_status_name(hl->connected_status), hl->connected_desc);
}

int h_listener_status_index(const struct h_listener *hl, const char *event) {
  for (int i = 0; i < hl->n_status && i < H_MAX_STATUS; i++)
    if (!strcmp(hl->status[i], event)) return i;
  return -1;
}

bool h_listener_saw_status(const struct h_listener *hl, const char *event) { return h_listener_status_index(hl, event) >= 0; }

void h_listener_free(struct h_listener *hl) {
  if (!hl) return;
  struct h_world *w = hl->w;
  for (size_t i = 0; i < w->nl; i++)
    if (w->ls[i] == hl) {
      w->ls[i] = w->ls[--w->nl];
      break;
    }
  azr_listener_free(hl->l);
  if (hl->on_uv && w->uv) {
    /* The application's loop finishes closing the listener's handles. */
    for (int i = 0; i < 1000 && uv_loop_alive(w->uv); i++) uv_run(w->uv, UV_RUN_NOWAIT);
  }
  free(hl->in.bytes);
  free(hl->log);
  free(hl);
}

/* ---- clients ---- */

static void c_open(azr_client *c, const azr_client_open_event *ev, void *ud) {
  int status = ev->status;
  int http_status = ev->http_status;
  const char *description = ev->description;
  (void)c;
  struct h_client *hc = ud;
  hc->n_open++;
  hc->open_status = status;
  hc->open_http = http_status;
  copy(hc->open_desc, sizeof hc->open_desc, description);
}

static void c_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  struct h_client *hc = ud;
  data_add(&hc->in, ev);
  if (hc->echo) {
    int rc = azr_client_send(c, ev->format ? ev->format : AZR_DATA_BINARY, ev->data, ev->len, ev->eom);
    if (rc) fail_msg("client echo failed: %s", azr_status_name(rc));
  }
  if (hc->pause_on_first && hc->in.n == 1 && azr_client_pause(c) != AZR_OK) fail_msg("azr_client_pause failed");
}

static void c_ready(azr_client *c, const azr_client_ready_event *ev, void *ud) {
  (void)ev;
  (void)c;
  struct h_client *hc = ud;
  hc->n_ready++;
}

static void c_close(azr_client *c, const azr_client_close_event *ev, void *ud) {
  int code = ev->close_code;
  const char *reason = ev->reason;
  int error = ev->status;
  (void)c;
  struct h_client *hc = ud;
  hc->n_close++;
  hc->close_code = code;
  hc->close_error = error;
  copy(hc->close_reason, sizeof hc->close_reason, reason);
}

static void c_log(int level, const char *category, const char *message, void *ud) {
  struct h_client *hc = ud;
  if (!hc->capture_log) return;
  char head[64];
  int n = snprintf(head, sizeof head, "%d %s ", level, category);
  append(&hc->log, &hc->log_len, &hc->log_cap, head, (size_t)n);
  append(&hc->log, &hc->log_len, &hc->log_cap, message, strlen(message));
  append(&hc->log, &hc->log_len, &hc->log_cap, "\n", 1);
}

static const azr_client_callbacks client_cb = {c_open, c_data, c_ready, c_close};

static struct h_client *client_new(struct h_world *w, bool on_uv) {
  assert_true(w->nc < H_MAX_PEERS);
  struct h_client *hc = calloc(1, sizeof *hc);
  assert_non_null(hc);
  hc->w = w;
  if (on_uv) assert_int_equal(azr_client_new_on_uv(&hc->c, w->uv), AZR_OK);
  else assert_int_equal(azr_client_new(&hc->c), AZR_OK);
  if (azr_client_set_connection_string(hc->c, w->connstr) != AZR_OK)
    fail_msg("client connection string: %s", azr_client_get_last_error(hc->c));
  if (w->tls) {
    char s[128];
    snprintf(s, sizeof s, "OpenSSLCAFile=%s", w->ca_path);
    assert_int_equal(azr_client_config(hc->c, s), AZR_OK);
  }
  assert_int_equal(azr_client_set_callbacks(hc->c, &client_cb, sizeof client_cb, hc), AZR_OK);
  azr_client_set_log(hc->c, c_log, hc);
  w->cs[w->nc++] = hc;
  return hc;
}

struct h_client *h_client_new(struct h_world *w) { return client_new(w, false); }

struct h_client *h_client_new_on_uv(struct h_world *w) {
  assert_non_null(w->uv);
  return client_new(w, true);
}

int h_client_connect(struct h_client *hc, const char *path, const char *sub_protocols) {
  int before = hc->n_open;
  int rc = azr_client_connect(hc->c, path, sub_protocols);
  if (rc) fail_msg("azr_client_connect: %s (%s)", azr_status_name(rc), azr_client_get_last_error(hc->c));
  H_WAIT(hc->w, hc->n_open > before, 8000);
  return hc->open_status;
}

azr_conn_id h_connect_pair(struct h_listener *hl, struct h_client *hc) {
  int before = hl->n_conn_connected;
  int rc = h_client_connect(hc, "", NULL);
  if (rc) fail_msg("client not open: %s %d %s", azr_status_name(rc), hc->open_http, hc->open_desc);
  H_WAIT(hl->w, hl->n_conn_connected > before, 5000);
  assert_int_equal(hl->conn_connected_status, AZR_OK);
  return hl->conn;
}

azr_conn_id h_stalled_pair(struct h_world *w, const char *setting, struct h_listener **hl, struct h_client **hc) {
  *hl = h_listener_new(w, true);
  if (setting) h_listener_config(*hl, setting);
  h_listener_start_online(*hl);
  *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(*hl, *hc);
  assert_int_equal(azr_client_pause((*hc)->c), AZR_OK);
  h_pump_for(w, 20);
  return id;
}

void h_client_free(struct h_client *hc) {
  if (!hc) return;
  struct h_world *w = hc->w;
  for (size_t i = 0; i < w->nc; i++)
    if (w->cs[i] == hc) {
      w->cs[i] = w->cs[--w->nc];
      break;
    }
  azr_client_free(hc->c);
  free(hc->in.bytes);
  free(hc->log);
  free(hc);
}
