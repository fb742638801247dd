/* SPDX-License-Identifier: MIT */
/* azrelay connect: a sender that joins stdin/stdout to one relayed connection (like websocat).
 * Line mode (default): each stdin line is a text message and each received message is printed on a
 * line. --binary: stdin bytes go out as binary messages and received bytes are written raw.
 * --local-port: local TCP clients instead, each over its own relayed connection. --azbridge-port:
 * every relayed connection first names a logical port with azbridge's preamble. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "azrelay.h"
#include "azrelay/uv.h"
#include "cli.h"
#include "connect_tcp.h"

#define READ_CHUNK (64 * 1024)

struct connect_state {
  uv_loop_t loop;
  uv_fs_t read_req;
  uv_signal_t sigint, sigterm;
  azr_client *c;
  bool binary;
  bool quiet;
  char buf[READ_CHUNK];
  char *line;         /* line mode: partial line carried between reads */
  size_t line_len;
  bool reading;
  bool stdin_done;
  bool waiting_ready; /* a send returned WOULDBLOCK: read more only after ReadyToSend */
  char *pending;      /* bytes not sent yet because of WOULDBLOCK */
  size_t pending_len;
  bool pending_text;
  bool closing;
  int exit_code;
  bool opened;
};

static void start_read(struct connect_state *st);

static void finish(struct connect_state *st) {
  if (!uv_is_closing((uv_handle_t *)&st->sigint)) {
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
  }
  /* A blocked stdin read (a terminal) would keep the loop alive: stop it explicitly. */
  uv_stop(&st->loop);
}

/* Sends one message; on WOULDBLOCK keeps it and waits for ReadyToSend. Returns false to stop reading. */
static bool send_message(struct connect_state *st, const char *data, size_t len, bool text) {
  int rc = azr_client_send(st->c, text ? AZR_DATA_TEXT : AZR_DATA_BINARY, data, len, true);
  if (rc == AZR_OK) return true;
  if (rc == AZR_E_WOULDBLOCK) {
    st->pending = malloc(len ? len : 1);
    if (!st->pending) return false;
    memcpy(st->pending, data, len);
    st->pending_len = len;
    st->pending_text = text;
    st->waiting_ready = true;
    return false;
  }
  fprintf(stderr, "azrelay connect: send failed: %s\n", azr_strerror(rc));
  st->exit_code = CLI_FAIL;
  return false;
}

static void maybe_close(struct connect_state *st) {
  if (st->stdin_done && !st->waiting_ready && !st->closing && azr_client_is_open(st->c)) {
    st->closing = true;
    if (azr_client_close(st->c, 1000, "stdin closed") != AZR_OK) finish(st);
  }
}

static void on_read(uv_fs_t *req) {
  struct connect_state *st = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  st->reading = false;
  if (n < 0) fprintf(stderr, "azrelay connect: reading stdin: %s\n", uv_strerror((int)n));
  if (n <= 0) {
    if (!st->binary && st->line_len) send_message(st, st->line, st->line_len, true);
    st->line_len = 0;
    st->stdin_done = true;
    maybe_close(st);
    return;
  }
  bool go_on = true;
  if (st->binary) {
    go_on = send_message(st, st->buf, (size_t)n, false);
  } else {
    for (ssize_t i = 0; i < n; i++) {
      char ch = st->buf[i];
      if (ch == '\n') {
        if (st->line_len && st->line[st->line_len - 1] == '\r') st->line_len--;
        go_on = send_message(st, st->line, st->line_len, true) && go_on;
        st->line_len = 0;
        continue;
      }
      char *grown = realloc(st->line, st->line_len + 1);
      if (!grown) return;
      st->line = grown;
      st->line[st->line_len++] = ch;
    }
  }
  if (go_on) start_read(st);
}

