/* SPDX-License-Identifier: MIT */
/* azrelay emulator: runs a local Hybrid Connections namespace and prints how to reach it. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay.h"
#include "cli.h"
#include "cli_log.h"
#include "cli_opts.h"

#define CMD "emulator"
#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_NAMESPACE "localhost"
#define DEFAULT_KEY_NAME "RootManageSharedAccessKey"
#define KEY_BYTES 32
#define MAX_PEM_FILE (1024L * 1024L)
/* How long one azr_emulator_run() slice lasts, so a signal is noticed promptly. */
#define RUN_SLICE_MS 200

#define ENV_KEY "AZRELAY_EMULATOR_KEY"
#define MAX_KEY_FILE 4096

/* Set by SIGINT/SIGTERM; a signal handler can only talk to the loop through such a flag. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay emulator [options]\n"
          "\n"
          "Runs a local Azure Relay Hybrid Connections emulator until SIGINT or SIGTERM. Prints\n"
          "\"endpoint: URL\", one \"connection string PATH: ...\" line per --hc and \"ready\" on stdout.\n"
          "\n"
          "  --host ADDR          address to listen on (default " DEFAULT_HOST ")\n"
          "  --port N             TCP port, 0 picks a free one (default 0)\n"
          "  --namespace NAME     namespace host name in endpoints and connection strings\n"
          "                       (default " DEFAULT_NAMESPACE ")\n"
          "  --key-name NAME      name of the namespace rule with Listen, Send and Manage\n"
          "                       (default " DEFAULT_KEY_NAME ")\n"
          "  --key-file FILE      its key, from a file (or the environment variable " ENV_KEY ";\n"
          "                       --key KEY also works but shows the key in ps); default: 32 random\n"
          "                       bytes, base64\n"
          "  --hc PATH[,PATH...]  hybrid connections to create (client authorization required); repeatable\n"
          "  --config FILE        JSON config file: rules, hybrid connections, settings (docs/EMULATOR.md)\n"
          "  --set NAME=VALUE     emulator setting (docs/EMULATOR.md); repeatable\n"
          "  --plain              serve ws:// and http:// without TLS (loopback addresses only)\n"
          "  --tls-cert FILE      server certificate (PEM); default: a generated P-256 certificate\n"
          "  --tls-key FILE       private key for --tls-cert (PEM)\n"
          "  --cert-out FILE      write the server certificate (PEM) there, for clients to trust\n"
          "  -v, --verbose        more detail (-vv: protocol detail); -q, --quiet: errors only\n"
          "  --log-level N        0 errors, 1 info (default), 2 verbose, 3 debug\n"
          "  --log-format F       auto (default), text (timestamps), plain, json\n"
          "  -h, --help           this help; --version: versions\n"
          "Exit codes: 0 stopped by a signal, 1 failure, 2 usage (see man azrelay).\n");
}

/* The emulator's log: "[emulator] message", or "[emulator] category: message". */
static void log_to_stderr(int level, const char *category, const char *message, void *user_data) {
  if (!category || !strcmp(category, "emulator")) {
    cli_log_library(level, "emulator", message, user_data);
    return;
  }
  char line[2048];
  snprintf(line, sizeof line, "%s: %s", category, message);
  cli_log_library(level, "emulator", line, user_data);
}

/* 127.0.0.0/8, ::1, ::ffff:127.x.x.x or the name localhost. */
static int is_loopback(const char *host) {
  unsigned char a[16];
  if (!strcmp(host, "localhost")) return 1;
  if (inet_pton(AF_INET, host, a) == 1) return a[0] == 127;
  if (inet_pton(AF_INET6, host, a) != 1) return 0;
  static const unsigned char v6_loopback[16] = {[15] = 1};
  static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
  return !memcmp(a, v6_loopback, 16) || (!memcmp(a, v4_mapped, 12) && a[12] == 127);
}

static void base64(const unsigned char *in, size_t len, char *out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
    out[o++] = alphabet[v >> 18 & 63];
    out[o++] = alphabet[v >> 12 & 63];
    out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
    out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
  }
  out[o] = 0;
}

