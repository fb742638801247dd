/* SPDX-License-Identifier: MIT */
/* azrelay listen: a listener on a hybrid connection that echoes messages, forwards connections to
 * TCP services (raw, or azbridge's logical ports) and answers HTTP requests (an echo, or the files
 * of a folder). */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay.h"
#include "cli.h"
#include "cli_errors.h"
#include "cli_log.h"
#include "cli_opts.h"
#include "http_files.h"
#include "metrics.h"

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

struct listen_opts {
  struct cli_common common;
  bool echo;
  bool http_echo;
  const char *http_dir;
  bool http_dotfiles;
  bool retry;
  struct http_files *files; /* --http-dir */
  const char *metrics_at;
  const char *forwards[64];
  int nforwards;
  bool azbridge;
  const char *sets[64];
  int nsets;
  /* the last refused attempt (on_connected), for the line on_disconnected prints */
  int refused_status, refused_http;
  char refused_desc[600];
  bool refused;
  /* why the listener stopped on its own (set when on_disconnected says it will not reconnect) */
  int fatal_code;
  char fatal[1200];
};

/* Fragments the send queue could not take yet, in order; the connection stays paused until they
 * are sent, so the backlog is bounded by what was already read. */
struct echo_fragment {
  struct echo_fragment *next;
  azr_data_format format;
  bool eom;
  size_t len;
  uint8_t data[];
};
struct echo_backlog {
  struct echo_fragment *head, *tail;
};

static void on_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (ev->status == 0) {
    cli_log(CLI_INFO, "listening");
    return;
  }
  /* Reported with the disconnect that follows: one line per attempt, or the final one. */
  o->refused = true;
  o->refused_status = ev->status;
  o->refused_http = ev->http_status;
  snprintf(o->refused_desc, sizeof o->refused_desc, "%s", ev->description);
}

static void on_disconnected(azr_listener *l, const azr_disconnected_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  bool refused = o->refused;
  o->refused = false;
  int status = refused ? o->refused_status : ev->status;
  const char *desc = refused ? o->refused_desc : ev->description;
  if (stop_requested) {
    cli_log(CLI_VERBOSE, "control channel closed: %s", desc);
  } else if (ev->will_reconnect) {
    cli_log(CLI_INFO, "control channel%s: %s (%s); reconnecting in %.1f s", refused ? "" : " closed", desc,
            azr_status_name(status), ev->reconnect_in_ms / 1000.0);
  } else {
    o->fatal_code = cli_explain_failure(&o->common, CLI_ROLE_LISTENER, status, refused ? o->refused_http : 0, desc,
                                        o->fatal, sizeof o->fatal);
  }
}

static void on_error(azr_listener *l, const azr_error_event *ev, void *ud) {
  (void)ud;
  /* The error that stops the listener is reported once, by the loop in cmd_listen. */
  if (azr_listener_get_state(l) != AZR_STATE_STOPPED) cli_log(CLI_WARN, "%s", ev->description);
}

static void on_request(azr_listener *l, azr_connection_request_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (ev->accept && !o->echo && !o->nforwards) {
    /* HTTP modes only: a WebSocket sender is told so instead of being served by nothing. */
    ev->accept = false;
    ev->http_status = 501;
    snprintf(ev->http_reason, sizeof ev->http_reason,
             "this listener serves HTTP requests only (no --echo or --forward)");
  }
  if (ev->accept)
    cli_log(CLI_INFO, "connection %llu requested from %s:%u", (unsigned long long)ev->conn_id, ev->remote_address,
            ev->remote_port);
  else
    cli_log(CLI_INFO, "connection %llu requested from %s:%u: refused with %d %s", (unsigned long long)ev->conn_id,
            ev->remote_address, ev->remote_port, ev->http_status, ev->http_reason);
}

static void on_conn_connected(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)l;
  (void)ud;
  if (ev->status) cli_log(CLI_WARN, "connection %llu failed: %s", (unsigned long long)ev->conn_id, ev->description);
  else cli_log(CLI_INFO, "connection %llu open", (unsigned long long)ev->conn_id);
}

static bool backlog_push(struct echo_backlog *b, azr_data_format format, const uint8_t *data, size_t len, bool eom) {
  struct echo_fragment *f = malloc(sizeof *f + len);
  if (!f) return false;
  f->next = NULL;
  f->format = format;
  f->eom = eom;
  f->len = len;
  memcpy(f->data, data, len);
  if (b->tail) b->tail->next = f;
  else b->head = f;
  b->tail = f;
  return true;
}