static void start_read(struct connect_state *st) {
  if (st->reading || st->stdin_done || st->waiting_ready) return;
  st->reading = true;
  st->read_req.data = st;
  uv_buf_t b = uv_buf_init(st->buf, sizeof st->buf);
  if (uv_fs_read(&st->loop, &st->read_req, 0, &b, 1, -1, on_read) != 0) {
    st->reading = false;
    st->stdin_done = true;
  }
}

static void on_open(azr_client *c, int status, int http_status, const char *description, void *ud) {
  (void)c;
  struct connect_state *st = ud;
  if (status) {
    if (http_status)
      fprintf(stderr, "azrelay connect: %s HTTP %d %s\n", azr_strerror(status), http_status, description);
    else
      fprintf(stderr, "azrelay connect: %s %s\n", azr_strerror(status), description);
    st->exit_code = CLI_FAIL;
    finish(st);
    return;
  }
  st->opened = true;
  if (!st->quiet) fprintf(stderr, "connected\n");
  start_read(st);
}

static void on_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  (void)c;
  struct connect_state *st = ud;
  fwrite(ev->data, 1, ev->len, stdout);
  if (ev->eom && !st->binary) fputc('\n', stdout);
  fflush(stdout);
}

static void on_ready(azr_client *c, void *ud) {
  (void)c;
  struct connect_state *st = ud;
  if (st->pending) {
    int rc = azr_client_send(st->c, st->pending_text ? AZR_DATA_TEXT : AZR_DATA_BINARY, st->pending, st->pending_len,
                             true);
    if (rc == AZR_E_WOULDBLOCK) return;
    free(st->pending);
    st->pending = NULL;
  }
  st->waiting_ready = false;
  start_read(st);
  maybe_close(st);
}

static void on_close(azr_client *c, int code, const char *reason, int error, void *ud) {
  (void)c;
  struct connect_state *st = ud;
  if (!st->quiet || error) fprintf(stderr, "closed: %d %s%s%s\n", code, reason, error ? " / " : "", error ? azr_strerror(error) : "");
  if (error && !st->closing) st->exit_code = CLI_FAIL;
  finish(st);
}

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  struct connect_state *st = h->data;
  if (st->closing || !azr_client_is_open(st->c)) {
    finish(st);
    return;
  }
  st->closing = true;
  if (azr_client_close(st->c, 1000, "interrupted") != AZR_OK) finish(st);
}

/* What configures every client of this command. */
struct client_config {
  const char *connstr, *cacert;
  const char *azbridge_port;
  bool insecure;
  const char **headers, **sets;
  int nheaders, nsets;
};

static int configure_client(const struct client_config *cfg, azr_client *c) {
  int rc = azr_client_set_connection_string(c, cfg->connstr);
  char setting[4096];
  if (!rc && cfg->cacert) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", cfg->cacert);
    rc = azr_client_config(c, setting);
  }
  if (!rc && cfg->insecure) rc = azr_client_config(c, "SSLAcceptServerCertEncoded=*");
  if (!rc && cfg->azbridge_port) {
    snprintf(setting, sizeof setting, "AzbridgePortName=%s", cfg->azbridge_port);
    rc = azr_client_config(c, setting);
  }
  for (int i = 0; !rc && i < cfg->nsets; i++) rc = azr_client_config(c, cfg->sets[i]);
  for (int i = 0; !rc && i < cfg->nheaders; i++) {
    const char *colon = strchr(cfg->headers[i], ':');
    if (!colon) {
      fprintf(stderr, "azrelay connect: header '%s' has no ':'\n", cfg->headers[i]);
      return AZR_E_INVALID_ARG;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(colon - cfg->headers[i]), cfg->headers[i]);
    const char *value = colon + 1;
    while (*value == ' ') value++;
    rc = azr_client_add_header(c, name, value);
  }
  if (rc) fprintf(stderr, "azrelay connect: %s\n", azr_client_last_error(c)[0] ? azr_client_last_error(c) : azr_strerror(rc));
  return rc;
}

