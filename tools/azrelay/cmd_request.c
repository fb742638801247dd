/* SPDX-License-Identifier: MIT */
/* azrelay request: sends one HTTP request to a hybrid connection (https://{namespace}/{hc}{PATH},
 * §7.1) with a ServiceBusAuthorization token and prints the response body on stdout. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "azrelay.h"
#include "cli.h"
#include "cli_errors.h"
#include "cli_log.h"
#include "cli_opts.h"

#define TOKEN_TTL_S 3600
#define MAX_HEADERS 64

struct request_opts {
  struct cli_common common;
  const char *method, *data, *data_file, *path;
  bool include_head;
  long max_time_s;
  const char *headers[MAX_HEADERS];
  int nheaders;
};

/* What the response callbacks need. */
struct response {
  bool include_head;
  bool write_failed;
  bool wrote;
  char last_byte;        /* of what went to stdout, to end a terminal's line */
  char status_line[512]; /* the last status line seen (interim 1xx heads come first) */
};

static bool write_out(struct response *r, const char *data, size_t len) {
  if (!len) return true;
  if (fwrite(data, 1, len, stdout) != len) {
    r->write_failed = true;
    return false;
  }
  r->wrote = true;
  r->last_byte = data[len - 1];
  return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  struct response *r = ud;
  size_t len = size * n;
  return write_out(r, data, len) ? len : 0; /* 0 makes curl stop with CURLE_WRITE_ERROR */
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  struct response *r = ud;
  size_t len = size * n;
  if (len > 5 && !memcmp(data, "HTTP/", 5)) {
    size_t keep = len;
    while (keep && (data[keep - 1] == '\r' || data[keep - 1] == '\n')) keep--;
    snprintf(r->status_line, sizeof r->status_line, "%.*s", (int)keep, data);
  }
  if (r->include_head && !write_out(r, data, len)) return 0;
  return len;
}

/* -v: what curl -v shows, with the token in ServiceBusAuthorization replaced. */
static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *ud) {
  (void)curl;
  (void)ud;
  if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT) return 0;
  const char *mark = type == CURLINFO_TEXT ? "*" : type == CURLINFO_HEADER_IN ? "<" : ">";
  for (size_t i = 0; i < size;) {
    size_t n = 0;
    while (i + n < size && data[i + n] != '\n') n++;
    size_t shown = n;
    while (shown && data[i + shown - 1] == '\r') shown--;
    static const char auth[] = "ServiceBusAuthorization:";
    if (shown >= sizeof auth - 1 && !strncasecmp(data + i, auth, sizeof auth - 1))
      cli_log(CLI_VERBOSE, "%s %s (redacted)", mark, auth);
    else if (shown)
      cli_log(CLI_VERBOSE, "%s %.*s", mark, (int)shown, data + i);
    i += n + 1;
  }
  return 0;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay request [-c CONNSTR] [options] PATH\n"
          "\n"
          "Sends one HTTP request to https://{namespace}/{hybrid connection}PATH (http:// with\n"
          "UseDevelopmentEmulator=true) and prints the response body on stdout.\n"
          "\n"
          "  -c, --connection-string S  (or --connection-string-file FILE, or AZRELAY_CONNECTION_STRING);\n"
          "                             the rule needs the Send right\n"
          "      --cacert FILE          trust this CA certificate (PEM), e.g. the emulator's --cert-out\n"
          "      --insecure             do not verify the relay's certificate (tests only)\n"
          "      --proxy URL            as curl's --proxy (default: https_proxy, no_proxy)\n"
          "  -X, --request METHOD       method (default GET, or POST with a body)\n"
          "  -H, --header 'K: V'        extra request header; repeatable\n"
          "  -d, --data DATA            request body (Content-Type application/octet-stream unless -H sets one)\n"
          "      --data-file FILE       request body from a file\n"
          "  -i, --include              print the response head before the body\n"
          "  -m, --max-time SECONDS     give up after this long (exit 10)\n"
          "  -v, --verbose              show the request and response heads (token redacted)\n"
          "  -q, --quiet, --log-level N, --log-format F, -h, --help, --version\n"
          "Exit codes: 0 for 2xx/3xx, 2 usage, 3 credentials refused, 4 no such hybrid connection,\n"
          "5 no listener online, 6 the listener answered 4xx/5xx, 7 TLS, 8 network, 10 --max-time.\n");
}

