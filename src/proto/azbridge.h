/* SPDX-License-Identifier: MIT */
/* The per-stream preamble of Microsoft's azbridge (azure-relay-bridge), sans-I/O: the sender's
 * version + logical port name, the listener's three-byte reply. Format and sources:
 * docs/internals/azbridge.md.
 *
 * Sender:   01 00 <mode> <N> <N bytes of port name, UTF-8>      (mode 0 = stream, 1 = datagram)
 * Listener: 01 00 <mode> accepted | 00 00 00 bad version | 00 00 01 port is datagram |
 *           00 00 FF port is stream | nothing + close: unknown port name.
 * Both directions are a byte stream: message boundaries carry no meaning, so every reader here is
 * incremental and takes the bytes in whatever pieces they arrive. */
#ifndef AZR_PROTO_AZBRIDGE_H
#define AZR_PROTO_AZBRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/utf8.h"

#define AZR__AZBRIDGE_VERSION_MAJOR 1u
#define AZR__AZBRIDGE_VERSION_MINOR 0u
/* The name length travels in one byte. */
#define AZR__AZBRIDGE_MAX_PORT_NAME 255u
/* major, minor, mode, name length. */
#define AZR__AZBRIDGE_HEADER_LEN 4u
#define AZR__AZBRIDGE_MAX_PREAMBLE (AZR__AZBRIDGE_HEADER_LEN + AZR__AZBRIDGE_MAX_PORT_NAME)
#define AZR__AZBRIDGE_REPLY_LEN 3u

enum azr__azbridge_mode {
  AZR__AZBRIDGE_MODE_STREAM = 0,  /* TCP or Unix socket: raw bytes follow */
  AZR__AZBRIDGE_MODE_DATAGRAM = 1 /* UDP: 2-byte big-endian length + datagram, repeated */
};

enum azr__azbridge_reply {
  AZR__AZBRIDGE_REPLY_NONE = 0,        /* close without replying (azbridge's "unknown port name") */
  AZR__AZBRIDGE_REPLY_ACCEPT_STREAM,   /* 01 00 00 */
  AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM, /* 01 00 01 */
  AZR__AZBRIDGE_REPLY_BAD_VERSION,     /* 00 00 00: version or mode byte not supported */
  AZR__AZBRIDGE_REPLY_NEED_DATAGRAM,   /* 00 00 01: the port is UDP, the sender asked for stream */
  AZR__AZBRIDGE_REPLY_NEED_STREAM,     /* 00 00 FF: the port is TCP, the sender asked for datagram */
  AZR__AZBRIDGE_REPLY_OTHER            /* parsed only: any other three bytes */
};

/* Checks a port name of len bytes against what azbridge can configure: 1..255 bytes of
 * [0-9A-Za-z/_.-]. Returns AZR_OK; AZR_E_INVALID_ARG if name is NULL with len > 0; AZR_E_PARSE if
 * empty or a character is outside the set (non-ASCII UTF-8 included); AZR_E_TOO_BIG past 255 bytes;
 * AZR_E_UTF8 if the bytes are not UTF-8. *out_why (may be NULL) gets a static sentence on failure. */
int azr__azbridge_port_name_check(const char *name, size_t len, const char **out_why);

/* Writes the sender preamble for the NUL-terminated port_name and mode into out (out_cap bytes;
 * AZR__AZBRIDGE_MAX_PREAMBLE always suffices); *out_len = 4 + strlen(port_name). Send it before any
 * payload, then wait for the reply (azr__azbridge_reply_feed) before sending payload.
 * Errors: AZR_E_INVALID_ARG (NULL pointer, mode not 0/1), the codes of azr__azbridge_port_name_check,
 * AZR_E_TOO_BIG if out_cap is too small. Nothing is written on error. */
int azr__azbridge_preamble_encode(const char *port_name, enum azr__azbridge_mode mode, uint8_t *out,
                                  size_t out_cap, size_t *out_len);

/* Listener-side decoder of the sender preamble. Caller-owned, no allocation; fields are read-only
 * for the caller. */
