/* SPDX-License-Identifier: MIT */
/* How the listener reaches the relay, checked from the other end: the source address (LocalHost),
 * the address family (UseIPv6), the tracking id the relay sees (DiagnosticId), TCP keep-alive on the
 * real socket (KeepAliveTime/Interval), the set-up bound (ConnectTimeoutMs) against a server that
 * never answers, redirects (on_redirect) from a small HTTP server, the reconnect ceiling
 * (ReconnectDelayMaxMs), the renewal guard, and the TLS client certificate (SSLCertStore*) as
 * `openssl s_server` sees it. Everything runs on loopback. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

/* ---- small loopback servers ---- */

/* A listening socket on 127.0.0.1 with a free port. */
static int listen_loopback(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fd, 16), 0);
  socklen_t len = sizeof a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* Answers every HTTP request with a redirection to `location`, in its own thread. */
struct redirector {
  int fd;
  uint16_t port;
  char location[512];
  volatile int stop;
  volatile int requests;
  char first_request[1024];
  pthread_t thread;
};

static void *redirector_main(void *arg) {
  struct redirector *r = arg;
  while (!r->stop) {
    struct pollfd p = {r->fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept(r->fd, NULL, NULL);
    if (c < 0) continue;
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1) {
      struct pollfd q = {c, POLLIN, 0};
      if (poll(&q, 1, 2000) <= 0) break;
      ssize_t got = read(c, req + n, sizeof req - 1 - n);
      if (got <= 0) break;
      n += (size_t)got;
      req[n] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[n] = 0;
    if (r->requests == 0) snprintf(r->first_request, sizeof r->first_request, "%.1000s", req);
    r->requests++;
    char resp[1024];
    int len = snprintf(resp, sizeof resp,
                       "HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                       r->location);
    if (write(c, resp, (size_t)len) != len) { /* the listener may have gone: nothing to do */
    }
    close(c);
  }
  return NULL;
}

static void redirector_start(struct redirector *r, const char *location) {
  memset(r, 0, sizeof *r);
  snprintf(r->location, sizeof r->location, "%s", location);
  r->fd = listen_loopback(&r->port);
  assert_int_equal(pthread_create(&r->thread, NULL, redirector_main, r), 0);
}

static void redirector_stop(struct redirector *r) {
  r->stop = 1;
  pthread_join(r->thread, NULL);
  close(r->fd);
}

/* The emulator's log lines that report a listener joining (with its tracking id and address). */
static int joined_lines(struct h_world *w, const char *needle) {
  int n = 0;
  for (const char *p = w->em_log; p && (p = strstr(p, "listener ")) != NULL; p++) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char line[600];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
    if (strstr(line, " joined ") && strstr(line, needle)) n++;
  }
  return n;
}

/* ---- source address and tracking id ---- */

static void test_local_host_and_diagnostic_id(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  w->capture_emulator_log = true;
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "LocalHost=127.0.0.2");
  h_listener_config(hl, "DiagnosticId=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  h_listener_start_online(hl);
  /* The relay saw the control channel come from 127.0.0.2 with our tracking id. */
  assert_int_equal(joined_lines(w, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 joined 'hc1' from 127.0.0.2:"), 1);
  /* Rendezvous connections leave from there too: a sender gets through. */
  hl->echo = true;
  struct h_client *hc = h_client_new(w);
  (void)h_connect_pair(hl, hc);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "from 127.0.0.2", 14, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 3000);
  /* DiagnosticId is fixed while listening; it survives a reconnect. */
  assert_int_equal(azr_listener_config(hl->l, "DiagnosticId=11111111-2222-3333-4444-555555555555"), AZR_E_BAD_STATE);
  /* Without the settings: the default source address and a random id, different per listener. */
  struct h_listener *plain = h_listener_new(w, true);
  h_listener_start_online(plain);
  assert_int_equal(joined_lines(w, "from 127.0.0.1:"), 1);
  assert_int_equal(joined_lines(w, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), 1);
  /* An address this host does not have: the connection cannot even be made. */
  struct h_listener *bad = h_listener_new(w, true);
  h_listener_config(bad, "LocalHost=192.0.2.77");
  h_listener_config(bad, "ReconnectDelayFirstMs=60000");
  assert_int_equal(azr_listener_start(bad->l), AZR_OK);
  H_WAIT(w, bad->n_connected >= 1, 5000);
  assert_int_not_equal(bad->connected_status, AZR_OK);
  assert_true(h_contains(bad->connected_desc, "bind"));
  assert_int_equal(bad->n_online, 0);
}

/* ---- address families ---- */

/* A listener on @p ns_setting restricted by @p family_setting that must fail to connect. */
static struct h_listener *expect_unreachable(struct h_world *w, const char *ns_setting, const char *family_setting) {
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, ns_setting);
  h_listener_config(hl, family_setting);
  h_listener_config(hl, "ReconnectDelayFirstMs=60000");
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_connected >= 1, 5000);
  assert_int_not_equal(hl->connected_status, AZR_OK);
  assert_int_equal(hl->n_online, 0);
  return hl;
}