/* A fresh SAS key: KEY_BYTES from the kernel's random source, base64. out needs 4*ceil(n/3)+1. */
static int random_key(char *out) {
  unsigned char raw[KEY_BYTES];
  FILE *f = fopen("/dev/urandom", "rb");
  size_t n = f ? fread(raw, 1, sizeof raw, f) : 0;
  if (f) fclose(f);
  if (n != sizeof raw) return -1;
  base64(raw, sizeof raw, out);
  explicit_bzero(raw, sizeof raw);
  return 0;
}

static int write_text_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t len = strlen(text);
  int bad = fwrite(text, 1, len, f) != len;
  if (fclose(f) != 0) bad = 1;
  return bad ? -1 : 0;
}

/* Adds every name of a comma-separated --hc value to the list. */
static int add_hc_names(const char *value, char ***list, size_t *count) {
  const char *p = value;
  for (;;) {
    size_t len = strcspn(p, ",");
    if (!len) return cli_usage_error(CMD, "--hc '%s' has an empty name", value);
    char **grown = realloc(*list, (*count + 1) * sizeof **list);
    if (!grown) return CLI_FAIL;
    *list = grown;
    if (!(grown[*count] = strndup(p, len))) return CLI_FAIL;
    (*count)++;
    if (!p[len]) return CLI_OK;
    p += len + 1;
  }
}

struct args {
  struct cli_common common;
  const char *host, *namespace_host, *key_name, *key, *key_file, *config, *tls_cert, *tls_key, *cert_out;
  char *key_owned; /* from --key-file or the environment; wiped */
  long port;
  int plain;
  char **hcs;
  size_t hc_count;
  const char **sets;
  size_t set_count;
};

enum { O_HOST = 256, O_PORT, O_NS, O_KEY_NAME, O_KEY, O_KEY_FILE, O_HC, O_CONFIG, O_PLAIN, O_CERT, O_KEYFILE,
       O_CERT_OUT, O_SET };

static int parse_option(void *ctx, int opt, char *arg) {
  struct args *a = ctx;
  int rc;
  switch (opt) {
  case O_HOST: a->host = arg; break;
  case O_PORT:
    if (!cli_parse_long(arg, 0, 65535, &a->port)) return cli_usage_error(CMD, "--port needs a number 0-65535");
    break;
  case O_NS: a->namespace_host = arg; break;
  case O_KEY_NAME: a->key_name = arg; break;
  case O_KEY: a->key = arg; break;
  case O_KEY_FILE: a->key_file = arg; break;
  case O_HC:
    if ((rc = add_hc_names(arg, &a->hcs, &a->hc_count)) != CLI_OK) return rc;
    break;
  case O_CONFIG: a->config = arg; break;
  case O_PLAIN: a->plain = 1; break;
  case O_CERT: a->tls_cert = arg; break;
  case O_KEYFILE: a->tls_key = arg; break;
  case O_CERT_OUT: a->cert_out = arg; break;
  case O_SET:
    if (!strchr(arg, '=') || arg[0] == '=') return cli_usage_error(CMD, "--set needs NAME=VALUE, got '%s'", arg);
    a->sets[a->set_count++] = arg;
    break;
  }
  return -1;
}

/* The key from --key, --key-file or the environment (NULL: generate one). */
static int resolve_key(struct args *a) {
  const char *env = getenv(ENV_KEY);
  if (a->key && a->key_file) return cli_usage_error(CMD, "give the key once: --key or --key-file");
  if (a->key_file) {
    a->key_owned = cli_read_small_file(a->key_file, MAX_KEY_FILE, true);
    if (!a->key_owned) return cli_usage_error(CMD, "--key-file %s: %s", a->key_file, strerror(errno));
    if (!*a->key_owned) return cli_usage_error(CMD, "--key-file %s is empty", a->key_file);
    a->key = a->key_owned;
  } else if (!a->key && env) {
    if (!*env) return cli_usage_error(CMD, ENV_KEY " is empty");
    a->key = env;
  }
  return -1;
}

