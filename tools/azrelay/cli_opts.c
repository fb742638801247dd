/* SPDX-License-Identifier: MIT */
/* The shared options of the azrelay subcommands and the one argument parser around them. */
#include "cli_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define ENV_CONNSTR "AZRELAY_CONNECTION_STRING"
#define ENV_LOG_FORMAT "AZRELAY_LOG_FORMAT"
#define MAX_CONNSTR_FILE 16384 /* a connection string is a few hundred bytes */
#define MAX_CACERT_FILE (4L * 1024 * 1024)
#define MAX_OPTIONS 64

enum {
  O_CONNSTR_FILE = 0x1000,
  O_CACERT,
  O_INSECURE,
  O_PROXY,
  O_LOG_LEVEL,
  O_LOG_FORMAT,
  O_VERSION,
};

static const struct option shared_all[] = {{"verbose", no_argument, NULL, 'v'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"log-level", required_argument, NULL, O_LOG_LEVEL},
                                           {"log-format", required_argument, NULL, O_LOG_FORMAT},
                                           {"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, O_VERSION}};
static const struct option shared_connstr[] = {{"connection-string", required_argument, NULL, 'c'},
                                               {"connection-string-file", required_argument, NULL, O_CONNSTR_FILE}};
static const struct option shared_tls[] = {{"cacert", required_argument, NULL, O_CACERT},
                                           {"insecure", no_argument, NULL, O_INSECURE}};
static const struct option shared_proxy[] = {{"proxy", required_argument, NULL, O_PROXY}};

bool cli_parse_long(const char *text, long lo, long hi, long *out) {
  if (!text || *text < '0' || *text > '9') return false;
  errno = 0;
  char *end;
  long v = strtol(text, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

char *cli_read_small_file(const char *path, size_t max_len, bool first_line) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *text = malloc(max_len + 1);
  size_t n = text ? fread(text, 1, max_len + 1, f) : 0;
  int saved = !text ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : n > max_len ? EFBIG : 0;
  fclose(f);
  if (saved) {
    if (text) explicit_bzero(text, n < max_len + 1 ? n : max_len + 1);
    free(text);
    errno = saved;
    return NULL;
  }
  if (first_line) {
    size_t end = 0;
    while (end < n && text[end] != '\n' && text[end] != '\r') end++;
    explicit_bzero(text + end, n - end); /* what follows may be secret too */
    n = end;
  }
  while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '\t')) n--;
  text[n] = 0;
  return text;
}

static void add_options(struct option *all, size_t *n, const struct option *more, size_t count) {
  for (size_t i = 0; i < count && *n < MAX_OPTIONS; i++) all[(*n)++] = more[i];
}

/* "0".."3" or a name. */
static bool parse_log_level(const char *text, int *out) {
  static const char *const names[] = {"error", "info", "verbose", "debug"};
  long v;
  if (cli_parse_long(text, 0, 3, &v)) {
    *out = (int)v;
    return true;
  }
  for (int i = 0; i < 4; i++) {
    if (!strcmp(text, names[i])) {
      *out = i;
      return true;
    }
  }
  return false;
}

/* The option as the user wrote it, for messages. */
static const char *option_text(char **argv, int optind_now, int optopt_now, char *buf, size_t len) {
  if (optopt_now && optopt_now < 0x100) {
    snprintf(buf, len, "-%c", optopt_now);
    return buf;
  }
  const char *arg = argv[optind_now - 1];
  size_t n = strcspn(arg, "=");
  snprintf(buf, len, "%.*s", (int)(n < 100 ? n : 100), arg);
  return buf;
}

static int shared_option(struct cli_common *c, int ch, char *arg) {
  switch (ch) {
  case 'c': c->connstr_arg = arg; return -1;
  case O_CONNSTR_FILE: c->connstr_file = arg; return -1;
  case O_CACERT: c->cacert = arg; return -1;
  case O_INSECURE: c->insecure = true; return -1;
  case O_PROXY: {
    char err[200];
    if (!proxy_url_parse(arg, &c->proxy, err, sizeof err)) return cli_usage_error(c->cmd, "--proxy: %s", err);
    c->proxy_given = true;
    c->proxy_text = arg;
    return -1;
  }
  case 'v':
    if (c->verbosity < 3) c->verbosity++;
    return -1;
  case 'q': c->verbosity = 0; return -1;
  case O_LOG_LEVEL:
    if (!parse_log_level(arg, &c->verbosity))
      return cli_usage_error(c->cmd, "--log-level takes 0-3 or error, info, verbose, debug (got '%s')", arg);
    return -1;
  case O_LOG_FORMAT:
    if (!cli_log_format_parse(arg, &c->log_format))
      return cli_usage_error(c->cmd, "--log-format takes auto, text, plain or json (got '%s')", arg);
    return -1;
  case 'h': c->usage(stdout); return CLI_OK;
  case O_VERSION: return cli_print_version();
  }
  return -2; /* not a shared option */
}

/* The connection string from -c, --connection-string-file or the environment, parsed. */
static int resolve_connstr(struct cli_common *c) {
  const char *env = getenv(ENV_CONNSTR);
  if (c->connstr_arg && c->connstr_file)
    return cli_usage_error(c->cmd, "give the connection string once: -c or --connection-string-file");
  static char file_source[300];
  if (c->connstr_arg) {
    c->connstr = strdup(c->connstr_arg);
    c->connstr_source = "-c";
  } else if (c->connstr_file) {
    c->connstr = cli_read_small_file(c->connstr_file, MAX_CONNSTR_FILE, true);
    if (!c->connstr)
      return cli_usage_error(c->cmd, "--connection-string-file %s: %s", c->connstr_file, strerror(errno));
    snprintf(file_source, sizeof file_source, "--connection-string-file %s", c->connstr_file);
    c->connstr_source = file_source;
  } else if (env) {
    c->connstr = strdup(env);
    c->connstr_source = ENV_CONNSTR;
  } else {
    return cli_usage_error(c->cmd, "no connection string: give -c STRING or --connection-string-file FILE, or set "
                                   ENV_CONNSTR " (see azrelay %s --help)", c->cmd);
  }
  if (!c->connstr) {
    cli_log(CLI_ERROR, "out of memory");
    return CLI_FAIL;
  }
  char err[256] = "";
  int rc = azr_connection_string_parse(c->connstr, &c->cs, err, sizeof err);
  if (rc) {
    /* The library's message starts with "connection string: " already. */
    const char *why = err[0] ? err : azr_strerror(rc);
    if (!strncmp(why, "connection string: ", 19)) why += 19;
    return cli_usage_error(c->cmd, "bad connection string (from %s): %s; expected Endpoint=sb://NAMESPACE/;"
                           "SharedAccessKeyName=RULE;SharedAccessKey=KEY;EntityPath=HYBRID_CONNECTION",
                           c->connstr_source, why);
  }
  if ((c->uses & CLI_NEEDS_ENTITY) && (!c->cs->entity_path || !c->cs->entity_path[0]))
    return cli_usage_error(c->cmd, "the connection string (from %s) names no hybrid connection: add "
                           ";EntityPath=NAME to it", c->connstr_source);
  return -1;
}

/* --cacert must be a readable file with a PEM certificate: a mistake here would otherwise only
 * surface as a TLS failure much later. */
static int check_cacert(const struct cli_common *c) {
  if (!c->cacert) return -1;
  char *pem = cli_read_small_file(c->cacert, MAX_CACERT_FILE, false);
  if (!pem) return cli_usage_error(c->cmd, "--cacert %s: %s", c->cacert, strerror(errno));
  bool has_cert = strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL;
  free(pem);
  if (!has_cert) return cli_usage_error(c->cmd, "--cacert %s: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                                        c->cacert);
  return -1;
}

int cli_parse(struct cli_common *c, int argc, char **argv, const char *own_short, const struct option *own_long,
              cli_option_fn on_option, void *ctx) {
  c->verbosity = 1;
  c->log_format = CLI_FORMAT_AUTO;
  const char *env_format = getenv(ENV_LOG_FORMAT);
  if (env_format && *env_format && !cli_log_format_parse(env_format, &c->log_format))
    return cli_usage_error(c->cmd, ENV_LOG_FORMAT " takes auto, text, plain or json (got '%s')", env_format);

  struct option all[MAX_OPTIONS + 1];
  size_t n = 0;
  for (const struct option *o = own_long; o && o->name; o++) add_options(all, &n, o, 1);
  add_options(all, &n, shared_all, sizeof shared_all / sizeof shared_all[0]);
  if (c->uses & CLI_USES_CONNSTR) add_options(all, &n, shared_connstr, 2);
  if (c->uses & CLI_USES_TLS) add_options(all, &n, shared_tls, 2);
  if (c->uses & CLI_USES_PROXY) add_options(all, &n, shared_proxy, 1);
  memset(&all[n], 0, sizeof all[n]);
  char shortopts[64];
  snprintf(shortopts, sizeof shortopts, ":%s%svqh", own_short ? own_short : "", c->uses & CLI_USES_CONNSTR ? "c:" : "");

  opterr = 0;
  optind = 1;
  int ch;
  while ((ch = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
    char opt[128];
    if (ch == '?') {
      return cli_usage_error(c->cmd, "unknown option '%s' (see azrelay %s --help)",
                             option_text(argv, optind, optopt, opt, sizeof opt), c->cmd);
    }
    if (ch == ':')
      return cli_usage_error(c->cmd, "option '%s' needs a value", option_text(argv, optind, optopt, opt, sizeof opt));
    int rc = shared_option(c, ch, optarg);
    if (rc == -2) rc = on_option ? on_option(ctx, ch, optarg) : -1;
    if (rc != -1) return rc;
  }
  cli_log_setup(c->cmd, c->verbosity, c->log_format, (c->uses & CLI_LONG_RUNNING) != 0);
  int rc = -1;
  if (c->uses & CLI_USES_CONNSTR) rc = resolve_connstr(c);
  if (rc == -1) rc = check_cacert(c);
  return rc;
}

void cli_common_free(struct cli_common *c) {
  if (c->connstr) {
    explicit_bzero(c->connstr, strlen(c->connstr));
    free(c->connstr);
    c->connstr = NULL;
  }
  azr_connection_string_free(c->cs);
  c->cs = NULL;
  proxy_url_clear(&c->proxy);
}

/* A listener or a client, seen through the few calls configuring needs. */
struct target {
  void *h;
  int (*config)(void *h, const char *setting);
  const char *(*last_error)(void *h);
};

static int listener_config(void *h, const char *s) { return azr_listener_config(h, s); }
static const char *listener_error(void *h) { return azr_listener_get_last_error(h); }
static int client_config(void *h, const char *s) { return azr_client_config(h, s); }
static const char *client_error(void *h) { return azr_client_get_last_error(h); }

/* what: the option ("--cacert", "--set Name"). The library's detail starts with the setting's name
 * already ("MaxFrameSize: 'abc' is not a number"); that name is not repeated. */
static int setting_failed(const struct cli_common *c, const struct target *t, const char *what, int rc) {
  const char *detail = t->last_error(t->h);
  if (!detail || !*detail) detail = azr_strerror(rc);
  const char *name = strrchr(what, ' ');
  name = name ? name + 1 : what;
  size_t n = strlen(name);
  if (!strncasecmp(detail, name, n) && detail[n] == ':' && detail[n + 1] == ' ') detail += n + 2;
  const char *hint = rc == AZR_E_NOT_FOUND ? " (docs/FEATURES.md lists the settings)" : "";
  return cli_usage_error(c->cmd, "%s: %s%s", what, detail, hint);
}

static int configure(const struct cli_common *c, const struct target *t, const char *const *sets, int nsets) {
  char setting[4200];
  int rc;
  snprintf(setting, sizeof setting, "LogLevel=%d", c->verbosity);
  if ((rc = t->config(t->h, setting))) return setting_failed(c, t, "LogLevel", rc);
  if (c->cacert) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", c->cacert);
    if ((rc = t->config(t->h, setting))) return setting_failed(c, t, "--cacert", rc);
  }
  if (c->insecure && (rc = t->config(t->h, "SSLAcceptServerCertEncoded=*"))) return setting_failed(c, t, "--insecure", rc);
  if (c->proxy_given) {
    for (int i = 0; proxy_url_setting(&c->proxy, i, setting, sizeof setting); i++) {
      rc = t->config(t->h, setting);
      explicit_bzero(setting, sizeof setting); /* may hold the proxy password */
      if (rc) return setting_failed(c, t, "--proxy", rc);
    }
  } else if (c->uses & CLI_USES_PROXY) {
    /* As curl does: https_proxy / all_proxy / no_proxy from the environment. */
    if ((rc = t->config(t->h, "ProxyAutoDetect=true"))) return setting_failed(c, t, "ProxyAutoDetect", rc);
  }
  for (int i = 0; i < nsets; i++) {
    if (!strchr(sets[i], '=') || sets[i][0] == '=')
      return cli_usage_error(c->cmd, "--set needs Name=Value, got '%s'", sets[i]);
    if ((rc = t->config(t->h, sets[i]))) {
      char what[300];
      snprintf(what, sizeof what, "--set %.*s", (int)strcspn(sets[i], "="), sets[i]);
      return setting_failed(c, t, what, rc);
    }
  }
  return CLI_OK;
}

int cli_configure_listener(const struct cli_common *c, azr_listener *l, const char *const *sets, int nsets) {
  if (azr_listener_set_connection_string(l, c->connstr) != AZR_OK)
    return cli_usage_error(c->cmd, "connection string (from %s) rejected: %s", c->connstr_source,
                           azr_listener_get_last_error(l));
  struct target t = {l, listener_config, listener_error};
  return configure(c, &t, sets, nsets);
}

int cli_configure_client(const struct cli_common *c, azr_client *cl, const char *const *sets, int nsets) {
  if (azr_client_set_connection_string(cl, c->connstr) != AZR_OK)
    return cli_usage_error(c->cmd, "connection string (from %s) rejected: %s", c->connstr_source,
                           azr_client_get_last_error(cl));
  struct target t = {cl, client_config, client_error};
  return configure(c, &t, sets, nsets);
}