static int make_bridge_client(struct tcp_bridge_server *srv, azr_client **out) {
  int rc = azr_client_new_on_uv(out, srv->loop);
  if (!rc) rc = configure_client(srv->ud, *out);
  if (rc && *out) {
    azr_client_free(*out);
    *out = NULL;
  }
  return rc;
}

/* --local-port: the server, and what stops it. */
struct local_port_run {
  uv_loop_t loop;
  struct tcp_bridge_server srv;
  uv_signal_t sigint, sigterm;
  uv_timer_t grace;
};

static void on_bridge_grace_over(uv_timer_t *t) { uv_stop(t->loop); }

/* SIGINT/SIGTERM: a libuv signal watcher, since a plain handler would not wake a loop blocked
 * waiting for I/O. Relayed connections are closed (1001), then a moment for the close frames. */
static void on_bridge_signal(uv_signal_t *h, int sig) {
  (void)sig;
  struct local_port_run *run = h->data;
  uv_signal_stop(&run->sigint);
  uv_signal_stop(&run->sigterm);
  tcp_bridge_stop(&run->srv);
  uv_timer_init(&run->loop, &run->grace);
  uv_timer_start(&run->grace, on_bridge_grace_over, 500, 0);
}

/* Like the stdin mode, the process ends without tearing the loop down: relayed connections may
 * still be closing inside the library, and the exit closes every socket. */
static _Noreturn void exit_local_port(int status) {
  fflush(stdout);
  fflush(stderr);
  _Exit(status);
}

/* --local-port: a local TCP server whose every client gets its own relayed connection. */
static int run_local_port(const struct client_config *cfg, const char *bind_addr, int port, const char *path,
                          bool quiet) {
  struct local_port_run run;
  memset(&run, 0, sizeof run);
  uv_loop_init(&run.loop);
  run.srv = (struct tcp_bridge_server){.loop = &run.loop, .path = path, .quiet = quiet,
                                       .make_client = make_bridge_client, .ud = (void *)cfg};
  /* Check the configuration once before accepting anybody. */
  azr_client *probe;
  int rc = make_bridge_client(&run.srv, &probe);
  if (rc) exit_local_port(CLI_USAGE);
  azr_client_free(probe);
  rc = tcp_bridge_listen(&run.srv, bind_addr, port);
  if (rc) exit_local_port(rc);
  uv_signal_init(&run.loop, &run.sigint);
  uv_signal_init(&run.loop, &run.sigterm);
  run.sigint.data = run.sigterm.data = &run;
  uv_signal_start(&run.sigint, on_bridge_signal, SIGINT);
  uv_signal_start(&run.sigterm, on_bridge_signal, SIGTERM);
  uv_run(&run.loop, UV_RUN_DEFAULT);
  exit_local_port(CLI_OK);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay connect -c CONNSTR [options]\n"
          "  -c, --connection-string S  Azure portal connection string (or AZRELAY_CONNECTION_STRING)\n"
          "      --cacert FILE          trust this CA certificate (PEM)\n"
          "      --insecure             do not verify the relay's certificate\n"
          "      --path P               path and query after the hybrid connection, e.g. /orders?x=1\n"
          "  -H, --header 'K: V'        extra handshake header (reaches the listener); repeatable\n"
          "      --protocol P           offered WebSocket sub-protocol(s)\n"
          "      --binary               raw bytes both ways instead of lines\n"
          "      --local-port N         accept local TCP clients on N; each gets its own relayed connection\n"
          "      --bind ADDR            address for --local-port (default 127.0.0.1)\n"
          "      --azbridge-port NAME   speak azbridge's preamble: ask the listener for logical port NAME\n"
          "                             (an azbridge -T/-R listener, or azrelay listen --forward NAME=...)\n"
          "      --set Name=Value       any connection setting; repeatable\n"
          "  -q, --quiet                only errors on stderr\n");
}