static int parse_option(void *ctx, int ch, char *arg) {
  struct request_opts *o = ctx;
  switch (ch) {
  case 'X':
    if (!*arg) return cli_usage_error("request", "-X needs a method");
    o->method = arg;
    break;
  case 'H':
    if (o->nheaders == MAX_HEADERS) return cli_usage_error("request", "too many --header options (64 at most)");
    if (!strchr(arg, ':') || arg[0] == ':') return cli_usage_error("request", "--header '%s' is not 'Name: value'", arg);
    o->headers[o->nheaders++] = arg;
    break;
  case 'd': o->data = arg; break;
  case 'F': o->data_file = arg; break;
  case 'i': o->include_head = true; break;
  case 'm':
    if (!cli_parse_long(arg, 0, 100000000, &o->max_time_s))
      return cli_usage_error("request", "--max-time takes whole seconds (got '%s')", arg);
    break;
  }
  return -1;
}

static int parse_args(int argc, char **argv, struct request_opts *o) {
  static const struct option longopts[] = {{"request", required_argument, NULL, 'X'},
                                           {"header", required_argument, NULL, 'H'},
                                           {"data", required_argument, NULL, 'd'},
                                           {"data-file", required_argument, NULL, 'F'},
                                           {"include", no_argument, NULL, 'i'},
                                           {"max-time", required_argument, NULL, 'm'},
                                           {NULL, 0, NULL, 0}};
  o->common = (struct cli_common){.cmd = "request", .usage = usage,
                                  .uses = CLI_USES_CONNSTR | CLI_NEEDS_ENTITY | CLI_USES_TLS | CLI_USES_PROXY};
  int rc = cli_parse(&o->common, argc, argv, "X:H:d:im:", longopts, parse_option, o);
  if (rc != -1) return rc;
  if (optind != argc - 1) return cli_usage_error("request", "give exactly one PATH (e.g. / or /api?x=1)");
  o->path = argv[optind];
  if (o->data && o->data_file) return cli_usage_error("request", "use either --data or --data-file");
  return -1;
}

/* https://host[:port]/entity/path; IPv6 hosts get brackets; a PATH without '/' gets one. */
static char *build_url(const azr_connection_string *cs, const char *path) {
  bool v6 = strchr(cs->host, ':') != NULL;
  const char *sep = path[0] == '/' || path[0] == '?' || !path[0] ? "" : "/";
  size_t len = strlen(cs->host) + strlen(cs->entity_path) + strlen(path) + 32;
  char *url = malloc(len);
  if (!url) return NULL;
  char port[8] = "";
  if (cs->port) snprintf(port, sizeof port, ":%u", (unsigned)cs->port);
  snprintf(url, len, "%s://%s%s%s%s/%s%s%s", cs->use_development_emulator ? "http" : "https", v6 ? "[" : "", cs->host,
           v6 ? "]" : "", port, cs->entity_path, sep, path);
  return url;
}

static bool has_header(const struct request_opts *o, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < o->nheaders; i++)
    if (!strncasecmp(o->headers[i], name, n) && o->headers[i][n] == ':') return true;
  return false;
}

/* A libcurl failure as one line and an exit code. */
static int curl_failure(const struct request_opts *o, CURLcode cc, const char *detail) {
  int status;
  switch (cc) {
  case CURLE_COULDNT_RESOLVE_HOST: status = AZR_E_HOST_NOT_FOUND; break;
  case CURLE_COULDNT_CONNECT: status = AZR_E_CONN_REFUSED; break;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_PROXY: status = AZR_E_PROXY; break;
  case CURLE_PEER_FAILED_VERIFICATION: status = AZR_E_TLS_VERIFY; break;
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM: status = AZR_E_TLS_CREDENTIALS; break;
  case CURLE_SSL_CONNECT_ERROR: status = AZR_E_TLS_HANDSHAKE; break;
  case CURLE_OPERATION_TIMEDOUT:
    if (o->max_time_s) {
      cli_log(CLI_ERROR, "timed out after %ld s (--max-time)", o->max_time_s);
      return CLI_TIMEOUT;
    }
    status = AZR_E_TIMEOUT;
    break;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
    cli_log(CLI_ERROR, "the connection to the relay was lost: %s", detail);
    return CLI_NETWORK;
  default:
    cli_log(CLI_ERROR, "the request failed: %s", detail);
    return CLI_FAIL;
  }
  char why[1200];
  int code = cli_explain_failure(&o->common, CLI_ROLE_REQUEST, status, 0, detail, why, sizeof why);
  cli_log(CLI_ERROR, "%s", why);
  return code;
}

