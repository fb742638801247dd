/* SPDX-License-Identifier: MIT */
/* AllowedClients / BlockedClients lists: does a sender's address match one of the entries? */
#ifndef AZR_PROTO_ACCESS_LIST_H
#define AZR_PROTO_ACCESS_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* A list is comma-separated entries; blanks around entries are ignored, empty entries skipped.
 * An entry is one of:
 *  - "*": matches every address;
 *  - a CIDR block "10.0.0.0/8", "fd00::/8" (an IPv4 block also matches IPv4-mapped IPv6
 *    addresses such as ::ffff:10.1.2.3);
 *  - an IPv4 or IPv6 address without wildcards: compared as an address, so "::1" matches
 *    "0:0:0:0:0:0:0:1" and "10.0.0.1" matches "::ffff:10.0.0.1";
 *  - anything else (patterns, host names): matched against the address text, case-insensitively,
 *    with '*' (any run of characters) and '?' (one character). An IPv4-mapped IPv6 address is
 *    also tried in its dotted IPv4 form, so "192.168.*" matches "::ffff:192.168.1.9".
 * Host-name entries are compared as text: no DNS lookups happen (the relay reports IP addresses).
 * The address may be bracketed ("[::1]") and may carry a zone ("fe80::1%eth0", ignored for
 * address comparisons). An empty or NULL list matches nothing; a NULL address matches only "*". */
bool azr__access_list_match(const char *list, const char *address);

/* Checks that every entry of a list is usable: a CIDR entry must have a valid address and a
 * prefix length within 0-32 (IPv4) or 0-128 (IPv6); an entry must not contain control characters.
 * Returns 0 (AZR_OK) or AZR_E_INVALID_ARG with a message naming the entry in err (nullable). */
int azr__access_list_check(const char *list, char *err, size_t err_len);

#endif