/* Parses argv into *a. Returns -1 to go on, else the exit code (help, usage error). */
static int parse_args(int argc, char **argv, struct args *a) {
  static const struct option options[] = {
      {"host", required_argument, NULL, O_HOST},         {"port", required_argument, NULL, O_PORT},
      {"namespace", required_argument, NULL, O_NS},      {"key-name", required_argument, NULL, O_KEY_NAME},
      {"key", required_argument, NULL, O_KEY},           {"key-file", required_argument, NULL, O_KEY_FILE},
      {"hc", required_argument, NULL, O_HC},             {"config", required_argument, NULL, O_CONFIG},
      {"plain", no_argument, NULL, O_PLAIN},             {"tls-cert", required_argument, NULL, O_CERT},
      {"tls-key", required_argument, NULL, O_KEYFILE},   {"cert-out", required_argument, NULL, O_CERT_OUT},
      {"set", required_argument, NULL, O_SET},           {NULL, 0, NULL, 0}};
  a->common = (struct cli_common){.cmd = CMD, .usage = usage, .uses = CLI_LONG_RUNNING};
  int rc = cli_parse(&a->common, argc, argv, "", options, parse_option, a);
  if (rc != -1) return rc;
  if (optind < argc) return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
  if (!*a->host) return cli_usage_error(CMD, "--host must not be empty");
  if (!*a->namespace_host) return cli_usage_error(CMD, "--namespace must not be empty");
  if (!*a->key_name) return cli_usage_error(CMD, "--key-name must not be empty");
  if (a->key && !*a->key) return cli_usage_error(CMD, "--key must not be empty");
  if (a->plain && !is_loopback(a->host)) return cli_usage_error(CMD, "--plain is only allowed on loopback addresses");
  if (a->plain && (a->tls_cert || a->tls_key))
    return cli_usage_error(CMD, "--plain cannot be combined with --tls-cert/--tls-key");
  if (a->plain && a->cert_out) return cli_usage_error(CMD, "--cert-out needs TLS (not with --plain)");
  if (!a->tls_cert != !a->tls_key) return cli_usage_error(CMD, "--tls-cert and --tls-key go together");
  return resolve_key(a);
}

/* Reports a failed emulator call: a bad command-line value is a usage error, anything else a failure. */
static int emulator_error(azr_emulator *em, int rc, const char *what, int usage_status) {
  const char *detail = em ? azr_emulator_get_last_error(em) : NULL;
  cli_log(CLI_ERROR, "%s: %s", what, detail && *detail ? detail : azr_strerror(rc));
  bool bad_value = rc == AZR_E_INVALID_ARG || rc == AZR_E_TOO_BIG || rc == AZR_E_NOT_FOUND || rc == AZR_E_PARSE ||
                   rc == AZR_E_FILE || rc == AZR_E_IO;
  return usage_status && bad_value ? CLI_USAGE : CLI_FAIL;
}

/* Creates, configures and starts the emulator. Returns CLI_OK with *out set, or an exit code. */
static int start_emulator(const struct args *a, azr_emulator **out) {
  char *cert = NULL, *key = NULL;
  if (a->tls_cert && (!(cert = cli_read_small_file(a->tls_cert, MAX_PEM_FILE, false)) ||
                      !(key = cli_read_small_file(a->tls_key, MAX_PEM_FILE, false)))) {
    cli_usage_error(CMD, "cannot read %s: %s", cert ? a->tls_key : a->tls_cert, strerror(errno));
    free(cert);
    return CLI_USAGE;
  }
  azr_emulator_options o = {0};
  o.bind_host = a->host;
  o.port = (uint16_t)a->port;
  o.namespace_host = a->namespace_host;
  o.plain = a->plain != 0;
  o.tls_cert_pem = cert;
  o.tls_key_pem = key;
  o.log = log_to_stderr;
  o.log_level = a->common.verbosity;
  azr_emulator *em = NULL;
  int rc = azr_emulator_new(&em, &o, sizeof o);
  free(cert);
  if (key) {
    explicit_bzero(key, strlen(key)); /* a plain memset before free may be optimized away */
    free(key);
  }
  if (rc)
    return emulator_error(NULL, rc, a->tls_cert ? "cannot use --tls-cert/--tls-key" : "cannot create the emulator",
                          a->tls_cert != NULL);

  int status = CLI_OK;
  char generated_key[4 * ((KEY_BYTES + 2) / 3) + 1];
  const char *sas_key = a->key;
  if (!sas_key) {
    if (random_key(generated_key)) {
      cli_log(CLI_ERROR, "cannot read /dev/urandom");
      status = CLI_FAIL;
    }
    sas_key = generated_key;
  }
  if (!status && (rc = azr_emulator_add_rule(em, a->key_name, sas_key, NULL,
                                             AZR_RIGHT_LISTEN | AZR_RIGHT_SEND | AZR_RIGHT_MANAGE, NULL)))
    status = emulator_error(em, rc, a->key_file ? "--key-name/--key-file" : "--key-name/--key", 1);
  for (size_t i = 0; !status && i < a->hc_count; i++)
    if ((rc = azr_emulator_add_hybrid_connection(em, a->hcs[i], true)))
      status = emulator_error(em, rc, "--hc", 1);
  if (!status && a->config && (rc = azr_emulator_load_config(em, a->config)))
    status = emulator_error(em, rc, "--config", 1);
  for (size_t i = 0; !status && i < a->set_count; i++) {
    if ((rc = azr_emulator_config(em, a->sets[i]))) {
      char what[256];
      snprintf(what, sizeof what, "--set %.200s", a->sets[i]);
      status = emulator_error(em, rc, what, 1);
    }
  }
  if (!status && (rc = azr_emulator_start(em))) status = emulator_error(em, rc, "cannot start", 0);
  if (!status && azr_emulator_get_hybrid_connection_count(em) == 0)
    cli_log(CLI_WARN, "no hybrid connection is defined, so every listener and sender will get 404: add one with "
                      "--hc NAME (repeatable, or NAME,NAME) or in a --config file");
  explicit_bzero(generated_key, sizeof generated_key);
  if (status) {
    azr_emulator_free(em);
    return status;
  }
  *out = em;
  return CLI_OK;
}