static void backlog_free(struct echo_backlog *b) {
  while (b && b->head) {
    struct echo_fragment *f = b->head;
    b->head = f->next;
    free(f);
  }
  free(b);
}

static void on_data(azr_listener *l, const azr_data_in_event *ev, void *ud) {
  (void)ud;
  /* Continuation fragments (format 0) are sent as parts of the message their first fragment began. */
  azr_data_format format = ev->format == AZR_DATA_TEXT ? AZR_DATA_TEXT : AZR_DATA_BINARY;
  struct echo_backlog *b = azr_conn_get_user_data(l, ev->conn_id);
  if (!b) {
    int rc = azr_conn_send_fragment(l, ev->conn_id, format, ev->data, ev->len, ev->eom);
    if (rc != AZR_E_WOULDBLOCK) {
      if (rc) cli_log(CLI_WARN, "connection %llu: echo failed: %s", (unsigned long long)ev->conn_id, azr_strerror(rc));
      return;
    }
    b = calloc(1, sizeof *b);
    if (!b) {
      (void)azr_conn_close(l, ev->conn_id, 1011, "out of memory");
      return;
    }
    (void)azr_conn_set_user_data(l, ev->conn_id, b);
    (void)azr_conn_pause(l, ev->conn_id); /* stop reading until the peer drains our echoes */
  }
  if (!backlog_push(b, format, ev->data, ev->len, ev->eom)) (void)azr_conn_close(l, ev->conn_id, 1011, "out of memory");
}

static void on_ready(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)ud;
  struct echo_backlog *b = azr_conn_get_user_data(l, ev->conn_id);
  while (b && b->head) {
    struct echo_fragment *f = b->head;
    int rc = azr_conn_send_fragment(l, ev->conn_id, f->format, f->data, f->len, f->eom);
    if (rc == AZR_E_WOULDBLOCK) return;
    b->head = f->next;
    if (!b->head) b->tail = NULL;
    free(f);
  }
  if (!b) return;
  (void)azr_conn_set_user_data(l, ev->conn_id, NULL);
  backlog_free(b);
  (void)azr_conn_resume(l, ev->conn_id);
}

static void on_conn_disconnected(azr_listener *l, const azr_connection_disconnected_event *ev, void *ud) {
  (void)ud;
  backlog_free(azr_conn_get_user_data(l, ev->conn_id));
  cli_log(CLI_INFO, "connection %llu closed: %d %s", (unsigned long long)ev->conn_id, ev->close_code, ev->description);
}

/* --http-echo: 200 with the request body (the request target when there is none), same Content-Type;
 * an X-Echo request header comes back as is (shows that a header reached the listener). */
static void http_echo(azr_listener *l, const azr_http_request_event *ev) {
  char ctype[256] = "text/plain; charset=utf-8", echo[1024];
  if (ev->len && azr_http_get_header(ev, "Content-Type", ctype, sizeof ctype) != AZR_OK)
    snprintf(ctype, sizeof ctype, "application/octet-stream");
  const char *headers[] = {"Content-Type", ctype, NULL, NULL, NULL};
  if (azr_http_get_header(ev, "X-Echo", echo, sizeof echo) == AZR_OK) {
    headers[2] = "X-Echo";
    headers[3] = echo;
  }
  const void *body = ev->len ? (const void *)ev->data : (const void *)ev->request_target;
  size_t len = ev->len ? ev->len : strlen(ev->request_target);
  int rc = azr_http_response_send(l, ev->request_id, 200, "OK", headers, body, len);
  if (rc) cli_log(CLI_WARN, "HTTP %s %s: response failed: %s", ev->method, ev->request_target, azr_strerror(rc));
  else cli_log(CLI_INFO, "HTTP %s %s -> 200 (%zu bytes)", ev->method, ev->request_target, len);
}

static void on_http(azr_listener *l, const azr_http_request_event *ev, void *ud) {
  struct listen_opts *o = ud;
  if (o->files) {
    http_files_serve(o->files, ev);
  } else if (o->http_echo) {
    http_echo(l, ev);
  } else {
    static const char msg[] = "this listener serves no HTTP requests (no --http-echo or --http-dir)\n";
    (void)azr_http_response_send(l, ev->request_id, 501, NULL, NULL, msg, sizeof msg - 1);
    cli_log(CLI_INFO, "HTTP %s %s -> 501 (no HTTP mode)", ev->method, ev->request_target);
  }
}

static void on_http_ready(azr_listener *l, const azr_http_ready_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (o->files) http_files_ready(o->files, ev->request_id);
}