static void test_use_ipv6(void **state) {
  /* NamespaceAddress names the relay by address, so the listener's tokens do too. */
  static const char *const settings[] = {"NamespaceAliases=::1", NULL};
  struct h_world *w = *state = h_world_new_bound(false, "::1", settings);
  w->capture_emulator_log = true;
  char ns[64];
  snprintf(ns, sizeof ns, "NamespaceAddress=[::1]:%u", azr_emulator_get_port(w->em));
  /* IPv6 only and both families reach a relay on ::1 ... */
  struct h_listener *v6 = h_listener_new(w, true);
  h_listener_config(v6, ns);
  h_listener_config(v6, "UseIPv6=1");
  h_listener_start_online(v6);
  struct h_listener *both = h_listener_new(w, true);
  h_listener_config(both, ns);
  h_listener_start_online(both);
  assert_int_equal(joined_lines(w, "joined 'hc1' from ::1:"), 2);
  /* ... IPv4 only does not. */
  struct h_listener *v4 = expect_unreachable(w, ns, "UseIPv6=0");
  char v[8];
  h_listener_get(v4, "UseIPv6", v, sizeof v);
  assert_string_equal(v, "0");
}

static void test_ipv6_only_cannot_reach_an_ipv4_relay(void **state) {
  static const char *const settings[] = {"NamespaceAliases=127.0.0.1", NULL};
  struct h_world *w = *state = h_world_new(false, settings); /* 127.0.0.1 */
  char ns[64];
  snprintf(ns, sizeof ns, "NamespaceAddress=127.0.0.1:%u", azr_emulator_get_port(w->em));
  (void)expect_unreachable(w, ns, "UseIPv6=1");
  struct h_listener *v4 = h_listener_new(w, true);
  h_listener_config(v4, ns);
  h_listener_config(v4, "UseIPv6=0");
  h_listener_start_online(v4);
}

/* ---- TCP keep-alive on the control channel's socket ---- */

struct keepalive {
  int found, on, idle, interval, count, rcvbuf, sndbuf;
  unsigned user_timeout;
};

/* Finds this process's TCP socket connected to 127.0.0.1:port (the listener's end; the emulator's
 * end has that port as its local one) and reads its keep-alive options. */
static struct keepalive keepalive_to(uint16_t port) {
  struct keepalive k = {0};
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    if (fd <= 2 || fd == dirfd(d)) continue;
    struct stat st;
    if (fstat(fd, &st) || !S_ISSOCK(st.st_mode)) continue;
    struct sockaddr_storage peer, self;
    socklen_t pl = sizeof peer, sl = sizeof self;
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) || getsockname(fd, (struct sockaddr *)&self, &sl)) continue;
    if (peer.ss_family != AF_INET || self.ss_family != AF_INET) continue;
    if (ntohs(((struct sockaddr_in *)&peer)->sin_port) != port) continue;
    if (ntohs(((struct sockaddr_in *)&self)->sin_port) == port) continue;
    socklen_t l = sizeof k.on;
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &k.on, &l);
    l = sizeof k.idle;
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k.idle, &l);
    l = sizeof k.interval;
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k.interval, &l);
    l = sizeof k.count;
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &k.count, &l);
    l = sizeof k.user_timeout;
    getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &k.user_timeout, &l);
    l = sizeof k.rcvbuf;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &k.rcvbuf, &l);
    l = sizeof k.sndbuf;
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &k.sndbuf, &l);
    k.found++;
  }
  closedir(d);
  return k;
}

