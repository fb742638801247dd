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
#include "http_files.h"
#include "metrics.h"

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

struct listen_opts {
  bool echo;
  bool http_echo;
  const char *http_dir;
  struct http_files *files; /* --http-dir */
  int log_level;
  bool quiet;
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

static void log_sink(int level, const char *category, const char *message, void *ud) {
  (void)level;
  (void)ud;
  fprintf(stderr, "[%s] %s\n", category, message);
}

static void on_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (ev->status_code == 0) {
    if (!o->quiet) fprintf(stderr, "listening\n");
  } else {
    fprintf(stderr, "control channel: %s (%s)\n", ev->description, azr_status_name(ev->status_code));
  }
}

static void on_disconnected(azr_listener *l, const azr_disconnected_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (!o->quiet || ev->status_code)
    fprintf(stderr, "control channel closed: %s%s\n", ev->description, ev->will_reconnect ? " (reconnecting)" : "");
}

static void on_request(azr_listener *l, azr_connection_request_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (!o->quiet)
    fprintf(stderr, "connection %llu requested from %s:%u%s\n", (unsigned long long)ev->conn_id, ev->remote_address,
            ev->remote_port, ev->accept ? "" : " (refused by AllowedClients/BlockedClients/MaxConnections)");
}

static void on_conn_connected(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)l;
  struct listen_opts *o = ud;
  if (ev->status_code) fprintf(stderr, "connection %llu failed: %s\n", (unsigned long long)ev->conn_id, ev->description);
  else if (!o->quiet) fprintf(stderr, "connection %llu open\n", (unsigned long long)ev->conn_id);
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
      if (rc) fprintf(stderr, "connection %llu: echo failed: %s\n", (unsigned long long)ev->conn_id, azr_strerror(rc));
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
  struct listen_opts *o = ud;
  backlog_free(azr_conn_get_user_data(l, ev->conn_id));
  if (!o->quiet)
    fprintf(stderr, "connection %llu closed: %d %s\n", (unsigned long long)ev->conn_id, ev->status_code, ev->description);
}

/* --http-echo: 200 with the request body (the request target when there is none), same Content-Type;
 * an X-Echo request header comes back as is (shows that a header reached the listener). */
static void http_echo(azr_listener *l, const azr_http_request_event *ev, const struct listen_opts *o) {
  char ctype[256] = "text/plain; charset=utf-8", echo[1024];
  if (ev->len && azr_http_header(ev, "Content-Type", ctype, sizeof ctype) != AZR_OK)
    snprintf(ctype, sizeof ctype, "application/octet-stream");
  const char *headers[] = {"Content-Type", ctype, NULL, NULL, NULL};
  if (azr_http_header(ev, "X-Echo", echo, sizeof echo) == AZR_OK) {
    headers[2] = "X-Echo";
    headers[3] = echo;
  }
  const void *body = ev->len ? (const void *)ev->data : (const void *)ev->request_target;
  size_t len = ev->len ? ev->len : strlen(ev->request_target);
  int rc = azr_http_response_send(l, ev->request_id, 200, "OK", headers, body, len);
  if (rc) fprintf(stderr, "HTTP %s %s: response failed: %s\n", ev->method, ev->request_target, azr_strerror(rc));
  else if (!o->quiet) fprintf(stderr, "HTTP %s %s -> 200 (%zu bytes)\n", ev->method, ev->request_target, len);
}