/* What is wrong with NAME=HOST:PORT number i of forwards, or NULL. The library checks the same when
 * a connection names a port; checking here reports a typo at start-up instead. */
static const char *named_forward_problem(const char *const *forwards, int i) {
  const char *f = forwards[i], *eq = strchr(f, '=');
  size_t name_len = (size_t)(eq - f);
  if (name_len == 0 || name_len > 255) return "NAME must have 1-255 characters";
  for (const char *p = f; p < eq; p++)
    if (!isalnum((unsigned char)*p) && *p != '/' && *p != '_' && *p != '-' && *p != '.')
      return "NAME may only use 0-9 A-Z a-z / _ - . (azbridge's port names)";
  for (int j = 0; j < i; j++)
    if (strncmp(forwards[j], f, name_len + 1) == 0) return "NAME is given twice";
  const char *colon = strrchr(eq + 1, ':');
  if (!colon || colon == eq + 1) return "expected NAME=HOST:PORT";
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535) return "PORT must be 1-65535";
  return NULL;
}

/* A library refusal of a setting an option made, as a usage error. */
static int setting_refused(azr_listener *l, const char *what, int rc) {
  const char *detail = azr_listener_get_last_error(l);
  return cli_usage_error("listen", "%s: %s", what, detail && *detail ? detail : azr_strerror(rc));
}

/* --forward HOST:PORT (raw; azbridge with --azbridge) or NAME=HOST:PORT (azbridge logical ports).
 * Returns CLI_OK, or CLI_USAGE after printing why. */
static int configure_forwarding(azr_listener *l, const char *const *forwards, int n, bool azbridge) {
  int named = 0;
  for (int i = 0; i < n; i++) named += strchr(forwards[i], '=') != NULL;
  if (named) azbridge = true;
  if (n > 1 && named < n)
    return cli_usage_error("listen", "several --forward options must all be NAME=HOST:PORT (azbridge logical ports)");
  char setting[8192];
  int rc = azr_listener_config(l, azbridge ? "ForwardingMode=1" : "ForwardingMode=0");
  if (rc) return setting_refused(l, "--azbridge", rc);
  if (named) {
    /* The library checks names, hosts, ports and duplicates; check them now rather than at the
     * first connection. */
    size_t len = (size_t)snprintf(setting, sizeof setting, "ForwardingPorts=");
    for (int i = 0; i < n; i++) {
      int w = snprintf(setting + len, sizeof setting - len, "%s%s", i ? "," : "", forwards[i]);
      if (w < 0 || (size_t)w >= sizeof setting - len) return cli_usage_error("listen", "--forward lists are too long");
      len += (size_t)w;
      if (strchr(forwards[i], ','))
        return cli_usage_error("listen", "--forward '%s': one NAME=HOST:PORT per option", forwards[i]);
    }
    for (int i = 0; i < n; i++) {
      const char *why = named_forward_problem(forwards, i);
      if (why) return cli_usage_error("listen", "--forward '%s': %s", forwards[i], why);
    }
    rc = azr_listener_config(l, setting);
    return rc ? setting_refused(l, "--forward", rc) : CLI_OK;
  }
  /* HOST:PORT, or [IPv6]:PORT */
  const char *forward = forwards[0];
  const char *colon = strrchr(forward, ':');
  char host[256];
  if (!colon || colon == forward || (size_t)(colon - forward) >= sizeof host)
    return cli_usage_error("listen", "--forward '%s': expected HOST:PORT or NAME=HOST:PORT", forward);
  long port;
  if (!cli_parse_long(colon + 1, 1, 65535, &port))
    return cli_usage_error("listen", "--forward '%s': PORT must be 1-65535", forward);
  snprintf(host, sizeof host, "%.*s", (int)(colon - forward), forward);
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = 0;
  }
  snprintf(setting, sizeof setting, "ForwardingHost=%s", host);
  if ((rc = azr_listener_config(l, setting))) return setting_refused(l, "--forward", rc);
  snprintf(setting, sizeof setting, "ForwardingPort=%ld", port);
  if ((rc = azr_listener_config(l, setting))) return setting_refused(l, "--forward", rc);
  return CLI_OK;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay listen [-c CONNSTR] MODE... [options]\n"
          "\n"
          "Listens on a hybrid connection until SIGINT/SIGTERM (exit 0). A mistake (wrong key, unknown\n"
          "hybrid connection, untrusted certificate) ends it with one line and a non-zero exit.\n"
          "\n"
          "Modes: at most one for WebSocket senders and one for HTTP requests (what has none gets 501):\n"
          "      --echo                 echo every message back in its own format\n"
          "      --forward HOST:PORT    carry every connection to a TCP service\n"
          "      --forward NAME=HOST:PORT  azbridge logical port NAME (repeatable; implies --azbridge)\n"
          "      --azbridge             connections start with azbridge's preamble naming a port\n"
          "      --http-echo            answer HTTP requests with 200 and the request body\n"
          "      --http-dir DIR         serve the files of DIR to GET and HEAD (no symbolic links)\n"
          "      --http-dotfiles        with --http-dir: also serve names starting with '.'\n"
          "Options:\n"
          "  -c, --connection-string S  (or --connection-string-file FILE, or AZRELAY_CONNECTION_STRING)\n"
          "      --cacert FILE          trust this CA certificate (PEM), e.g. the emulator's --cert-out\n"
          "      --insecure             do not verify the relay's certificate (tests only)\n"
          "      --proxy URL            http://, https://, socks4://, socks4a://, socks5://, socks5h://\n"
          "                             [user:password@]host[:port] (default: https_proxy, no_proxy)\n"
          "      --retry                keep retrying start-up mistakes too (RetryOnStartupError)\n"
          "      --set Name=Value       any listener setting (docs/FEATURES.md); repeatable\n"
          "      --metrics HOST:PORT    serve counters as OpenMetrics at http://HOST:PORT/metrics\n"
          "  -v, --verbose              more detail (-vv: protocol detail); -q, --quiet: errors only\n"
          "      --log-level N          0 errors, 1 info (default), 2 verbose, 3 debug\n"
          "      --log-format F         auto (default), text (timestamps), plain, json\n"
          "  -h, --help                 this help; --version: versions\n"
          "Exit codes: 0 stopped by a signal, 2 usage, 3 credentials refused, 4 no such hybrid\n"
          "connection, 7 TLS, 8 network (see man azrelay).\n");
}

