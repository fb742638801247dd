/* SPDX-License-Identifier: MIT */
/* When to reconnect the control channel and when to renew its token: pure arithmetic on times and
 * a random number passed in, so days of reconnects and renewals can be tested in microseconds. */
#ifndef AZR_PROTO_BACKOFF_H
#define AZR_PROTO_BACKOFF_H

#include <stdint.h>

/* Delay before reconnect attempt number `attempt` (counted from 0 since the last healthy session).
 *  - attempt 0: 0 ms. The first reconnect after a session that was up is immediate: a relay
 *    restart or a load-balancer drop usually heals at once, and waiting would only lose senders.
 *  - attempt n >= 1: first_ms * 2^(n-1), capped at max_ms (when max_ms < first_ms, max_ms wins).
 *  - jitter: the delay is drawn uniformly from [base - 20%, base + 20%] using random_u32 (any
 *    32-bit value; the caller supplies it), with the upper end clipped to max_ms. So at the cap
 *    delays spread over [0.8 * max_ms, max_ms] and many listeners restarted together do not
 *    reconnect in lockstep. The result never exceeds max_ms and is 0 only for attempt 0 or a
 *    first_ms / max_ms of 0. */
uint32_t azr__backoff_delay_ms(unsigned attempt, uint32_t first_ms, uint32_t max_ms, uint32_t random_u32);

/* The moment (epoch seconds) to renew a token issued at issued_s and expiring at expiry_s, under
 * the reference's AutoRenewThreshold rule: renew once the remaining validity has dropped to
 * threshold_s, i.e. at expiry_s - threshold_s (a negative threshold counts as 0).
 * Guard: a threshold as long as the token's whole lifetime (or longer) would mean "renew at
 * once, forever"; then the token is renewed halfway through its life instead
 * (issued_s + ceil(lifetime / 2)).
 * Guarantees for expiry_s > issued_s: issued_s < result <= expiry_s (renewals are spaced by at
 * least one second and never come after expiry). When expiry_s <= issued_s (an expired token or
 * an unknown expiry) the result is issued_s, "renew now": callers must not pass an unknown expiry
 * as 0 in a loop. */
int64_t azr__renew_at_s(int64_t issued_s, int64_t expiry_s, int threshold_s);

#endif
