/* SPDX-License-Identifier: MIT */
/* `--proxy URL`: curl's proxy URL syntax mapped onto Proxy* (HTTP CONNECT, HTTPS proxies) and
 * Firewall* (SOCKS) settings of the listener and client. */
#include "proxy_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes [s, s+n) into out; false on a bad escape, an encoded NUL or no room. */
static bool decode(const char *s, size_t n, char *out, size_t out_len) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n) return false;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (o + 1 >= out_len) return false;
    out[o++] = c;
  }
  out[o] = 0;
  return true;
}

static bool fail(char *err, size_t err_len, const char *msg) {
  snprintf(err, err_len, "%s", msg);
  return false;
}

bool proxy_url_parse(const char *url, struct proxy_url *out, char *err, size_t err_len) {
  static const struct {
    const char *scheme;
    enum proxy_kind kind;
    unsigned port;
  } schemes[] = {{"http", PROXY_HTTP, 1080},       {"https", PROXY_HTTPS, 443},    {"socks4", PROXY_SOCKS4, 1080},
                 {"socks4a", PROXY_SOCKS4A, 1080}, {"socks5", PROXY_SOCKS5, 1080}, {"socks5h", PROXY_SOCKS5H, 1080}};
  memset(out, 0, sizeof *out);
  if (!*url) return true; /* PROXY_NONE */
  const char *rest = url;
  const char *sep = strstr(url, "://");
  out->kind = PROXY_HTTP;
  out->port = 1080;
  if (sep) {
    size_t n = (size_t)(sep - url);
    bool known = false;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
      if (strlen(schemes[i].scheme) == n && !strncasecmp(url, schemes[i].scheme, n)) {
        out->kind = schemes[i].kind;
        out->port = schemes[i].port;
        known = true;
      }
    }
    if (!known) return fail(err, err_len, "unsupported proxy scheme (use http, https, socks4, socks4a, socks5 or socks5h)");
    rest = sep + 3;
  }
  /* authority: [user[:password]@]host[:port], then nothing or "/" */
  size_t auth_len = strcspn(rest, "/?#");
  if (rest[auth_len] && strcmp(rest + auth_len, "/") != 0)
    return fail(err, err_len, "a proxy URL has no path or query: scheme://[user:password@]host[:port]");
  const char *at = NULL; /* the last '@': a password may contain one */
  for (size_t i = 0; i < auth_len; i++)
    if (rest[i] == '@') at = rest + i;
  const char *host = rest;
  if (at) {
    const char *colon = memchr(rest, ':', (size_t)(at - rest));
    size_t user_len = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
    if (!decode(rest, user_len, out->user, sizeof out->user) ||
        (colon && !decode(colon + 1, (size_t)(at - colon - 1), out->password, sizeof out->password)))
      return fail(err, err_len, "the proxy user or password has a bad %-escape or is too long");
    out->has_user = true;
    host = at + 1;
  }
  const char *end = rest + auth_len;
  const char *port = NULL;
  size_t host_len;
  if (*host == '[') {
    const char *rb = memchr(host, ']', (size_t)(end - host));
    if (!rb) return fail(err, err_len, "the proxy's IPv6 address lacks its ']'");
    if (rb + 1 < end && rb[1] != ':') return fail(err, err_len, "junk after the proxy's IPv6 address");
    port = rb + 1 < end ? rb + 2 : NULL;
    host++;
    host_len = (size_t)(rb - host);
  } else {
    const char *colon = memchr(host, ':', (size_t)(end - host));
    port = colon ? colon + 1 : NULL;
    host_len = (size_t)((colon ? colon : end) - host);
  }
  if (host_len == 0) return fail(err, err_len, "the proxy URL has no host");
  if (host_len >= sizeof out->host) return fail(err, err_len, "the proxy's host name is too long");
  memcpy(out->host, host, host_len);
  out->host[host_len] = 0;
  if (port) {
    char *stop;
    long p = strtol(port, &stop, 10);
    if (port == end || stop != end || *port < '0' || *port > '9' || p < 1 || p > 65535)
      return fail(err, err_len, "the proxy port must be 1-65535");
    out->port = (unsigned)p;
  }
  return true;
}

bool proxy_url_setting(const struct proxy_url *p, int i, char *out, size_t out_len) {
  const char *names[8][2];
  char port[8];
  snprintf(port, sizeof port, "%u", p->port);
  int n = 0;
  names[n][0] = "ProxyAutoDetect", names[n++][1] = "false";
  names[n][0] = "FirewallAutoDetect", names[n++][1] = "false";
  if (p->kind == PROXY_HTTP || p->kind == PROXY_HTTPS) {
    names[n][0] = "ProxyServer", names[n++][1] = p->host;
    names[n][0] = "ProxyPort", names[n++][1] = port;
    if (p->kind == PROXY_HTTPS) names[n][0] = "ProxySSL", names[n++][1] = "1";
    if (p->has_user) {
      names[n][0] = "ProxyUser", names[n++][1] = p->user;
      names[n][0] = "ProxyPassword", names[n++][1] = p->password;
    }
  } else if (p->kind != PROXY_NONE) {
    /* FirewallType first: setting it resets FirewallPort. The library's SOCKS5 lets the proxy
     * resolve the relay's name, so socks5 and socks5h both do. */
    names[n][0] = "FirewallType";
    names[n++][1] = p->kind == PROXY_SOCKS4 ? "2" : p->kind == PROXY_SOCKS4A ? "10" : "3";
    names[n][0] = "FirewallHost", names[n++][1] = p->host;
    names[n][0] = "FirewallPort", names[n++][1] = port;
    if (p->has_user) {
      names[n][0] = "FirewallUser", names[n++][1] = p->user;
      names[n][0] = "FirewallPassword", names[n++][1] = p->password;
    }
  }
  if (i < 0 || i >= n) return false;
  snprintf(out, out_len, "%s=%s", names[i][0], names[i][1]);
  return true;
}

void proxy_url_clear(struct proxy_url *p) { explicit_bzero(p->password, sizeof p->password); }