/* Sets up and performs the transfer; returns the CLI exit status. */
static int perform(CURL *curl, const struct request_opts *o, const char *url, const char *auth_header, FILE *body_file,
                   curl_off_t body_len) {
  struct curl_slist *headers = curl_slist_append(NULL, auth_header);
  /* The relay (or emulator) would answer 100 itself; waiting for it only adds latency. */
  headers = headers ? curl_slist_append(headers, "Expect:") : NULL;
  if (headers && (o->data || o->data_file) && !has_header(o, "Content-Type"))
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  for (int i = 0; headers && i < o->nheaders; i++) headers = curl_slist_append(headers, o->headers[i]);
  if (!headers) {
    cli_log(CLI_ERROR, "out of memory");
    return CLI_FAIL;
  }
  struct response resp = {.include_head = o->include_head};
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L); /* the path is the listener's business */
  if (o->common.verbosity >= 2) {
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  }
  if (o->max_time_s) curl_easy_setopt(curl, CURLOPT_TIMEOUT, o->max_time_s);
  if (o->common.cacert) curl_easy_setopt(curl, CURLOPT_CAINFO, o->common.cacert);
  if (o->common.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  /* --proxy takes curl's syntax as is ("" = none, not even from the environment); without it
   * libcurl reads https_proxy/http_proxy/all_proxy and no_proxy itself. */
  if (o->common.proxy_given) curl_easy_setopt(curl, CURLOPT_PROXY, o->common.proxy_text);
  if (o->data) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(o->data));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, o->data);
  } else if (body_file) {
    /* Streamed from the file (curl's default read callback fread()s READDATA). */
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, body_len);
    curl_easy_setopt(curl, CURLOPT_READDATA, body_file);
  }
  if (o->method && !strcasecmp(o->method, "HEAD")) curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  else if (o->method) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, o->method);

  CURLcode cc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  /* On a terminal, end the body's last line so what follows does not run into it. */
  if (resp.wrote && resp.last_byte != '\n' && isatty(STDOUT_FILENO)) (void)write_out(&resp, "\n", 1);
  if (fflush(stdout) != 0) resp.write_failed = true;
  if (resp.write_failed) {
    cli_log(CLI_ERROR, "writing the response to stdout failed: %s", strerror(errno));
    return CLI_FAIL;
  }
  if (cc != CURLE_OK) return curl_failure(o, cc, errbuf[0] ? errbuf : curl_easy_strerror(cc));
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 400) return CLI_OK;
  /* "HTTP/1.1 404 There are no listeners ...": the reason follows the code. */
  const char *reason = resp.status_line;
  for (int spaces = 0; *reason && spaces < 2; reason++)
    if (*reason == ' ') spaces++;
  char why[1200];
  int code = cli_explain_failure(&o->common, CLI_ROLE_REQUEST, 0, (int)status, reason, why, sizeof why);
  cli_log(CLI_ERROR, "%s", why);
  return code;
}

int cmd_request(int argc, char **argv) {
  struct request_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(argc, argv, &o);
  if (rc != -1) {
    cli_common_free(&o.common);
    return rc;
  }
  const azr_connection_string *cs = o.common.cs;
  FILE *body_file = NULL;
  curl_off_t body_len = 0;
  if (o.data_file) {
    struct stat st;
    body_file = fopen(o.data_file, "rb");
    if (!body_file || fstat(fileno(body_file), &st) != 0 || !S_ISREG(st.st_mode)) {
      cli_usage_error("request", "--data-file %s: %s", o.data_file, body_file ? "not a regular file" : strerror(errno));
      if (body_file) fclose(body_file);
      cli_common_free(&o.common);
      return CLI_USAGE;
    }
    body_len = (curl_off_t)st.st_size;
  }

  /* A ready token from the connection string, else one signed for this hybrid connection. */
  char *token = NULL;
  if (!cs->shared_access_signature)
    rc = azr_sas_token_for_entity(cs->host, cs->entity_path, cs->key_name, cs->key, (int64_t)time(NULL) + TOKEN_TTL_S,
                                  &token);
  else
    rc = AZR_OK;
  const char *tok = cs->shared_access_signature ? cs->shared_access_signature : token;
  char *url = rc ? NULL : build_url(cs, o.path);
  char *auth = NULL;
  if (url) {
    size_t n = strlen(tok) + 32;
    auth = malloc(n);
    if (auth) snprintf(auth, n, "ServiceBusAuthorization: %s", tok);
  }
  int status = CLI_FAIL;
  if (!auth) {
    cli_log(CLI_ERROR, "cannot prepare the request: %s", azr_strerror(rc ? rc : AZR_E_NOMEM));
  } else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    cli_log(CLI_ERROR, "libcurl initialization failed");
  } else {
    CURL *curl = curl_easy_init();
    if (curl) {
      status = perform(curl, &o, url, auth, body_file, body_len);
      curl_easy_cleanup(curl);
    } else {
      cli_log(CLI_ERROR, "libcurl could not create a handle");
    }
    curl_global_cleanup();
  }
  if (auth) {
    explicit_bzero(auth, strlen(auth)); /* the token is a credential */
    free(auth);
  }
  free(url);
  azr_free(token);
  cli_common_free(&o.common);
  if (body_file) fclose(body_file);
  return status;
}
