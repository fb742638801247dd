/* SPDX-License-Identifier: MIT */
/* Address lists for AllowedClients / BlockedClients: wildcards, exact addresses and CIDR blocks. */
#include "proto/access_list.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"

/* Longest textual address we try to parse: a full IPv6 address with an embedded IPv4 part, plus
 * room for a zone or a prefix; anything longer is no address. */
#define ADDR_TEXT_MAX 64

struct ip {
  int family; /* 4 or 6 */
  uint8_t b[16];
};

struct span {
  const char *p;
  size_t n;
};

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Next entry (trimmed, possibly empty) at *cur; *cur becomes NULL after the last one. */
static bool next_entry(const char **cur, struct span *out) {
  if (!*cur) return false;
  const char *s = *cur;
  size_t n = strcspn(s, ",");
  *cur = s[n] ? s + n + 1 : NULL;
  while (n && blank(*s)) {
    s++;
    n--;
  }
  while (n && blank(s[n - 1])) n--;
  out->p = s;
  out->n = n;
  return true;
}

/* Parses an IPv4 or IPv6 address (brackets and a zone allowed). IPv4-mapped IPv6 becomes IPv4. */
static bool parse_ip(struct span t, struct ip *out) {
  if (t.n >= 2 && t.p[0] == '[' && t.p[t.n - 1] == ']') {
    t.p++;
    t.n -= 2;
  }
  const char *zone = memchr(t.p, '%', t.n);
  if (zone) t.n = (size_t)(zone - t.p);
  if (t.n == 0 || t.n >= ADDR_TEXT_MAX) return false;
  char buf[ADDR_TEXT_MAX];
  memcpy(buf, t.p, t.n);
  buf[t.n] = 0;
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, buf, out->b) == 1) {
    out->family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out->b) != 1) return false;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(out->b, mapped, sizeof mapped) == 0) {
    memmove(out->b, out->b + 12, 4);
    memset(out->b + 4, 0, 12);
    out->family = 4;
  } else {
    out->family = 6;
  }
  return true;
}

static bool prefix_equal(const struct ip *a, const struct ip *b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(a->b, b->b, whole) != 0) return false;
  if (!rest) return true;
  uint8_t mask = (uint8_t)(0xffu << (8 - rest));
  return (a->b[whole] & mask) == (b->b[whole] & mask);
}

/* Parses "address/prefix". An IPv4-mapped IPv6 block of /96 or longer becomes an IPv4 block. */
static bool parse_cidr(struct span e, struct ip *net, unsigned *bits) {
  const char *slash = memchr(e.p, '/', e.n);
  if (!slash) return false;
  struct span a = {e.p, (size_t)(slash - e.p)};
  struct span p = {slash + 1, e.n - a.n - 1};
  if (p.n == 0 || p.n > 3) return false;
  unsigned v = 0;
  for (size_t i = 0; i < p.n; i++) {
    if (p.p[i] < '0' || p.p[i] > '9') return false;
    v = v * 10 + (unsigned)(p.p[i] - '0');
  }
  /* The address part must be bare: a zone or brackets make no sense in a block. */
  if (memchr(a.p, '%', a.n) || memchr(a.p, '[', a.n)) return false;
  bool v6_text = memchr(a.p, ':', a.n) != NULL;
  if (!parse_ip(a, net)) return false;
  if (v6_text && net->family == 4) { /* ::ffff:a.b.c.d/n */
    if (v > 128 || v < 96) return false;
    v -= 96;
  }
  if (v > (net->family == 4 ? 32u : 128u)) return false;
  *bits = v;
  return true;
}

/* Case-insensitive glob: '*' any run (also empty), '?' exactly one character. */
static bool glob_match(struct span pat, const char *s, size_t n) {
  size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
  while (si < n) {
    if (pi < pat.n && pat.p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < pat.n && (pat.p[pi] == '?' || lower(pat.p[pi]) == lower(s[si]))) {
      pi++;
      si++;
    } else if (star != SIZE_MAX) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < pat.n && pat.p[pi] == '*') pi++;
  return pi == pat.n;
}

static bool entry_matches(struct span e, const char *address, size_t alen, const struct ip *addr, bool addr_is_ip,
                          const char *v4text) {
  if (e.n == 1 && e.p[0] == '*') return true;
  bool wild = memchr(e.p, '*', e.n) || memchr(e.p, '?', e.n);
  if (!wild && memchr(e.p, '/', e.n)) {
    struct ip net;
    unsigned bits;
    return addr_is_ip && parse_cidr(e, &net, &bits) && net.family == addr->family && prefix_equal(&net, addr, bits);
  }
  if (!wild) {
    struct ip ent;
    if (addr_is_ip && parse_ip(e, &ent)) return ent.family == addr->family && prefix_equal(&ent, addr, ent.family == 4 ? 32 : 128);
  }
  struct span a = {address, alen};
  if (alen >= 2 && address[0] == '[' && address[alen - 1] == ']') {
    a.p++;
    a.n -= 2;
  }
  if (glob_match(e, a.p, a.n)) return true;
  return v4text[0] && glob_match(e, v4text, strlen(v4text));
}

bool azr__access_list_match(const char *list, const char *address) {
  if (!list || !*list) return false;
  size_t alen = address ? strlen(address) : 0;
  struct ip addr;
  bool addr_is_ip = address && parse_ip((struct span){address, alen}, &addr);
  /* An IPv4-mapped IPv6 address written as such also matches IPv4 patterns in dotted form. */
  char v4text[INET_ADDRSTRLEN] = "";
  if (addr_is_ip && addr.family == 4 && memchr(address, ':', alen)) inet_ntop(AF_INET, addr.b, v4text, sizeof v4text);
  const char *cur = list;
  struct span e;
  while (next_entry(&cur, &e)) {
    if (e.n == 0) continue;
    if (!address) {
      if (e.n == 1 && e.p[0] == '*') return true;
      continue;
    }
    if (entry_matches(e, address, alen, &addr, addr_is_ip, v4text)) return true;
  }
  return false;
}

int azr__access_list_check(const char *list, char *err, size_t err_len) {
  if (!list) return AZR_OK;
  const char *cur = list;
  struct span e;
  size_t index = 0;
  while (next_entry(&cur, &e)) {
    index++;
    for (size_t i = 0; i < e.n; i++) {
      unsigned char c = (unsigned char)e.p[i];
      if (c < 0x20 || c == 0x7f) {
        if (err && err_len) snprintf(err, err_len, "entry %zu contains a control character", index);
        return AZR_E_INVALID_ARG;
      }
    }
    bool wild = memchr(e.p, '*', e.n) || memchr(e.p, '?', e.n);
    if (e.n && !wild && memchr(e.p, '/', e.n)) {
      struct ip net;
      unsigned bits;
      if (!parse_cidr(e, &net, &bits)) {
        if (err && err_len)
          snprintf(err, err_len, "'%.*s' is not a CIDR block (address/prefix, prefix 0-32 for IPv4, 0-128 for IPv6)",
                   e.n > 80 ? 80 : (int)e.n, e.p);
        return AZR_E_INVALID_ARG;
      }
    }
  }
  return AZR_OK;
}