static int parse_option(void *ctx, int ch, char *arg) {
  struct listen_opts *o = ctx;
  switch (ch) {
  case 'e': o->echo = true; break;
  case 'E': o->http_echo = true; break;
  case 'F':
    if (o->nforwards == 64) return cli_usage_error("listen", "too many --forward options (64 at most)");
    o->forwards[o->nforwards++] = arg;
    break;
  case 'A': o->azbridge = true; break;
  case 'D': o->http_dir = arg; break;
  case 'O': o->http_dotfiles = true; break;
  case 'R': o->retry = true; break;
  case 's':
    if (o->nsets == 64) return cli_usage_error("listen", "too many --set options (64 at most)");
    o->sets[o->nsets++] = arg;
    break;
  case 'M': o->metrics_at = arg; break;
  }
  return -1;
}

/* The modes given must make sense together. */
static int check_modes(const struct listen_opts *o) {
  if (o->echo && o->nforwards)
    return cli_usage_error("listen", "--echo and --forward both serve WebSocket senders: choose one");
  if (o->http_echo && o->http_dir)
    return cli_usage_error("listen", "--http-echo and --http-dir both answer HTTP requests: choose one");
  if (!o->echo && !o->nforwards && !o->http_echo && !o->http_dir)
    return cli_usage_error("listen", "choose a mode: --echo or --forward HOST:PORT for WebSocket senders, "
                                     "and/or --http-echo or --http-dir DIR for HTTP requests");
  if (o->azbridge && !o->nforwards) return cli_usage_error("listen", "--azbridge needs --forward");
  if (o->http_dotfiles && !o->http_dir) return cli_usage_error("listen", "--http-dotfiles needs --http-dir");
  return CLI_OK;
}

/* Creates and configures the listener; CLI_OK or an exit code after a message. */
static int setup(struct listen_opts *o, azr_listener **out) {
  azr_listener *l;
  if (azr_listener_new(&l) != AZR_OK) {
    cli_log(CLI_ERROR, "out of memory");
    return CLI_FAIL;
  }
  azr_listener_set_log(l, cli_log_library, NULL);
  int rc = CLI_OK;
  if (o->retry && (rc = azr_listener_config(l, "RetryOnStartupError=true"))) rc = setting_refused(l, "--retry", rc);
  if (!rc && o->nforwards) rc = configure_forwarding(l, o->forwards, o->nforwards, o->azbridge);
  /* The shared options, then --set, so it can refine what the options chose. */
  if (!rc) rc = cli_configure_listener(&o->common, l, o->sets, o->nsets);
  if (!rc && o->http_dir) {
    char hc[1024];
    if (azr_listener_get_config(l, "HybridConnection", hc, sizeof hc) != AZR_OK || !hc[0])
      rc = cli_usage_error("listen", "--http-dir needs the hybrid connection's name (EntityPath)");
    else if (!(o->files = http_files_new(l, o->http_dir, hc, o->http_dotfiles)))
      rc = CLI_USAGE;
  }
  if (rc) {
    azr_listener_free(l);
    return rc;
  }
  *out = l;
  return CLI_OK;
}