struct azr__azbridge_preamble {
  /* Results, valid once feed reported done. */
  uint8_t mode;                                  /* enum azr__azbridge_mode */
  char port_name[AZR__AZBRIDGE_MAX_PORT_NAME + 1]; /* NUL-terminated */
  size_t port_name_len;
  /* After an error: the reply to send before closing (BAD_VERSION or NONE), and why. */
  enum azr__azbridge_reply reject_reply;
  const char *why;
  /* Progress. */
  uint8_t header[AZR__AZBRIDGE_HEADER_LEN];
  size_t got; /* preamble bytes accepted so far */
  struct azr__utf8 utf8;
  int status; /* sticky error, 0 while fine */
  bool is_done;
};

void azr__azbridge_preamble_init(struct azr__azbridge_preamble *p);

/* Feeds the next len bytes of the relayed stream. Always returns with *out_consumed = the bytes of
 * data that belong to the preamble and *out_done telling whether it is complete:
 *  - AZR_OK, done false: everything was consumed, more is needed;
 *  - AZR_OK, done true: p->mode and p->port_name are set; data[*out_consumed..len) is payload;
 *  - an error (the preamble is bad; *out_consumed stops after the offending byte): send
 *    p->reject_reply if it is not NONE, then close. AZR_E_PROTOCOL: version not 1.0 or mode not 0/1
 *    (reply BAD_VERSION, as azbridge does). AZR_E_PARSE: empty name or a character outside
 *    [0-9A-Za-z/_.-]; AZR_E_UTF8: name not UTF-8 (reply NONE for both: azbridge closes silently on a
 *    name it cannot match).
 * The error is sticky: later calls return it again and consume nothing. AZR_E_BAD_STATE after done;
 * AZR_E_INVALID_ARG for NULL pointers (data may be NULL when len is 0). */
int azr__azbridge_preamble_feed(struct azr__azbridge_preamble *p, const uint8_t *data, size_t len,
                                size_t *out_consumed, bool *out_done);

/* Finds the forward for a received port name among count configured names, as azbridge's listener
 * does: exact, case-sensitive match first; failing that, when exactly one name is configured and
 * port_name is a decimal integer (optional sign, digits, 32-bit range), that one. *out_index gets
 * the position. AZR_E_NOT_FOUND if nothing matches (close without a reply); AZR_E_INVALID_ARG for
 * NULL pointers. NULL entries in names never match. */
int azr__azbridge_port_lookup(const char *const *names, size_t count, const char *port_name,
                              size_t *out_index);

/* The listener's answer once the port is known: ACCEPT_* echoing the mode when the port type fits,
 * NEED_DATAGRAM for a stream request to a UDP port, NEED_STREAM for a datagram request to a TCP
 * port, BAD_VERSION for a mode byte that is neither 0 nor 1. */
enum azr__azbridge_reply azr__azbridge_reply_for(uint8_t requested_mode, bool port_is_datagram);

/* Writes the three bytes of reply into out. AZR_E_INVALID_ARG for NONE, OTHER, an unknown value or
 * a NULL out. */
int azr__azbridge_reply_encode(enum azr__azbridge_reply reply, uint8_t out[AZR__AZBRIDGE_REPLY_LEN]);

/* Classifies three reply bytes. */
enum azr__azbridge_reply azr__azbridge_reply_parse(const uint8_t bytes[AZR__AZBRIDGE_REPLY_LEN]);

/* Sender-side reader of the listener's reply. */
struct azr__azbridge_reply_reader {
  uint8_t mode;                            /* the mode the preamble asked for */
  uint8_t bytes[AZR__AZBRIDGE_REPLY_LEN];  /* as received */
  size_t got;
  enum azr__azbridge_reply reply;          /* valid once done */
  const char *why;                         /* set on refusal */
  bool is_done;
};

void azr__azbridge_reply_init(struct azr__azbridge_reply_reader *r, enum azr__azbridge_mode mode);

/* Feeds bytes received after sending the preamble; *out_consumed and *out_done as for
 * azr__azbridge_preamble_feed (the rest of data is payload). Returns AZR_OK while incomplete and when
 * the listener accepted the requested mode; AZR_E_PROTOCOL, with r->reply and r->why set, when the
 * complete reply is anything else (azbridge's sender closes then). AZR_E_BAD_STATE once done,
 * AZR_E_INVALID_ARG for NULL pointers. If the stream ends before the reply is complete, the
 * listener did not know the port name (or the preamble was cut short). */
int azr__azbridge_reply_feed(struct azr__azbridge_reply_reader *r, const uint8_t *data, size_t len,
                             size_t *out_consumed, bool *out_done);

#endif
