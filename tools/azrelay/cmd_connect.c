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
#include <unistd.h>
#include <uv.h>

#include "azrelay.h"
#include "azrelay/uv.h"
#include "cli.h"
#include "cli_errors.h"
#include "cli_log.h"
#include "cli_opts.h"
#include "connect_progress.h"
#include "connect_tcp.h"

#define READ_CHUNK (64 * 1024)
#define CLOSE_GRACE_MS 1000 /* how long a close handshake may still take (--max-time, a Close crossing ours) */

/* What configures every client of this command. */
struct client_config {
  struct cli_common common;
  const char *path, *protocol;
  const char *azbridge_port;
  const char *headers[32], *sets[64];
  int nheaders, nsets;
  bool binary;
  long local_port;
  const char *bind_addr;
  long max_time_s;
  int progress; /* -1 never, 0 auto, 1 always */
};

struct connect_state {
  uv_loop_t loop;
  uv_fs_t read_req;
  uv_signal_t sigint, sigterm;
  uv_timer_t max_time, grace;
  struct progress progress;
  const struct client_config *cfg;
  azr_client *c;
  char buf[READ_CHUNK];
  char *line; /* line mode: partial line carried between reads */
  size_t line_len;
  bool reading;
  bool stdin_done;
  bool waiting_ready; /* a send returned WOULDBLOCK: read more only after ReadyToSend */
  char *pending;      /* bytes not sent yet because of WOULDBLOCK */
  size_t pending_len;
  bool pending_text;
  bool closing;    /* we started the close (stdin ended, signal, --max-time) */
  bool timed_out;
  int exit_code;
};

static void start_read(struct connect_state *st);

static void finish(struct connect_state *st) {
  if (!uv_is_closing((uv_handle_t *)&st->sigint)) {
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
  }
  progress_stop(&st->progress);
  /* A blocked stdin read (a terminal) would keep the loop alive: stop it explicitly. */
  uv_stop(&st->loop);
}

static void fail(struct connect_state *st, int code) {
  if (!st->exit_code) st->exit_code = code;
}

/* Sends one message; on WOULDBLOCK keeps it and waits for ReadyToSend. Returns false to stop reading. */
static bool send_message(struct connect_state *st, const char *data, size_t len, bool text) {
  int rc = azr_client_send(st->c, text ? AZR_DATA_TEXT : AZR_DATA_BINARY, data, len, true);
  if (rc == AZR_OK) {
    progress_sent(&st->progress, len);
    return true;
  }
  if (rc == AZR_E_WOULDBLOCK) {
    st->pending = malloc(len ? len : 1);
    if (!st->pending) return false;
    memcpy(st->pending, data, len);
    st->pending_len = len;
    st->pending_text = text;
    st->waiting_ready = true;
    return false;
  }
  /* A closed connection is reported by on_close, with its close code. */
  if (rc != AZR_E_CLOSED) {
    cli_log(CLI_ERROR, "send failed: %s", azr_client_get_last_error(st->c)[0] ? azr_client_get_last_error(st->c) : azr_strerror(rc));
    fail(st, CLI_FAIL);
  }
  return false;
}

static void on_grace_over(uv_timer_t *t);

static void maybe_close(struct connect_state *st) {
  if (st->stdin_done && !st->waiting_ready && !st->closing && azr_client_is_open(st->c)) {
    st->closing = true;
    /* Refused when the listener's Close is already on its way: on_close reports it (its code
     * decides the exit status), so wait for it rather than end here. */
    if (azr_client_close(st->c, 1000, "stdin closed") != AZR_OK)
      uv_timer_start(&st->grace, on_grace_over, CLOSE_GRACE_MS, 0);
  }
}