/* Starts a listener with the given settings (NULL-terminated) and checks its control channel's
 * socket: keep-alive on or off, and (when on) the idle time, probe interval and count, and the
 * TCP_USER_TIMEOUT that bounds unacknowledged data. */
static void expect_keepalive(struct h_world *w, const char *const *settings, bool on, int idle_s, int interval_s,
                             int count, unsigned user_timeout_ms) {
  uint16_t port = azr_emulator_get_port(w->em);
  struct h_listener *hl = h_listener_new(w, true);
  for (size_t i = 0; settings[i]; i++) h_listener_config(hl, settings[i]);
  h_listener_start_online(hl);
  struct keepalive k = keepalive_to(port);
  assert_int_equal(k.found, 1);
  assert_int_equal(k.on != 0, on);
  if (on) {
    assert_int_equal(k.idle, idle_s);
    assert_int_equal(k.interval, interval_s);
    assert_int_equal(k.count, count);
  }
  assert_int_equal(k.user_timeout, user_timeout_ms);
  h_listener_free(hl);
  h_pump_for(w, 100);
}

static void test_tcp_keepalive(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  static const char *const defaults[] = {NULL};
  static const char *const off[] = {"KeepAliveTime=0", NULL};
  static const char *const both[] = {"KeepAliveTime=7000", "KeepAliveInterval=2500", "KeepAliveRetryCount=3", NULL};
  static const char *const time_only[] = {"KeepAliveTime=1200", "KeepAliveInterval=0", NULL};
  /* On by default: probes after 60 s, every 10 s, 6 of them; unacknowledged data ends the control
   * channel after 60 + 6 x 10 s. */
  expect_keepalive(w, defaults, true, 60, 10, 6, 120000);
  expect_keepalive(w, off, false, 0, 0, 0, 0);
  expect_keepalive(w, both, true, 7, 3, 3, 16000);      /* each rounded up to whole seconds */
  expect_keepalive(w, time_only, true, 2, 2, 6, 14000); /* no interval: probes every KeepAliveTime */
  /* An accepted connection gets keep-alive probes but no TCP_USER_TIMEOUT (a sender that stops
   * reading legitimately keeps our data unacknowledged). */
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
  uint16_t port = azr_emulator_get_port(w->em);
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int sockets = 0, with_timeout = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    if (fd <= 2 || getpeername(fd, (struct sockaddr *)&peer, &pl) || peer.sin_family != AF_INET ||
        ntohs(peer.sin_port) != port)
      continue;
    unsigned ut = 0;
    socklen_t l = sizeof ut;
    getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, &l);
    sockets++;
    with_timeout += ut != 0;
  }
  closedir(d);
  assert_int_equal(sockets, 3); /* control channel, rendezvous, the client's connection */
  assert_int_equal(with_timeout, 1);
}

/* InBufferSize / OutBufferSize set the socket buffers (Linux reports twice the value it was given,
 * for its bookkeeping). */
static void test_socket_buffers(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "InBufferSize=131072");
  h_listener_config(hl, "OutBufferSize=65536");
  h_listener_start_online(hl);
  struct keepalive k = keepalive_to(azr_emulator_get_port(w->em));
  assert_int_equal(k.found, 1);
  assert_int_equal(k.rcvbuf, 2 * 131072);
  assert_int_equal(k.sndbuf, 2 * 65536);
}

/* ---- ConnectTimeoutMs ---- */

