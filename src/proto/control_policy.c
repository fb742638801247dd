/* SPDX-License-Identifier: MIT */
/* The control channel's state machine and its reconnect / fail-fast rule (see control_policy.h). */
#include "proto/control_policy.h"

#include "azrelay/common.h"
#include "proto/backoff.h"

enum azr__cc_failure azr__cc_classify(int status, int http_status) {
  if (http_status == 401 || http_status == 403 || status == AZR_E_AUTH) return AZR__CC_FAIL_AUTH;
  if (http_status == 404 || status == AZR_E_ENDPOINT_NOT_FOUND) return AZR__CC_FAIL_NOT_FOUND;
  /* A token provider's failure stays transient: an identity endpoint can be briefly unreachable,
   * and malformed keys or tokens are refused by azr_listener_start() already. */
  switch (status) {
  case AZR_E_TLS_VERIFY:
  case AZR_E_TLS_CREDENTIALS:
  case AZR_E_HOST_NOT_FOUND:
    return AZR__CC_FAIL_CONFIG;
  default:
    return AZR__CC_FAIL_TRANSIENT;
  }
}

void azr__cc_start(struct azr__cc *cc) {
  cc->state = AZR__CC_CONNECTING;
  cc->attempt = 0;
  cc->online_since_ms = 0;
  cc->ever_online = false;
}

void azr__cc_connecting(struct azr__cc *cc) {
  if (cc->state == AZR__CC_WAITING) cc->state = AZR__CC_CONNECTING;
}

void azr__cc_opened(struct azr__cc *cc, uint64_t now_ms) {
  cc->state = AZR__CC_ONLINE;
  cc->online_since_ms = now_ms;
  cc->ever_online = true;
}

static bool gives_up(const struct azr__cc *cc, const struct azr__cc_policy *p, enum azr__cc_failure why) {
  if (why == AZR__CC_FAIL_TRANSIENT) return false;
  if (!cc->ever_online) return !p->retry_on_startup_error;
  if (why == AZR__CC_FAIL_AUTH) return !p->retry_on_auth_error;
  if (why == AZR__CC_FAIL_NOT_FOUND) return !p->retry_on_not_found;
  return false; /* CONFIG after being online: a DNS outage or a certificate change heals, retry */
}

struct azr__cc_decision azr__cc_failed(struct azr__cc *cc, const struct azr__cc_policy *p, enum azr__cc_failure why,
                                       uint64_t now_ms, uint32_t random_u32) {
  struct azr__cc_decision d = {false, 0};
  /* Only a session that stayed up a while earns an immediate reconnect; a relay that keeps closing
   * the channel at once (an expired token, a recycle loop) must see the backoff grow. */
  if (cc->state == AZR__CC_ONLINE && now_ms - cc->online_since_ms >= p->healthy_after_ms) cc->attempt = 0;
  cc->online_since_ms = 0;
  if (gives_up(cc, p, why)) {
    cc->state = AZR__CC_STOPPED;
    d.stop = true;
    return d;
  }
  d.delay_ms = azr__backoff_delay_ms(cc->attempt, p->reconnect_first_ms, p->reconnect_max_ms, random_u32);
  cc->attempt++;
  bool refused = why == AZR__CC_FAIL_AUTH || why == AZR__CC_FAIL_NOT_FOUND;
  if (refused && d.delay_ms < p->auth_error_delay_ms) d.delay_ms = p->auth_error_delay_ms;
  cc->state = AZR__CC_WAITING;
  return d;
}

void azr__cc_stop(struct azr__cc *cc) {
  cc->state = AZR__CC_STOPPED;
  cc->online_since_ms = 0;
}
