/* SPDX-License-Identifier: MIT */
/* The control channel's life as an explicit state machine: when to reconnect, how long to wait and
 * when to give up. Pure: times and random numbers are passed in, so a listener's whole life (start-up
 * mistakes, relay restarts, key rotation, a deleted hybrid connection) can be replayed in unit tests.
 *
 * States and transitions (the listener's I/O code performs the actions):
 *
 *   STOPPED --start--> CONNECTING --opened--> ONLINE --lost--> WAITING --timer--> CONNECTING
 *                          |                                      ^
 *                          +--------------refused-----------------+   (or STOPPED: see below)
 *
 * The stop rule (docs/FEATURES.md "Reconnect and fail-fast policy"):
 * - Before the channel was ever online, a mistake the user must fix ends listening at once: the
 *   relay refused the credentials (401/403), the hybrid connection does not exist (404), the
 *   certificate did not verify, TLS credentials (client certificate, CA file) could not be loaded,
 *   or the host name does not resolve. .NET's HybridConnectionListener.OpenAsync also fails on its first
 *   error. RetryOnStartupError=true retries every failure until the first open succeeds (for
 *   services started before the network, the certificate or the hybrid connection is ready).
 * - Once it was online: every loss is retried (transient network trouble, relay restarts, 401/403
 *   while keys rotate, a certificate change) except 404, which means the hybrid connection was
 *   deleted; RetryOnAuthError=false stops on 401/403, RetryOnNotFound=true keeps retrying 404. */
#ifndef AZR_PROTO_CONTROL_POLICY_H
#define AZR_PROTO_CONTROL_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum azr__cc_state { AZR__CC_STOPPED, AZR__CC_CONNECTING, AZR__CC_ONLINE, AZR__CC_WAITING };

/* What went wrong, as far as the policy cares. */
enum azr__cc_failure {
  AZR__CC_FAIL_TRANSIENT, /* network, relay restart, 5xx, timeouts, close frames */
  AZR__CC_FAIL_AUTH,      /* 401 / 403 */
  AZR__CC_FAIL_NOT_FOUND, /* 404 */
  AZR__CC_FAIL_CONFIG     /* certificate, TLS credentials, unknown host: the user's to fix */
};

struct azr__cc_policy {
  uint32_t reconnect_first_ms, reconnect_max_ms; /* backoff (proto/backoff.h) */
  uint32_t auth_error_delay_ms;                  /* shortest wait after 401/403/404 */
  uint32_t healthy_after_ms; /* a session up this long resets the backoff (first retry immediate) */
  bool retry_on_auth_error, retry_on_not_found, retry_on_startup_error;
};

struct azr__cc {
  enum azr__cc_state state;
  unsigned attempt;         /* reconnects since the last healthy session */
  uint64_t online_since_ms; /* when the channel last opened; meaningful in ONLINE */
  bool ever_online;         /* since start */
};

struct azr__cc_decision {
  bool stop;          /* give up: the state is STOPPED */
  uint32_t delay_ms;  /* otherwise reconnect after this long (state WAITING) */
};

/* Maps a status (azr_status) and the relay's HTTP status (0 when none) to a failure kind. */
enum azr__cc_failure azr__cc_classify(int status, int http_status);

void azr__cc_start(struct azr__cc *cc);                 /* STOPPED -> CONNECTING (attempt 0) */
void azr__cc_connecting(struct azr__cc *cc);            /* WAITING -> CONNECTING */
void azr__cc_opened(struct azr__cc *cc, uint64_t now_ms); /* CONNECTING -> ONLINE */
/* The channel was refused or lost: the next state and the wait. random_u32 spreads the backoff. */
struct azr__cc_decision azr__cc_failed(struct azr__cc *cc, const struct azr__cc_policy *p, enum azr__cc_failure why,
                                       uint64_t now_ms, uint32_t random_u32);
void azr__cc_stop(struct azr__cc *cc);                  /* any -> STOPPED (the application stopped) */

#endif
