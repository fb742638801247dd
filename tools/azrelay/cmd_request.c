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

#include "azrelay.h"
#include "cli.h"

#define TOKEN_TTL_S 3600
#define MAX_HEADERS 64

struct request_opts {
  const char *connstr, *cacert, *method, *data, *data_file, *path;
  bool insecure, include_head;
  long max_time_s;
  const char *headers[MAX_HEADERS];
  int nheaders;
};

/* What the response callbacks need. */
struct response {
  bool include_head;
  bool write_failed;
  char status_line[256]; /* the last status line seen (interim 1xx heads come first) */
};

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  struct response *r = ud;
  size_t len = size * n;
  if (fwrite(data, 1, len, stdout) != len) {
    r->write_failed = true;
    return 0; /* makes curl stop with CURLE_WRITE_ERROR */
  }
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  struct response *r = ud;
  size_t len = size * n;
  if (len > 5 && !memcmp(data, "HTTP/", 5)) {
    size_t keep = len;
    while (keep && (data[keep - 1] == '\r' || data[keep - 1] == '\n')) keep--;
    snprintf(r->status_line, sizeof r->status_line, "%.*s", (int)keep, data);
  }
  if (r->include_head && fwrite(data, 1, len, stdout) != len) {
    r->write_failed = true;
    return 0;
  }
  return len;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay request -c CONNSTR [options] PATH\n"
          "\n"
          "Sends one HTTP request to https://{namespace}/{hybrid connection}PATH (http:// with\n"
          "UseDevelopmentEmulator=true) and prints the response body on stdout. Exit status: 0 for 2xx\n"
          "and 3xx, 1 for other statuses (the status line goes to stderr) and failures, 2 for usage errors.\n"
          "\n"
          "  -c, --connection-string S  Azure portal connection string with EntityPath (or\n"
          "                             AZRELAY_CONNECTION_STRING); the rule needs the Send right\n"
          "      --cacert FILE          trust this CA certificate (PEM), e.g. the emulator's --cert-out\n"
          "      --insecure             do not verify the relay's certificate\n"
          "  -X, --request METHOD       method (default GET, or POST with a body)\n"
          "  -H, --header 'K: V'        extra request header; repeatable\n"
          "  -d, --data DATA            request body (Content-Type application/octet-stream unless -H sets one)\n"
          "      --data-file FILE       request body from a file\n"
          "  -i, --include              print the response head before the body\n"
          "  -m, --max-time SECONDS     give up after this long (default: no limit)\n"
          "  -h, --help                 show this help\n");
}