int cmd_connect(int argc, char **argv) {
  static const struct option longopts[] = {{"connection-string", required_argument, NULL, 'c'},
                                           {"cacert", required_argument, NULL, 'C'},
                                           {"insecure", no_argument, NULL, 'k'},
                                           {"path", required_argument, NULL, 'p'},
                                           {"header", required_argument, NULL, 'H'},
                                           {"protocol", required_argument, NULL, 'P'},
                                           {"binary", no_argument, NULL, 'b'},
                                           {"local-port", required_argument, NULL, 'l'},
                                           {"bind", required_argument, NULL, 'B'},
                                           {"azbridge-port", required_argument, NULL, 'z'},
                                           {"set", required_argument, NULL, 's'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *connstr = getenv("AZRELAY_CONNECTION_STRING"), *cacert = NULL, *path = "", *protocol = NULL;
  bool insecure = false;
  int local_port = 0;
  const char *bind_addr = "127.0.0.1";
  const char *azbridge_port = NULL;
  const char *headers[32], *sets[64];
  int nheaders = 0, nsets = 0;
  struct connect_state st;
  memset(&st, 0, sizeof st);
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "c:H:qh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': connstr = optarg; break;
    case 'C': cacert = optarg; break;
    case 'k': insecure = true; break;
    case 'p': path = optarg; break;
    case 'H':
      if (nheaders == 32) return cli_usage_error("connect", "too many --header options");
      headers[nheaders++] = optarg;
      break;
    case 'P': protocol = optarg; break;
    case 'b': st.binary = true; break;
    case 'l': local_port = atoi(optarg); break;
    case 'B': bind_addr = optarg; break;
    case 'z': azbridge_port = optarg; break;
    case 's':
      if (nsets == 64) return cli_usage_error("connect", "too many --set options");
      sets[nsets++] = optarg;
      break;
    case 'q': st.quiet = true; break;
    case 'h': usage(stdout); return CLI_OK;
    default: usage(stderr); return CLI_USAGE;
    }
  }
  if (!connstr) return cli_usage_error("connect", "a connection string is required (-c)");
  signal(SIGPIPE, SIG_IGN);
  if (azbridge_port && !*azbridge_port) return cli_usage_error("connect", "--azbridge-port needs a NAME");
  if (azbridge_port && !local_port && !st.binary)
    return cli_usage_error("connect", "--azbridge-port carries a byte stream: use it with --local-port or --binary");
  struct client_config cfg = {connstr, cacert, azbridge_port, insecure, headers, sets, nheaders, nsets};
  if (local_port) {
    if (local_port < 1 || local_port > 65535) return cli_usage_error("connect", "--local-port must be 1-65535");
    return run_local_port(&cfg, bind_addr, local_port, path, st.quiet);
  }
  uv_loop_init(&st.loop);
  if (azr_client_new_on_uv(&st.c, &st.loop) != AZR_OK) return CLI_FAIL;
  int rc = configure_client(&cfg, st.c);
  int status = CLI_OK;
  if (rc) {
    status = CLI_USAGE;
  } else {
    azr_client_callbacks cb = {on_open, on_data, on_ready, on_close};
    (void)azr_client_set_callbacks(st.c, &cb, sizeof cb, &st);
    uv_signal_init(&st.loop, &st.sigint);
    uv_signal_init(&st.loop, &st.sigterm);
    st.sigint.data = st.sigterm.data = &st;
    uv_signal_start(&st.sigint, on_signal, SIGINT);
    uv_signal_start(&st.sigterm, on_signal, SIGTERM);
    rc = azr_client_connect(st.c, path, protocol);
    if (rc) {
      fprintf(stderr, "azrelay connect: %s\n", azr_client_last_error(st.c));
      finish(&st);
      status = CLI_FAIL;
    }
    uv_run(&st.loop, UV_RUN_DEFAULT);
    if (!status) status = st.exit_code;
  }
  azr_client_free(st.c);
  /* The stdin read may still be blocked in the thread pool; we are done with it. */
  uv_run(&st.loop, UV_RUN_NOWAIT);
  free(st.line);
  free(st.pending);
  fflush(stdout);
  _Exit(status);
}
