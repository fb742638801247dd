/* SPDX-License-Identifier: MIT */
/* RFC 6455 frame headers and payload masking, sans-I/O.
 *
 * We do not use wslay here: Debian's wslay 1.1.1 unmasks at ~0.5 GB/s and masks at ~1 GB/s (byte
 * loops), and its event layer caps outgoing fragments at 4 KiB; the emulator's relay budget is a few
 * times the cost of AES-GCM (~3 GB/s here). See docs/ARCHITECTURE.md. */
#ifndef AZR_PROTO_WS_FRAME_H
#define AZR_PROTO_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum azr__ws_opcode {
  AZR__WS_CONTINUATION = 0x0,
  AZR__WS_TEXT = 0x1,
  AZR__WS_BINARY = 0x2,
  AZR__WS_CLOSE = 0x8,
  AZR__WS_PING = 0x9,
  AZR__WS_PONG = 0xa
};

#define AZR__WS_MAX_HEADER 14u
#define azr__ws_is_control(op) (((op) & 0x8) != 0)

struct azr__ws_frame_header {
  bool fin;
  uint8_t rsv;    /* RSV1..3 as bits 2..0 */
  uint8_t opcode; /* enum azr__ws_opcode */
  bool masked;
  uint8_t mask[4];
  uint64_t payload_len;
};

/* Parses one frame header at the start of data.
 * Returns the header length (2..14) and fills *out; 0 when more bytes are needed; -1 when the header
 * is invalid: reserved opcode (3-7, 0xb-0xf), control frame with payload > 125 or FIN clear,
 * non-minimal extended length, 64-bit length with the top bit set, or RSV bits not in allowed_rsv. */
int azr__ws_frame_parse_header(const uint8_t *data, size_t len, uint8_t allowed_rsv,
                               struct azr__ws_frame_header *out);

/* Writes the header for h into out (which holds AZR__WS_MAX_HEADER bytes); returns its length. */
size_t azr__ws_frame_write_header(uint8_t *out, const struct azr__ws_frame_header *h);

/* XORs len bytes in place with mask, where `offset` is the position of data[0] within the frame
 * payload (so a payload can be processed in pieces). Word-at-a-time. */
void azr__ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);
/* Same, from src into dst (may not overlap). */
void azr__ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset);

/* True for a close code a peer may send (1000-1003, 1007-1014, 3000-4999; RFC 6455 §7.4). */
bool azr__ws_close_code_valid(uint16_t code);

/* Close frame payload: parses code and reason. A payload of length 1, a code that RFC 6455 forbids
 * on the wire (<1000, 1004-1006, 1015, 1016-2999 unassigned), or a reason that is not UTF-8 gives
 * false. An empty payload gives true with *code = 1005 (no status). */
bool azr__ws_close_payload_parse(const uint8_t *payload, size_t len, uint16_t *code, const uint8_t **reason,
                                 size_t *reason_len);
/* Writes a close payload (code + reason truncated to fit 125 bytes on a UTF-8 boundary) into
 * out[125]; returns its length. code 1005 or 0 writes an empty payload. */
size_t azr__ws_close_payload_write(uint8_t *out, uint16_t code, const char *reason);

#endif
