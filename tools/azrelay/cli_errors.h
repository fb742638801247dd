/* SPDX-License-Identifier: MIT */
/* Turns a refused or failed relay connection into one line that says what to do, and the exit
 * code that goes with it (cli.h). Shared by listen, connect and request. */
#ifndef AZR_CLI_ERRORS_H
#define AZR_CLI_ERRORS_H

#include <stddef.h>

#include "cli_opts.h"

/* Who reported the failure: the relay's refusals carry a TrackingId in their reason phrase; a
 * listener's rejection does not, which is how the two are told apart on the sender's side. */
enum cli_role {
  CLI_ROLE_LISTENER, /* azrelay listen's control channel */
  CLI_ROLE_SENDER,   /* azrelay connect */
  CLI_ROLE_REQUEST   /* azrelay request: the listener's answer is a response, not a refusal */
};

/* status: an azr_status (0 when only an HTTP status is known); http_status: the relay's or the
 * listener's HTTP status, 0 when none; description: the reason phrase or the library's text.
 * Writes the line (without "azrelay CMD: ") into out and returns the exit code. */
int cli_explain_failure(const struct cli_common *c, enum cli_role role, int status, int http_status,
                        const char *description, char *out, size_t out_len);

/* The reason phrase without the relay's ". TrackingId:..., SystemTracker:..., Timestamp:..." tail
 * and without a leading "NNN " status, into out. */
void cli_relay_reason(const char *description, int http_status, char *out, size_t out_len);

/* True when the description is one of the relay's own (it carries a TrackingId). */
int cli_is_relay_reply(const char *description);

#endif