static void test_connect_timeout(void **state) {
  struct h_world *w = *state = h_world_new(true, NULL);
  /* The kernel completes the TCP handshake from the backlog; nobody ever answers the TLS one. */
  uint16_t port;
  int fd = listen_loopback(&port);
  struct h_listener *hl = h_listener_new(w, true);
  char ns[64];
  snprintf(ns, sizeof ns, "NamespaceAddress=127.0.0.1:%u", port);
  h_listener_config(hl, ns);
  h_listener_config(hl, "ConnectTimeoutMs=700");
  h_listener_config(hl, "ReconnectDelayFirstMs=60000");
  uint64_t t0 = h_now_ms();
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_connected >= 1, 10000);
  uint64_t took = h_now_ms() - t0;
  close(fd);
  print_message("silent server: %s after %llu ms: %s\n", azr_status_name(hl->connected_status),
                (unsigned long long)took, hl->connected_desc);
  assert_int_equal(hl->connected_status, AZR_E_TIMEOUT);
  assert_true(took >= 600 && took < 3000);
  assert_true(hl->disc_reconnect || hl->n_disconnected == 0);
  assert_int_equal(hl->n_online, 0);
}

/* ---- redirects ---- */

static void test_redirect(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  w->capture_emulator_log = true;
  char location[256];
  snprintf(location, sizeof location, "sb://localhost:%u/", azr_emulator_get_port(w->em));
  struct redirector r;
  redirector_start(&r, location);
  char ns[64];
  snprintf(ns, sizeof ns, "NamespaceAddress=127.0.0.1:%u", r.port);
  /* Not followed unless the handler says so: a failure, and the listener retries later. */
  struct h_listener *stay = h_listener_new(w, true);
  h_listener_config(stay, ns);
  h_listener_config(stay, "ReconnectDelayFirstMs=60000");
  assert_int_equal(azr_listener_start(stay->l), AZR_OK);
  H_WAIT(w, stay->n_connected >= 1, 5000);
  assert_int_equal(stay->n_redirect, 1);
  assert_string_equal(stay->redirect_location, location);
  assert_false(stay->redirect_accept_in);
  assert_int_not_equal(stay->connected_status, AZR_OK);
  assert_int_equal(stay->connected_http, 307);
  assert_int_equal(stay->n_online, 0);
  assert_true(h_contains(stay->headers, "Location: "));
  /* Followed: the listener comes online at the location. */
  struct h_listener *follow = h_listener_new(w, true);
  h_listener_config(follow, ns);
  follow->redirect_accept_override = 1;
  h_listener_start_online(follow);
  assert_int_equal(follow->n_redirect, 1);
  assert_string_equal(follow->redirect_location, location);
  char v[128];
  h_listener_get(follow, "NamespaceAddress", v, sizeof v);
  char expect[64];
  snprintf(expect, sizeof expect, "localhost:%u", azr_emulator_get_port(w->em));
  assert_string_equal(v, expect);
  redirector_stop(&r);
  /* The redirector saw listen handshakes; the relay saw exactly one listener join. */
  assert_int_equal(r.requests, stay->n_redirect + follow->n_redirect);
  assert_true(h_contains(r.first_request, "sb-hc-action=listen"));
  assert_int_equal(joined_lines(w, "joined 'hc1'"), 1);
  /* It serves senders there. */
  follow->echo = true;
  struct h_client *hc = h_client_new(w);
  (void)h_connect_pair(follow, hc);
}

/* ---- reconnect ceiling and renewal guard ---- */

static void test_reconnect_delay_max(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "NamespaceAddress=127.0.0.1:1"); /* refused at once */
  h_listener_config(hl, "ReconnectDelayFirstMs=50");
  h_listener_config(hl, "ReconnectDelayMaxMs=300");
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  uint32_t delays[8];
  for (int i = 0; i < 8; i++) {
    H_WAIT(w, hl->n_disconnected >= i + 1, 3000);
    delays[i] = hl->disc_in_ms;
    assert_true(hl->disc_reconnect);
  }
  /* 0, 50, 100, 200, then capped at 300 (jitter only downwards there). */
  assert_int_equal(delays[0], 0);
  for (int i = 1; i < 8; i++) assert_true(delays[i] <= 300);
  for (int i = 5; i < 8; i++) assert_true(delays[i] >= 240);
  assert_true(delays[1] <= 60);
}