/* The lines a script waits for: endpoint, one connection string per hybrid connection, then "ready". */
static int announce(azr_emulator *em, const struct args *a) {
  if (a->cert_out) {
    const char *pem = azr_emulator_get_certificate_pem(em);
    if (!pem || write_text_file(a->cert_out, pem)) {
      cli_log(CLI_ERROR, "cannot write %s: %s", a->cert_out, pem ? strerror(errno) : "no certificate");
      return CLI_FAIL;
    }
  }
  printf("endpoint: %s://%s:%u/\n", a->plain ? "http" : "https", azr_emulator_get_namespace(em),
         (unsigned)azr_emulator_get_port(em));
  char connstr[16384];
  for (size_t i = 0; i < azr_emulator_get_hybrid_connection_count(em); i++) {
    const char *hc = azr_emulator_get_hybrid_connection_at(em, i);
    /* The command line's rule first; hybrid connections only a config rule covers use that rule. */
    int rc = azr_emulator_get_connection_string(em, hc, a->key_name, connstr, sizeof connstr);
    if (rc == AZR_E_NOT_FOUND) rc = azr_emulator_get_connection_string(em, hc, NULL, connstr, sizeof connstr);
    if (rc == AZR_E_NOT_FOUND) continue; /* no rule covers it: nothing to print */
    if (rc) return emulator_error(em, rc, "cannot build a connection string", 0);
    printf("connection string %s: %s\n", hc, connstr);
  }
  printf("ready\n");
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static int run_until_signal(azr_emulator *em) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  stop_signal = 0;
  if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
    cli_log(CLI_ERROR, "cannot install signal handlers: %s", strerror(errno));
    return CLI_FAIL;
  }
  while (!stop_signal) {
    int rc = azr_emulator_run(em, RUN_SLICE_MS);
    if (rc) return emulator_error(em, rc, "emulator loop failed", 0);
  }
  return CLI_OK;
}

int cmd_emulator(int argc, char **argv) {
  struct args a = {.host = DEFAULT_HOST, .namespace_host = DEFAULT_NAMESPACE, .key_name = DEFAULT_KEY_NAME};
  a.sets = calloc((size_t)argc + 1, sizeof *a.sets); /* at most one --set per argument */
  int status = a.sets ? parse_args(argc, argv, &a) : CLI_FAIL;
  azr_emulator *em = NULL;
  if (status < 0) {
    /* A client that disconnects mid-write must not kill the emulator. */
    signal(SIGPIPE, SIG_IGN);
    status = start_emulator(&a, &em);
  }
  if (status == CLI_OK && em) status = announce(em, &a);
  if (status == CLI_OK && em) status = run_until_signal(em);
  azr_emulator_free(em);
  for (size_t i = 0; i < a.hc_count; i++) free(a.hcs[i]);
  free(a.hcs);
  free(a.sets);
  if (a.key_owned) {
    explicit_bzero(a.key_owned, strlen(a.key_owned));
    free(a.key_owned);
  }
  cli_common_free(&a.common);
  return status;
}