int cmd_listen(int argc, char **argv) {
  static const struct option longopts[] = {{"echo", no_argument, NULL, 'e'},
                                           {"http-echo", no_argument, NULL, 'E'},
                                           {"forward", required_argument, NULL, 'F'},
                                           {"azbridge", no_argument, NULL, 'A'},
                                           {"http-dir", required_argument, NULL, 'D'},
                                           {"http-dotfiles", no_argument, NULL, 'O'},
                                           {"retry", no_argument, NULL, 'R'},
                                           {"set", required_argument, NULL, 's'},
                                           {"metrics", required_argument, NULL, 'M'},
                                           {NULL, 0, NULL, 0}};
  struct listen_opts o;
  memset(&o, 0, sizeof o);
  o.common = (struct cli_common){.cmd = "listen", .usage = usage,
                                 .uses = CLI_USES_CONNSTR | CLI_NEEDS_ENTITY | CLI_USES_TLS | CLI_USES_PROXY |
                                         CLI_LONG_RUNNING};
  int rc = cli_parse(&o.common, argc, argv, "", longopts, parse_option, &o);
  if (rc == -1 && optind < argc) rc = cli_usage_error("listen", "unexpected argument '%s'", argv[optind]);
  if (rc == -1 && (rc = check_modes(&o)) == CLI_OK) rc = -1;
  azr_listener *l = NULL;
  if (rc == -1) rc = setup(&o, &l);
  if (rc != CLI_OK || !l) {
    cli_common_free(&o.common);
    return rc;
  }
  signal(SIGPIPE, SIG_IGN);
  /* The callbacks below report these events in one line each; -v adds the library's own lines. */
  cli_log_hide_category("control");
  cli_log_hide_category("listener");
  cli_log_hide_category("rendezvous");
  azr_listener_callbacks cb = {0};
  cb.on_connected = on_connected;
  cb.on_disconnected = on_disconnected;
  cb.on_error = on_error;
  cb.on_connection_request = on_request;
  cb.on_connection_connected = on_conn_connected;
  cb.on_connection_data_in = on_data;
  cb.on_connection_ready_to_send = on_ready;
  cb.on_connection_disconnected = on_conn_disconnected;
  cb.on_http_request = on_http;
  cb.on_http_ready_to_send = on_http_ready;
  (void)azr_listener_set_callbacks(l, &cb, sizeof cb, &o);
  struct metrics_server *metrics = NULL;
  if (o.metrics_at) {
    char err[300];
    metrics = metrics_open(o.metrics_at, err, sizeof err);
    if (!metrics) {
      cli_usage_error("listen", "%s", err);
      http_files_free(o.files);
      azr_listener_free(l);
      cli_common_free(&o.common);
      return CLI_USAGE;
    }
    cli_log(CLI_INFO, "metrics on port %u (GET /metrics)", metrics_port(metrics));
  }
  rc = azr_listener_start(l);
  if (rc) {
    cli_log(CLI_ERROR, "cannot start listening: %s", azr_listener_get_last_error(l));
    metrics_close(metrics);
    http_files_free(o.files);
    azr_listener_free(l);
    cli_common_free(&o.common);
    return CLI_FAIL;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int status = CLI_OK;
  while (!stop_requested) {
    (void)azr_listener_run(l, metrics ? 50 : 200);
    if (o.files) http_files_tick(o.files);
    metrics_tick(metrics, l);
    if (azr_listener_get_state(l) == AZR_STATE_STOPPED) {
      /* The library gave up (fail-fast policy): say why once and exit. */
      if (!o.fatal[0]) snprintf(o.fatal, sizeof o.fatal, "stopped listening: %s", azr_listener_get_last_error(l));
      cli_log(CLI_ERROR, "%s", o.fatal);
      status = o.fatal_code ? o.fatal_code : CLI_FAIL;
      break;
    }
  }
  metrics_close(metrics);
  (void)azr_listener_shutdown(l);
  (void)azr_listener_run(l, 300);
  http_files_free(o.files);
  azr_listener_free(l);
  cli_common_free(&o.common);
  return status;
}