static void test_renewal_guard(void **state) {
  /* No grace: a token not renewed in time closes the control channel. */
  static const char *const settings[] = {"TokenGraceSeconds=0", "ClockSkewSeconds=1", NULL};
  struct h_world *w = *state = h_world_new(false, settings);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "TokenValidity=4");
  h_listener_config(hl, "AutoRenewThreshold=3600"); /* longer than the lifetime: renew halfway */
  h_listener_start_online(hl);
  h_pump_for(w, 7000);
  /* About every 2 s: not continuously, and never late. */
  print_message("%d renewals in 7 s\n", hl->n_renewed);
  assert_true(hl->n_renewed >= 2 && hl->n_renewed <= 5);
  assert_int_equal(hl->n_disconnected, 0);
  assert_true(azr_listener_is_connected(hl->l));
}

/* ---- TLS session resumption ---- */

static int count(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
  return n;
}

/* Stops and restarts a listener: a second control channel handshake. */
static void listen_twice(struct h_listener *hl) {
  h_listener_start_online(hl);
  assert_int_equal(azr_listener_stop(hl->l), AZR_OK);
  H_WAIT(hl->w, hl->n_disconnected == 1, 3000);
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(hl->w, hl->n_online == 2, 5000);
}

static void test_reuse_ssl_session(void **state) {
  struct h_world *w = *state = h_world_new(true, NULL);
  /* By default the second handshake resumes the first one's session: no certificate this time. */
  struct h_listener *hl = h_listener_new(w, true);
  listen_twice(hl);
  print_message("SSLStatus:\n%s", hl->ssl_status);
  assert_int_equal(count(hl->ssl_status, "TLS handshake done"), 2);
  assert_int_equal(count(hl->ssl_status, "(session resumed)"), 1);
  assert_int_equal(hl->n_ssl_auth, 1);
  /* Senders still get through (rendezvous connections share the cache too). */
  hl->echo = true;
  struct h_client *hc = h_client_new(w);
  (void)h_connect_pair(hl, hc);
  /* ReuseSSLSession=false: two full handshakes, the certificate checked twice. */
  struct h_listener *full = h_listener_new(w, true);
  h_listener_config(full, "ReuseSSLSession=false");
  listen_twice(full);
  assert_int_equal(count(full->ssl_status, "TLS handshake done"), 2);
  assert_int_equal(count(full->ssl_status, "(session resumed)"), 0);
  assert_int_equal(full->n_ssl_auth, 2);
}

/* ---- TLS client certificate ---- */

static char tmpdir[128];

static int run_quiet(const char *cmd) {
  char full[4096];
  snprintf(full, sizeof full, "(%s) >/dev/null 2>&1", cmd);
  return system(full);
}

static bool have_openssl(void) { return run_quiet("openssl version") == 0; }

/* openssl s_server asking for a client certificate (any issuer), printing what it got to a file;
 * -www answers the listener's handshake with a status page (so the listener fails, as expected). */
static pid_t s_server_start_with(uint16_t *port, const char *out, const char *const *extra) {
  for (int attempt = 0; attempt < 5; attempt++) {
    int probe = listen_loopback(port);
    close(probe);
    char accept_arg[32], cert[256], key[256];
    snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%u", *port);
    snprintf(cert, sizeof cert, "%s/server.pem", tmpdir);
    snprintf(key, sizeof key, "%s/server.key", tmpdir);
    const char *args[] = {"openssl", "s_server", "-accept", accept_arg, "-cert", cert, "-key", key,
                          "-www", "-naccept", "100", NULL};
    char *argv[sizeof args / sizeof args[0] + 8];
    size_t n = 0;
    for (size_t i = 0; args[i]; i++) argv[n++] = (char *)args[i];
    for (size_t i = 0; extra[i] && n + 1 < sizeof argv / sizeof argv[0]; i++) argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    /* Ready once it accepts. */
    for (int i = 0; i < 100; i++) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
      close(fd);
      if (ok) return pid;
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) break; /* it died (port taken?): try another */
      usleep(20000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
  }
  fail_msg("openssl s_server did not start");
  return -1;
}