static void on_read(uv_fs_t *req) {
  struct connect_state *st = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  st->reading = false;
  if (n < 0) {
    cli_log(CLI_ERROR, "reading stdin: %s", uv_strerror((int)n));
    fail(st, CLI_FAIL);
  }
  if (n <= 0) {
    if (!st->cfg->binary && st->line_len) send_message(st, st->line, st->line_len, true);
    st->line_len = 0;
    st->stdin_done = true;
    maybe_close(st);
    return;
  }
  bool go_on = true;
  if (st->cfg->binary) {
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

static void on_open(azr_client *c, const azr_client_open_event *ev, void *ud) {
  int status = ev->status;
  int http_status = ev->http_status;
  const char *description = ev->description;
  (void)c;
  struct connect_state *st = ud;
  if (status) {
    char why[1200];
    fail(st, cli_explain_failure(&st->cfg->common, CLI_ROLE_SENDER, status, http_status, description, why, sizeof why));
    cli_log(CLI_ERROR, "%s", why);
    finish(st);
    return;
  }
  cli_log(CLI_INFO, "connected");
  progress_start(&st->progress);
  start_read(st);
}

static void on_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  (void)c;
  struct connect_state *st = ud;
  progress_received(&st->progress, ev->len);
  if (fwrite(ev->data, 1, ev->len, stdout) != ev->len || (ev->eom && !st->cfg->binary && fputc('\n', stdout) == EOF) ||
      fflush(stdout) != 0) {
    if (!st->exit_code) cli_log(CLI_ERROR, "writing stdout failed");
    fail(st, CLI_FAIL);
    if (!st->closing && azr_client_is_open(st->c)) {
      st->closing = true;
      if (azr_client_close(st->c, 1001, "output closed") != AZR_OK) finish(st);
    }
  }
}

static void on_ready(azr_client *c, const azr_client_ready_event *ev, void *ud) {
  (void)ev;
  (void)c;
  struct connect_state *st = ud;
  if (st->pending) {
    int rc = azr_client_send(st->c, st->pending_text ? AZR_DATA_TEXT : AZR_DATA_BINARY, st->pending, st->pending_len,
                             true);
    if (rc == AZR_E_WOULDBLOCK) return;
    if (rc == AZR_OK) progress_sent(&st->progress, st->pending_len);
    free(st->pending);
    st->pending = NULL;
  }
  st->waiting_ready = false;
  start_read(st);
  maybe_close(st);
}

/* 1000 is a normal close; 1005 (a Close without a code) is what some peers send for the same. */
static bool normal_close(int code) { return code == 1000 || code == 1005; }

static void on_close(azr_client *c, const azr_client_close_event *ev, void *ud) {
  int code = ev->close_code;
  const char *reason = ev->reason;
  int error = ev->status;
  (void)c;
  struct connect_state *st = ud;
  if (st->timed_out) {
    finish(st);
    return;
  }
  if (!error && normal_close(code)) {
    cli_log(CLI_INFO, "closed: %d%s%s", code, reason && *reason ? " " : "", reason ? reason : "");
  } else {
    /* The peer ended it abnormally (1011 forwarding target failed, 1009 message too big, ...) or
     * the connection was lost: the transfer is not complete, even when our Close came first. */
    if (error)
      cli_log(CLI_ERROR, "the connection was lost: %d %s (%s)", code, reason, azr_strerror(error));
    else
      cli_log(CLI_ERROR, "the listener closed the connection abnormally: %d %s", code, reason);
    fail(st, CLI_CLOSED);
  }
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

static void on_grace_over(uv_timer_t *t) {
  struct connect_state *st = t->data;
  if (!st->exit_code) {
    cli_log(CLI_ERROR, "the connection ended without a close handshake");
    fail(st, CLI_CLOSED);
  }
  finish(st);
}

static void on_max_time(uv_timer_t *t) {
  struct connect_state *st = t->data;
  cli_log(CLI_ERROR, "timed out after %ld s (--max-time)", st->cfg->max_time_s);
  fail(st, CLI_TIMEOUT);
  st->timed_out = true;
  if (azr_client_is_open(st->c) && !st->closing) {
    st->closing = true;
    if (azr_client_close(st->c, 1001, "time limit reached") == AZR_OK) {
      uv_timer_start(&st->grace, on_grace_over, CLOSE_GRACE_MS, 0);
      return;
    }
  }
  finish(st);
}

static int configure_client(const struct client_config *cfg, azr_client *c) {
  /* Our Close after the end of stdin or of a local client is a half-close: the listener answers it
   * once its side (a forwarding target's reply) is done, which can take longer than the library's
   * 5 s; the deadline counts from the listener's last bytes. --set CloseTimeout=N overrides. */
  if (azr_client_config(c, "CloseTimeout=120")) return cli_usage_error("connect", "%s", azr_client_get_last_error(c));
  int rc = cli_configure_client(&cfg->common, c, cfg->sets, cfg->nsets);
  if (rc) return rc;
  azr_client_set_log(c, cli_log_library, NULL);
  char setting[4096];
  if (cfg->azbridge_port) {
    snprintf(setting, sizeof setting, "AzbridgePortName=%s", cfg->azbridge_port);
    if (azr_client_config(c, setting))
      return cli_usage_error("connect", "--azbridge-port: %s", azr_client_get_last_error(c));
  }
  for (int i = 0; i < cfg->nheaders; i++) {
    const char *colon = strchr(cfg->headers[i], ':');
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(colon - cfg->headers[i]), cfg->headers[i]);
    const char *value = colon + 1;
    while (*value == ' ') value++;
    if (azr_client_add_header(c, name, value))
      return cli_usage_error("connect", "--header '%s': %s", name, azr_client_get_last_error(c));
  }
  return CLI_OK;
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

static int explain_bridge_failure(struct tcp_bridge_server *srv, int status, int http_status, const char *description,
                                  char *out, size_t out_len) {
  const struct client_config *cfg = srv->ud;
  return cli_explain_failure(&cfg->common, CLI_ROLE_SENDER, status, http_status, description, out, out_len);
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
static _Noreturn void exit_now(int status) {
  fflush(stdout);
  fflush(stderr);
  _Exit(status);
}

/* --local-port: a local TCP server whose every client gets its own relayed connection. */
static int run_local_port(struct client_config *cfg) {
  struct local_port_run run;
  memset(&run, 0, sizeof run);
  uv_loop_init(&run.loop);
  run.srv = (struct tcp_bridge_server){.loop = &run.loop, .path = cfg->path, .make_client = make_bridge_client,
                                       .explain = explain_bridge_failure, .ud = cfg};
  /* Check the configuration once before accepting anybody. */
  azr_client *probe;
  int rc = make_bridge_client(&run.srv, &probe);
  if (rc) exit_now(rc);
  azr_client_free(probe);
  rc = tcp_bridge_listen(&run.srv, cfg->bind_addr, (int)cfg->local_port);
  if (rc) exit_now(rc);
  uv_signal_init(&run.loop, &run.sigint);
  uv_signal_init(&run.loop, &run.sigterm);
  run.sigint.data = run.sigterm.data = &run;
  uv_signal_start(&run.sigint, on_bridge_signal, SIGINT);
  uv_signal_start(&run.sigterm, on_bridge_signal, SIGTERM);
  uv_run(&run.loop, UV_RUN_DEFAULT);
  exit_now(CLI_OK);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay connect [-c CONNSTR] [options]\n"
          "\n"
          "Connects to a hybrid connection as a sender: stdin lines go out as text messages, received\n"
          "messages come out on stdout, one per line (--binary: raw bytes both ways).\n"
          "\n"
          "  -c, --connection-string S  (or --connection-string-file FILE, or AZRELAY_CONNECTION_STRING)\n"
          "      --cacert FILE          trust this CA certificate (PEM), e.g. the emulator's --cert-out\n"
          "      --insecure             do not verify the relay's certificate (tests only)\n"
          "      --proxy URL            http(s)://, socks4(a)://, socks5(h):// [user:password@]host[:port]\n"
          "      --path P               path and query after the hybrid connection, e.g. /orders?x=1\n"
          "  -H, --header 'K: V'        extra handshake header (reaches the listener); repeatable\n"
          "      --protocol P           offered WebSocket sub-protocol(s)\n"
          "      --binary               raw bytes both ways instead of lines\n"
          "  -m, --max-time SECONDS     give up after this long (exit 10)\n"
          "      --progress, --no-progress  bytes and rate on stderr (default: when stderr is a\n"
          "                             terminal and stdin is not)\n"
          "      --local-port N         accept local TCP clients on N, each over its own connection\n"
          "      --bind ADDR            address for --local-port (default 127.0.0.1)\n"
          "      --azbridge-port NAME   ask the listener for azbridge logical port NAME\n"
          "      --set Name=Value       any connection setting; repeatable\n"
          "  -v, --verbose, -q, --quiet, --log-level N, --log-format F, -h, --help, --version\n"
          "Exit codes: 0 closed normally, 2 usage, 3 credentials refused, 4 no such hybrid connection,\n"
          "5 no listener online, 6 refused by the listener, 7 TLS, 8 network, 9 closed abnormally\n"
          "(e.g. 1011, 1009), 10 --max-time (see man azrelay).\n");
}

enum { O_PATH = 256, O_PROTOCOL, O_BINARY, O_LOCAL_PORT, O_BIND, O_AZB_PORT, O_SET, O_PROGRESS, O_NO_PROGRESS };

static int parse_option(void *ctx, int ch, char *arg) {
  struct client_config *cfg = ctx;
  switch (ch) {
  case O_PATH: cfg->path = arg; break;
  case 'H':
    if (cfg->nheaders == 32) return cli_usage_error("connect", "too many --header options (32 at most)");
    if (!strchr(arg, ':') || arg[0] == ':') return cli_usage_error("connect", "--header '%s' is not 'Name: value'", arg);
    cfg->headers[cfg->nheaders++] = arg;
    break;
  case O_PROTOCOL: cfg->protocol = arg; break;
  case O_BINARY: cfg->binary = true; break;
  case O_LOCAL_PORT:
    if (!cli_parse_long(arg, 1, 65535, &cfg->local_port))
      return cli_usage_error("connect", "--local-port must be 1-65535 (got '%s')", arg);
    break;
  case O_BIND: cfg->bind_addr = arg; break;
  case O_AZB_PORT: cfg->azbridge_port = arg; break;
  case O_SET:
    if (cfg->nsets == 64) return cli_usage_error("connect", "too many --set options (64 at most)");
    cfg->sets[cfg->nsets++] = arg;
    break;
  case 'm':
    if (!cli_parse_long(arg, 1, 100000000, &cfg->max_time_s))
      return cli_usage_error("connect", "--max-time takes whole seconds, 1 or more (got '%s')", arg);
    break;
  case O_PROGRESS: cfg->progress = 1; break;
  case O_NO_PROGRESS: cfg->progress = -1; break;
  }
  return -1;
}

int cmd_connect(int argc, char **argv) {
  static const struct option longopts[] = {{"path", required_argument, NULL, O_PATH},
                                           {"header", required_argument, NULL, 'H'},
                                           {"protocol", required_argument, NULL, O_PROTOCOL},
                                           {"binary", no_argument, NULL, O_BINARY},
                                           {"local-port", required_argument, NULL, O_LOCAL_PORT},
                                           {"bind", required_argument, NULL, O_BIND},
                                           {"azbridge-port", required_argument, NULL, O_AZB_PORT},
                                           {"set", required_argument, NULL, O_SET},
                                           {"max-time", required_argument, NULL, 'm'},
                                           {"progress", no_argument, NULL, O_PROGRESS},
                                           {"no-progress", no_argument, NULL, O_NO_PROGRESS},
                                           {NULL, 0, NULL, 0}};
  static struct client_config cfg; /* outlives the loop, which may still run after return paths */
  memset(&cfg, 0, sizeof cfg);
  cfg.path = "";
  cfg.bind_addr = "127.0.0.1";
  cfg.common = (struct cli_common){.cmd = "connect", .usage = usage,
                                   .uses = CLI_USES_CONNSTR | CLI_NEEDS_ENTITY | CLI_USES_TLS | CLI_USES_PROXY};
  int rc = cli_parse(&cfg.common, argc, argv, "H:m:", longopts, parse_option, &cfg);
  if (rc == -1 && optind < argc) rc = cli_usage_error("connect", "unexpected argument '%s'", argv[optind]);
  if (rc == -1 && cfg.azbridge_port && !*cfg.azbridge_port)
    rc = cli_usage_error("connect", "--azbridge-port needs a NAME");
  if (rc == -1 && cfg.azbridge_port && !cfg.local_port && !cfg.binary)
    rc = cli_usage_error("connect", "--azbridge-port carries a byte stream: use it with --local-port or --binary");
  if (rc == -1 && cfg.local_port && cfg.max_time_s)
    rc = cli_usage_error("connect", "--max-time limits one connection; it does not apply to --local-port");
  if (rc != -1) {
    cli_common_free(&cfg.common);
    return rc;
  }
  signal(SIGPIPE, SIG_IGN);
  if (cfg.local_port) {
    /* A long-running server: its log lines get timestamps under --log-format auto. */
    cli_log_setup("connect", cfg.common.verbosity, cfg.common.log_format, true);
    return run_local_port(&cfg);
  }
  static struct connect_state st;
  memset(&st, 0, sizeof st);
  st.cfg = &cfg;
  uv_loop_init(&st.loop);
  if (azr_client_new_on_uv(&st.c, &st.loop) != AZR_OK) exit_now(CLI_FAIL);
  int status = configure_client(&cfg, st.c);
  if (!status) {
    bool show = cfg.progress > 0 ||
                (cfg.progress == 0 && cfg.common.verbosity >= 1 && isatty(STDERR_FILENO) && !isatty(STDIN_FILENO));
    progress_init(&st.progress, &st.loop, show, isatty(STDERR_FILENO));
    azr_client_callbacks cb = {on_open, on_data, on_ready, on_close};
    (void)azr_client_set_callbacks(st.c, &cb, sizeof cb, &st);
    uv_signal_init(&st.loop, &st.sigint);
    uv_signal_init(&st.loop, &st.sigterm);
    st.sigint.data = st.sigterm.data = &st;
    uv_signal_start(&st.sigint, on_signal, SIGINT);
    uv_signal_start(&st.sigterm, on_signal, SIGTERM);
    uv_timer_init(&st.loop, &st.max_time);
    uv_timer_init(&st.loop, &st.grace);
    st.max_time.data = st.grace.data = &st;
    if (cfg.max_time_s) uv_timer_start(&st.max_time, on_max_time, (uint64_t)cfg.max_time_s * 1000u, 0);
    if (azr_client_connect(st.c, cfg.path, cfg.protocol) != AZR_OK) {
      cli_log(CLI_ERROR, "%s", azr_client_get_last_error(st.c));
      fail(&st, CLI_USAGE);
      finish(&st);
    }
    uv_run(&st.loop, UV_RUN_DEFAULT);
    status = st.exit_code;
  }
  /* The stdin read may still be blocked in the thread pool, and the client may be mid-close: the
   * process ends here without tearing the loop down. */
  exit_now(status);
}