static void on_http(azr_listener *l, const azr_http_request_event *ev, void *ud) {
  struct listen_opts *o = ud;
  if (o->files) {
    http_files_serve(o->files, ev);
  } else if (o->http_echo) {
    http_echo(l, ev, o);
  } else {
    static const char msg[] = "no HTTP handler in this mode";
    (void)azr_http_response_send(l, ev->request_id, 501, NULL, NULL, msg, sizeof msg - 1);
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

/* --forward HOST:PORT (raw; azbridge with --azbridge) or NAME=HOST:PORT (azbridge logical ports).
 * Returns AZR_E_INVALID_ARG after printing a usage error, or the status of a setting. */
static int configure_forwarding(azr_listener *l, const char *const *forwards, int n, bool azbridge) {
  int named = 0;
  for (int i = 0; i < n; i++) named += strchr(forwards[i], '=') != NULL;
  if (named) azbridge = true;
  if (n > 1 && named < n) {
    cli_usage_error("listen", "several --forward options must all be NAME=HOST:PORT (azbridge logical ports)");
    return AZR_E_INVALID_ARG;
  }
  char setting[8192];
  int rc = azr_listener_config(l, azbridge ? "ForwardingMode=1" : "ForwardingMode=0");
  if (rc) return rc;
  if (named) {
    /* The library checks names, hosts, ports and duplicates; check them now rather than at the
     * first connection. */
    size_t len = (size_t)snprintf(setting, sizeof setting, "ForwardingPorts=");
    for (int i = 0; i < n; i++) {
      int w = snprintf(setting + len, sizeof setting - len, "%s%s", i ? "," : "", forwards[i]);
      if (w < 0 || (size_t)w >= sizeof setting - len) {
        cli_usage_error("listen", "--forward lists are too long");
        return AZR_E_INVALID_ARG;
      }
      len += (size_t)w;
      if (strchr(forwards[i], ',')) {
        cli_usage_error("listen", "--forward '%s': one NAME=HOST:PORT per option", forwards[i]);
        return AZR_E_INVALID_ARG;
      }
    }
    for (int i = 0; i < n; i++) {
      const char *why = named_forward_problem(forwards, i);
      if (why) {
        cli_usage_error("listen", "--forward '%s': %s", forwards[i], why);
        return AZR_E_INVALID_ARG;
      }
    }
    return azr_listener_config(l, setting);
  }
  /* HOST:PORT, or [IPv6]:PORT */
  const char *forward = forwards[0];
  const char *colon = strrchr(forward, ':');
  char host[256];
  if (!colon || colon == forward || (size_t)(colon - forward) >= sizeof host) {
    cli_usage_error("listen", "--forward takes HOST:PORT or NAME=HOST:PORT");
    return AZR_E_INVALID_ARG;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - forward), forward);
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = 0;
  }
  snprintf(setting, sizeof setting, "ForwardingHost=%s", host);
  rc = azr_listener_config(l, setting);
  snprintf(setting, sizeof setting, "ForwardingPort=%s", colon + 1);
  if (!rc) rc = azr_listener_config(l, setting);
  return rc;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay listen -c CONNSTR [options]\n"
          "  -c, --connection-string S  Azure portal connection string (or AZRELAY_CONNECTION_STRING)\n"
          "      --cacert FILE          trust this CA certificate (PEM), e.g. the emulator's --cert-out\n"
          "      --insecure             do not verify the relay's certificate\n"
          "      --echo                 echo every message back in its own format\n"
          "      --http-echo            answer HTTP requests with 200 and the request body (or target),\n"
          "                             same Content-Type; an X-Echo request header comes back\n"
          "      --http-dir DIR         serve the files of DIR to HTTP GET and HEAD requests\n"
          "      --forward HOST:PORT    carry every accepted connection to a TCP service (ForwardingHost/Port)\n"
          "      --forward NAME=HOST:PORT\n"
          "                             azbridge logical port NAME (repeatable; implies --azbridge)\n"
          "      --azbridge             connections start with azbridge's preamble naming a port; a single\n"
          "                             unnamed --forward answers numeric names, as azbridge does\n"
          "      --set Name=Value       any listener setting (see docs/FEATURES.md); repeatable\n"
          "      --log-level N          0 none, 1 info (default), 2 verbose, 3 debug\n"
          "      --metrics HOST:PORT    serve the listener's counters as OpenMetrics at http://HOST:PORT/metrics\n"
          "                             (port 0: a free one, printed on stderr)\n"
          "  -q, --quiet                only errors on stderr\n");
}