static pid_t s_server_start(uint16_t *port, const char *out) {
  static const char *const any_client[] = {"-Verify", "1", NULL};
  return s_server_start_with(port, out, any_client);
}

static void s_server_stop(pid_t pid) {
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return calloc(1, 1);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strdup(buf);
}

/* Starts a listener at the s_server with the given settings and waits for its first attempt. */
static void attempt_at(struct h_world *w, uint16_t port, const char *const *sets, int *status, char *desc,
                       size_t desc_len) {
  struct h_listener *hl = h_listener_new(w, false);
  char ns[64], ca[300];
  snprintf(ns, sizeof ns, "NamespaceAddress=localhost:%u", port);
  snprintf(ca, sizeof ca, "OpenSSLCAFile=%s/server.pem", tmpdir);
  h_listener_config(hl, ns);
  h_listener_config(hl, ca);
  h_listener_config(hl, "ReconnectDelayFirstMs=60000");
  for (size_t i = 0; sets[i]; i++) h_listener_config(hl, sets[i]);
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_connected >= 1, 8000);
  *status = hl->connected_status;
  snprintf(desc, desc_len, "%s", hl->connected_desc);
  h_listener_free(hl);
}

static void remove_tmpdir(void) {
  const char *files[] = {"server.pem", "server.key", "client.pem", "client.p12", "client.bin", "s_server.out",
                         "root.pem", "root.key", "root.srl", "int.pem", "int.key", "int.srl", "int.csr", "int.ext",
                         "leaf.csr", "leaf.pem", NULL};
  char path[300];
  for (size_t i = 0; files[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
    unlink(path);
  }
  rmdir(tmpdir);
}

static void test_client_certificate(void **state) {
  /* openssl is a declared test dependency (scripts/install-deps.sh): its absence fails, never skips. */
  if (!have_openssl()) fail_msg("the openssl command is not installed (Debian package openssl)");
  struct h_world *w = *state = h_world_new(true, NULL); /* only for the pump; its listeners use TLS */
  snprintf(tmpdir, sizeof tmpdir, "/tmp/azr-cert-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char cmd[1536];
  snprintf(cmd, sizeof cmd,
           "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost -keyout server.key -out server.pem && "
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=azrelay-test-client "
           "-keyout client.key -out client.crt && cat client.crt client.key > client.pem && "
           "openssl pkcs12 -export -in client.crt -inkey client.key -passout pass:P12-s3cret -out client.p12 && "
           "cp client.p12 client.bin && rm client.crt client.key",
           tmpdir);
  if (run_quiet(cmd) != 0) {
    remove_tmpdir();
    fail_msg("cannot generate the test certificates with openssl");
  }
  char out[300];
  snprintf(out, sizeof out, "%s/s_server.out", tmpdir);
  uint16_t port;
  pid_t pid = s_server_start(&port, out);
  char p12[300], pem[300], bin[300], desc[700];
  snprintf(p12, sizeof p12, "SSLCertStore=%s/client.p12", tmpdir);
  snprintf(pem, sizeof pem, "SSLCertStore=%s/client.pem", tmpdir);
  snprintf(bin, sizeof bin, "SSLCertStore=%s/client.bin", tmpdir);
  int status;
  struct {
    const char *what;
    const char *sets[4];
    bool presented;         /* s_server saw the client certificate */
    int status;             /* 0: any failure after the TLS handshake (s_server answers 200, not 101) */
    const char *server_says; /* what s_server prints about this connection */
  } cases[] = {
      {"no certificate", {NULL}, false, 0, "did not return a certificate"},
      {"PKCS#12 by name", {p12, "SSLCertStorePassword=P12-s3cret", NULL}, true, 0, "CN = azrelay-test-client"},
      {"PEM by name", {pem, NULL}, true, 0, "CN = azrelay-test-client"},
      {"PKCS#12 by SSLCertStoreType=2", {bin, "SSLCertStoreType=2", "SSLCertStorePassword=P12-s3cret", NULL}, true, 0,
       "CN = azrelay-test-client"},
      /* Unusable credentials: the listener hangs up before its ClientHello. */
      {"PKCS#12 with a wrong password", {p12, "SSLCertStorePassword=wrong", NULL}, false, AZR_E_TLS_CREDENTIALS,
       "unexpected eof"},
      {"PKCS#12 read as PEM (SSLCertStoreType=6)", {bin, "SSLCertStoreType=6", "SSLCertStorePassword=P12-s3cret", NULL},
       false, AZR_E_TLS_CREDENTIALS, "unexpected eof"},
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct stat st;
    size_t before = stat(out, &st) == 0 ? (size_t)st.st_size : 0;
    attempt_at(w, port, cases[i].sets, &status, desc, sizeof desc);
    /* s_server's report of this connection may land after the listener's event: wait for it. */
    char *all = NULL;
    const char *fresh;
    for (uint64_t end = h_now_ms() + 5000u * h_wait_scale();; usleep(10000)) {
      free(all);
      all = slurp(out);
      fresh = all + (before <= strlen(all) ? before : 0);
      if (strstr(fresh, cases[i].server_says) || h_now_ms() >= end) break;
    }
    bool reported = strstr(fresh, cases[i].server_says) != NULL;
    bool presented = strstr(fresh, "CN = azrelay-test-client") != NULL;
    bool ok = reported && presented == cases[i].presented && status != AZR_OK &&
              (cases[i].status == 0 || status == cases[i].status);
    print_message("%s %s: %s (%s); s_server %s the certificate%s%s\n", ok ? "ok:" : "FAILED:", cases[i].what,
                  azr_status_name(status), desc, presented ? "saw" : "did not see",
                  reported ? "" : "; s_server never said: ", reported ? "" : cases[i].server_says);
    if (!ok) failures++;
    free(all);
  }
  s_server_stop(pid);
  if (failures) {
    char *all = slurp(out);
    print_message("s_server output:\n%s\n", all);
    free(all);
  }
  remove_tmpdir();
  assert_int_equal(failures, 0);
}

/* SSLCACerts: a server that trusts only a root CA accepts a client certificate an intermediate
 * signed only when the intermediate travels with it. */
static void test_client_certificate_chain(void **state) {
  if (!have_openssl()) fail_msg("the openssl command is not installed (Debian package openssl)");
  struct h_world *w = *state = h_world_new(true, NULL);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/azr-chain-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char cmd[3072];
  snprintf(cmd, sizeof cmd,
           "cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
           "openssl req -x509 $K -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
           "-keyout server.key -out server.pem && "
           "openssl req -x509 $K -days 2 -subj /CN=azrelay-root -addext basicConstraints=critical,CA:TRUE "
           "-keyout root.key -out root.pem && "
           "printf 'basicConstraints=critical,CA:TRUE\\n' > int.ext && "
           "openssl req $K -subj /CN=azrelay-intermediate -keyout int.key -out int.csr && "
           "openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 -extfile int.ext "
           "-out int.pem && "
           "openssl req $K -subj /CN=azrelay-chain-client -keyout leaf.key -out leaf.csr && "
           "openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 2 -out leaf.crt && "
           "cat leaf.crt leaf.key > leaf.pem && rm leaf.crt leaf.key",
           tmpdir);
  if (run_quiet(cmd) != 0) {
    remove_tmpdir();
    fail_msg("cannot generate the test certificates with openssl");
  }
  char out[300], root[300];
  snprintf(out, sizeof out, "%s/s_server.out", tmpdir);
  snprintf(root, sizeof root, "%s/root.pem", tmpdir);
  const char *strict[] = {"-Verify", "2", "-verify_return_error", "-CAfile", root, NULL};
  uint16_t port;
  pid_t pid = s_server_start_with(&port, out, strict);
  char leaf[300], chain[8192] = "SSLCACerts=", path[300], desc[700];
  snprintf(leaf, sizeof leaf, "SSLCertStore=%s/leaf.pem", tmpdir);
  snprintf(path, sizeof path, "%s/int.pem", tmpdir);
  char *int_pem = slurp(path);
  snprintf(chain + strlen(chain), sizeof chain - strlen(chain), "%s", int_pem);
  free(int_pem);
  int without, with;
  attempt_at(w, port, (const char *[]){leaf, NULL}, &without, desc, sizeof desc);
  print_message("without SSLCACerts: %s (%s)\n", azr_status_name(without), desc);
  attempt_at(w, port, (const char *[]){leaf, chain, NULL}, &with, desc, sizeof desc);
  print_message("with SSLCACerts: %s (%s)\n", azr_status_name(with), desc);
  s_server_stop(pid);
  remove_tmpdir();
  /* Refused in the handshake without the intermediate; past TLS with it (s_server's status page is
   * not a WebSocket upgrade, so the listener still fails, later). */
  assert_true(without == AZR_E_TLS_HANDSHAKE || without == AZR_E_CONN_RESET || without == AZR_E_IO);
  assert_true(with != AZR_OK && with != AZR_E_TLS_HANDSHAKE && with != AZR_E_TLS_CREDENTIALS && with != AZR_E_CONN_RESET);
}

/* A server that only takes P-384 (as Azure's front ends choose it): the listener's first handshake
 * offers X25519 and gets a HelloRetryRequest; every later one offers P-384 first and gets none. */
static void test_learns_the_relays_group(void **state) {
  if (!have_openssl()) fail_msg("the openssl command is not installed (Debian package openssl)");
  struct h_world *w = *state = h_world_new(true, NULL);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/azr-group-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost -keyout server.key -out server.pem",
           tmpdir);
  if (run_quiet(cmd) != 0) {
    remove_tmpdir();
    fail_msg("cannot generate the test certificate with openssl");
  }
  char out[300];
  snprintf(out, sizeof out, "%s/s_server.out", tmpdir);
  const char *p384_only[] = {"-groups", "P-384", NULL};
  uint16_t port;
  pid_t pid = s_server_start_with(&port, out, p384_only);
  struct h_listener *hl = h_listener_new(w, false);
  char ns[64], ca[300];
  snprintf(ns, sizeof ns, "NamespaceAddress=localhost:%u", port);
  snprintf(ca, sizeof ca, "OpenSSLCAFile=%s/server.pem", tmpdir);
  h_listener_config(hl, ns);
  h_listener_config(hl, ca);
  h_listener_config(hl, "ReconnectDelayFirstMs=100"); /* s_server answers 200: each attempt fails after TLS */
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, count(hl->ssl_status, "TLS handshake done") >= 3, 10000);
  s_server_stop(pid);
  remove_tmpdir();
  print_message("SSLStatus:\n%s", hl->ssl_status);
  assert_int_equal(count(hl->ssl_status, "(after a HelloRetryRequest)"), 1);
  const char *first = strstr(hl->ssl_status, "TLS handshake done");
  assert_non_null(strstr(first, "(after a HelloRetryRequest)"));
  assert_true(strstr(first, "(after a HelloRetryRequest)") < strstr(first + 1, "TLS handshake done"));
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_local_host_and_diagnostic_id, teardown),
      cmocka_unit_test_teardown(test_use_ipv6, teardown),
      cmocka_unit_test_teardown(test_ipv6_only_cannot_reach_an_ipv4_relay, teardown),
      cmocka_unit_test_teardown(test_tcp_keepalive, teardown),
      cmocka_unit_test_teardown(test_socket_buffers, teardown),
      cmocka_unit_test_teardown(test_connect_timeout, teardown),
      cmocka_unit_test_teardown(test_redirect, teardown),
      cmocka_unit_test_teardown(test_reconnect_delay_max, teardown),
      cmocka_unit_test_teardown(test_renewal_guard, teardown),
      cmocka_unit_test_teardown(test_reuse_ssl_session, teardown),
      cmocka_unit_test_teardown(test_client_certificate, teardown),
      cmocka_unit_test_teardown(test_client_certificate_chain, teardown),
      cmocka_unit_test_teardown(test_learns_the_relays_group, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