static int parse_args(int argc, char **argv, struct request_opts *o) {
  static const struct option longopts[] = {{"connection-string", required_argument, NULL, 'c'},
                                           {"cacert", required_argument, NULL, 'C'},
                                           {"insecure", no_argument, NULL, 'k'},
                                           {"request", required_argument, NULL, 'X'},
                                           {"header", required_argument, NULL, 'H'},
                                           {"data", required_argument, NULL, 'd'},
                                           {"data-file", required_argument, NULL, 'F'},
                                           {"include", no_argument, NULL, 'i'},
                                           {"max-time", required_argument, NULL, 'm'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  o->connstr = getenv("AZRELAY_CONNECTION_STRING");
  int ch;
  opterr = 0;
  optind = 1;
  while ((ch = getopt_long(argc, argv, ":c:X:H:d:im:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': o->connstr = optarg; break;
    case 'C': o->cacert = optarg; break;
    case 'k': o->insecure = true; break;
    case 'X': o->method = optarg; break;
    case 'H':
      if (o->nheaders == MAX_HEADERS) return cli_usage_error("request", "too many --header options");
      if (!strchr(optarg, ':')) return cli_usage_error("request", "header '%s' has no ':'", optarg);
      o->headers[o->nheaders++] = optarg;
      break;
    case 'd': o->data = optarg; break;
    case 'F': o->data_file = optarg; break;
    case 'i': o->include_head = true; break;
    case 'm': {
      char *end;
      errno = 0;
      o->max_time_s = strtol(optarg, &end, 10);
      if (errno || *end || o->max_time_s < 0) return cli_usage_error("request", "--max-time needs whole seconds");
      break;
    }
    case 'h': usage(stdout); return -1;
    case ':': return cli_usage_error("request", "option '%s' needs a value", argv[optind - 1]);
    default: return cli_usage_error("request", "unknown option '%s' (see azrelay request --help)", argv[optind - 1]);
    }
  }
  if (optind != argc - 1) return cli_usage_error("request", "give exactly one PATH (e.g. / or /api?x=1)");
  o->path = argv[optind];
  if (!o->connstr) return cli_usage_error("request", "a connection string is required (-c)");
  if (o->data && o->data_file) return cli_usage_error("request", "use either --data or --data-file");
  if (o->method && !o->method[0]) return cli_usage_error("request", "empty method");
  return 0;
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
    fprintf(stderr, "azrelay request: out of memory\n");
    return CLI_FAIL;
  }
  struct response resp = {.include_head = o->include_head};
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L); /* the path is the listener's business */
  if (o->max_time_s) curl_easy_setopt(curl, CURLOPT_TIMEOUT, o->max_time_s);
  if (o->cacert) curl_easy_setopt(curl, CURLOPT_CAINFO, o->cacert);
  if (o->insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
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
  if (fflush(stdout) != 0) resp.write_failed = true;
  if (resp.write_failed) {
    fprintf(stderr, "azrelay request: writing the response failed: %s\n", strerror(errno));
    return CLI_FAIL;
  }
  if (cc != CURLE_OK) {
    fprintf(stderr, "azrelay request: %s\n", curl_easy_strerror(cc));
    return CLI_FAIL;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 400) return CLI_OK;
  fprintf(stderr, "%s\n", resp.status_line[0] ? resp.status_line : "no HTTP status");
  return CLI_FAIL;
}

int cmd_request(int argc, char **argv) {
  struct request_opts o = {0};
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc < 0 ? CLI_OK : rc;

  char err[256] = "";
  azr_connection_string *cs = NULL;
  rc = azr_connection_string_parse(o.connstr, &cs, err, sizeof err);
  if (rc) return cli_usage_error("request", "%s", err[0] ? err : azr_strerror(rc));
  if (!cs->entity_path || !cs->entity_path[0]) {
    azr_connection_string_free(cs);
    return cli_usage_error("request", "the connection string has no EntityPath (the hybrid connection)");
  }

  FILE *body_file = NULL;
  curl_off_t body_len = 0;
  if (o.data_file) {
    struct stat st;
    body_file = fopen(o.data_file, "rb");
    if (!body_file || fstat(fileno(body_file), &st) != 0 || !S_ISREG(st.st_mode)) {
      fprintf(stderr, "azrelay request: --data-file %s: %s\n", o.data_file, body_file ? "not a regular file" : strerror(errno));
      if (body_file) fclose(body_file);
      azr_connection_string_free(cs);
      return CLI_USAGE;
    }
    body_len = (curl_off_t)st.st_size;
  }

  /* A ready token from the connection string, else one signed for this hybrid connection. */
  char *token = NULL;
  if (!cs->shared_access_signature)
    rc = azr_sas_token_for_entity(cs->host, cs->entity_path, cs->key_name, cs->key, (int64_t)time(NULL) + TOKEN_TTL_S,
                                  &token);
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
    fprintf(stderr, "azrelay request: cannot prepare the request: %s\n", azr_strerror(rc ? rc : AZR_E_NOMEM));
  } else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "azrelay request: libcurl initialization failed\n");
  } else {
    CURL *curl = curl_easy_init();
    if (curl) {
      status = perform(curl, &o, url, auth, body_file, body_len);
      curl_easy_cleanup(curl);
    } else {
      fprintf(stderr, "azrelay request: libcurl could not create a handle\n");
    }
    curl_global_cleanup();
  }
  if (auth) {
    memset(auth, 0, strlen(auth)); /* the token is a credential */
    free(auth);
  }
  free(url);
  azr_free(token);
  azr_connection_string_free(cs);
  if (body_file) fclose(body_file);
  return status;
}