int cmd_listen(int argc, char **argv) {
  static const struct option longopts[] = {{"connection-string", required_argument, NULL, 'c'},
                                           {"cacert", required_argument, NULL, 'C'},
                                           {"insecure", no_argument, NULL, 'k'},
                                           {"echo", no_argument, NULL, 'e'},
                                           {"http-echo", no_argument, NULL, 'E'},
                                           {"forward", required_argument, NULL, 'F'},
                                           {"azbridge", no_argument, NULL, 'A'},
                                           {"http-dir", required_argument, NULL, 'D'},
                                           {"set", required_argument, NULL, 's'},
                                           {"log-level", required_argument, NULL, 'L'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"metrics", required_argument, NULL, 'M'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *connstr = getenv("AZRELAY_CONNECTION_STRING");
  const char *metrics_at = NULL;
  const char *cacert = NULL;
  bool insecure = false;
  const char *forwards[64];
  int nforwards = 0;
  bool azbridge = false;
  const char *sets[64];
  int nsets = 0;
  struct listen_opts o = {.log_level = 1};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "c:qh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': connstr = optarg; break;
    case 'C': cacert = optarg; break;
    case 'k': insecure = true; break;
    case 'e': o.echo = true; break;
    case 'E': o.http_echo = true; break;
    case 'F':
      if (nforwards == 64) return cli_usage_error("listen", "too many --forward options");
      forwards[nforwards++] = optarg;
      break;
    case 'A': azbridge = true; break;
    case 'D': o.http_dir = optarg; break;
    case 's':
      if (nsets == 64) return cli_usage_error("listen", "too many --set options");
      sets[nsets++] = optarg;
      break;
    case 'L': o.log_level = atoi(optarg); break;
    case 'q': o.quiet = true; break;
    case 'M': metrics_at = optarg; break;
    case 'h': usage(stdout); return CLI_OK;
    default: usage(stderr); return CLI_USAGE;
    }
  }
  if (!connstr) return cli_usage_error("listen", "a connection string is required (-c)");
  if (optind < argc) return cli_usage_error("listen", "unexpected argument '%s'", argv[optind]);
  bool forward = nforwards > 0;
  if (azbridge && !forward) return cli_usage_error("listen", "--azbridge needs --forward");
  if (!o.echo && !o.http_echo && !o.http_dir && !forward)
    return cli_usage_error("listen", "choose a mode: --echo or --forward HOST:PORT, and/or one of --http-echo, --http-dir");
  if (o.echo && forward) return cli_usage_error("listen", "--echo and --forward exclude each other");
  if (o.http_echo && o.http_dir) return cli_usage_error("listen", "--http-echo and --http-dir exclude each other");
  signal(SIGPIPE, SIG_IGN);
  azr_listener *l;
  if (azr_listener_new(&l) != AZR_OK) return CLI_FAIL;
  int rc = azr_listener_set_connection_string(l, connstr);
  if (rc) {
    fprintf(stderr, "azrelay listen: %s\n", azr_listener_last_error(l));
    azr_listener_free(l);
    return CLI_USAGE;
  }
  char setting[4096];
  snprintf(setting, sizeof setting, "LogLevel=%d", o.log_level);
  rc = azr_listener_config(l, setting);
  if (!rc && cacert) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", cacert);
    rc = azr_listener_config(l, setting);
  }
  if (!rc && insecure) rc = azr_listener_config(l, "SSLAcceptServerCertEncoded=*");
  if (!rc && forward) {
    rc = configure_forwarding(l, forwards, nforwards, azbridge);
    if (rc == AZR_E_INVALID_ARG) {
      azr_listener_free(l);
      return CLI_USAGE;
    }
  }
  for (int i = 0; !rc && i < nsets; i++) rc = azr_listener_config(l, sets[i]);
  if (rc) {
    fprintf(stderr, "azrelay listen: %s\n", azr_listener_last_error(l));
    azr_listener_free(l);
    return CLI_USAGE;
  }
  if (o.http_dir) {
    char hc[1024];
    if (azr_listener_config_get(l, "HybridConnection", hc, sizeof hc) != AZR_OK || !hc[0]) {
      azr_listener_free(l);
      return cli_usage_error("listen", "--http-dir needs the hybrid connection (EntityPath)");
    }
    o.files = http_files_new(l, o.http_dir, hc, o.quiet);
    if (!o.files) {
      azr_listener_free(l);
      return CLI_USAGE;
    }
  }
  azr_listener_set_log(l, log_sink, NULL);
  azr_listener_callbacks cb = {0};
  cb.on_connected = on_connected;
  cb.on_disconnected = on_disconnected;
  cb.on_connection_request = on_request;
  cb.on_connection_connected = on_conn_connected;
  cb.on_connection_data_in = on_data;
  cb.on_connection_ready_to_send = on_ready;
  cb.on_connection_disconnected = on_conn_disconnected;
  cb.on_http_request = on_http;
  cb.on_http_ready_to_send = on_http_ready;
  (void)azr_listener_set_callbacks(l, &cb, sizeof cb, &o);
  rc = azr_listener_start(l);
  if (rc) {
    fprintf(stderr, "azrelay listen: %s\n", azr_listener_last_error(l));
    http_files_free(o.files);
    azr_listener_free(l);
    return CLI_FAIL;
  }
  struct metrics_server *metrics = NULL;
  if (metrics_at) {
    char err[300];
    metrics = metrics_open(metrics_at, err, sizeof err);
    if (!metrics) {
      fprintf(stderr, "azrelay listen: %s\n", err);
      (void)azr_listener_shutdown(l);
      http_files_free(o.files);
      azr_listener_free(l);
      return CLI_USAGE;
    }
    fprintf(stderr, "metrics on port %u (GET /metrics)\n", metrics_port(metrics));
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  while (!stop_requested) {
    (void)azr_listener_run(l, metrics ? 50 : 200);
    if (o.files) http_files_tick(o.files);
    metrics_tick(metrics, l);
  }
  metrics_close(metrics);
  (void)azr_listener_shutdown(l);
  (void)azr_listener_run(l, 300);
  http_files_free(o.files);
  azr_listener_free(l);
  return CLI_OK;
}
