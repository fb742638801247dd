/* SPDX-License-Identifier: MIT */
/* What the azrelay commands write on stderr: their own lines and the library's log, filtered by
 * verbosity and formatted as plain lines, timestamped lines or JSON objects (--log-format). */
#ifndef AZR_CLI_LOG_H
#define AZR_CLI_LOG_H

#include <stdbool.h>

/* Severities. Errors always print; warnings and info need verbosity 1 (the default), verbose 2
 * (-v), debug 3 (-vv). The numbers of info..debug are the library's LogLevel values. */
enum cli_severity { CLI_ERROR = -1, CLI_WARN = 0, CLI_INFO = 1, CLI_VERBOSE = 2, CLI_DEBUG = 3 };

enum cli_log_format {
  CLI_FORMAT_AUTO,  /* text for long-running commands, plain for one-shot ones and the journal */
  CLI_FORMAT_TEXT,  /* "2026-01-02T03:04:05.678Z message" */
  CLI_FORMAT_PLAIN, /* "message" */
  CLI_FORMAT_JSON   /* {"time":...,"level":...,"command":...,"category":...,"message":...} */
};

/* Parses "auto", "text", "plain" or "json"; false when it is none of them. */
bool cli_log_format_parse(const char *text, enum cli_log_format *out);

/* Sets the command name, verbosity (0 errors only .. 3 debug) and format. long_running picks
 * what "auto" means. Until called, lines are plain and verbosity is 1. */
void cli_log_setup(const char *cmd, int verbosity, enum cli_log_format format, bool long_running);
int cli_log_verbosity(void);
/* The format "auto" resolved to. */
enum cli_log_format cli_log_format_used(void);

/* At verbosity 1, library lines of this category are left out: the command reports those events
 * itself (at most 4 categories). -v shows them again. */
void cli_log_hide_category(const char *category);

/* A line of the command's own. Errors and warnings read "azrelay CMD: ..." in text and plain. */
void cli_log(enum cli_severity sev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The library's log sink (azr_log_fn): "[category] message" at the library's level. */
void cli_log_library(int level, const char *category, const char *message, void *user_data);

#endif
