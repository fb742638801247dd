/* SPDX-License-Identifier: MIT */
/* `--proxy URL` as curl takes it (http, https, socks4, socks4a, socks5, socks5h; user:password@
 * in the URL), mapped onto the listener's Proxy* and Firewall* settings. */
#ifndef AZR_CLI_PROXY_URL_H
#define AZR_CLI_PROXY_URL_H

#include <stdbool.h>
#include <stddef.h>

enum proxy_kind { PROXY_NONE, PROXY_HTTP, PROXY_HTTPS, PROXY_SOCKS4, PROXY_SOCKS4A, PROXY_SOCKS5, PROXY_SOCKS5H };

struct proxy_url {
  enum proxy_kind kind;
  char host[256]; /* IPv6 without brackets */
  unsigned port;
  char user[256], password[256]; /* percent-decoded; password is a secret */
  bool has_user;
};

/* Parses URL into *out. "" means no proxy at all (not even from the environment). Without a
 * scheme it is http, as with curl; without a port 1080 (443 for https), as with curl. Returns
 * false with a message (never quoting the password) in err. */
bool proxy_url_parse(const char *url, struct proxy_url *out, char *err, size_t err_len);

/* The i-th "Name=Value" setting for *p (i = 0, 1, ...); false when there are no more. The list
 * always starts with ProxyAutoDetect=false: an explicit proxy replaces the environment's. */
bool proxy_url_setting(const struct proxy_url *p, int i, char *out, size_t out_len);

/* Wipes the password. */
void proxy_url_clear(struct proxy_url *p);

#endif
