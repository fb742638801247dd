/* SPDX-License-Identifier: MIT */
/* stderr of the azrelay commands: one write per line, so lines of a command and of the library
 * never interleave mid-line. */
#include "cli_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HIDDEN 4
#define LINE_STACK 1024 /* most lines fit; longer ones are formatted into the heap */

static struct {
  const char *cmd;
  int verbosity;
  enum cli_log_format format;
  const char *hidden[MAX_HIDDEN];
  int hidden_count;
} g = {"", 1, CLI_FORMAT_PLAIN, {NULL}, 0};

bool cli_log_format_parse(const char *text, enum cli_log_format *out) {
  static const struct {
    const char *name;
    enum cli_log_format format;
  } names[] = {{"auto", CLI_FORMAT_AUTO}, {"text", CLI_FORMAT_TEXT}, {"plain", CLI_FORMAT_PLAIN},
               {"json", CLI_FORMAT_JSON}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!strcmp(text, names[i].name)) {
      *out = names[i].format;
      return true;
    }
  }
  return false;
}

/* systemd sets JOURNAL_STREAM to "device:inode" of the journal's stream; when that is our stderr,
 * the journal stamps every line itself. */
static bool stderr_is_journal(void) {
  const char *js = getenv("JOURNAL_STREAM");
  struct stat st;
  unsigned long long dev, ino;
  if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0) return false;
  return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void cli_log_setup(const char *cmd, int verbosity, enum cli_log_format format, bool long_running) {
  g.cmd = cmd;
  g.verbosity = verbosity;
  if (format == CLI_FORMAT_AUTO) format = long_running && !stderr_is_journal() ? CLI_FORMAT_TEXT : CLI_FORMAT_PLAIN;
  g.format = format;
}

int cli_log_verbosity(void) { return g.verbosity; }

enum cli_log_format cli_log_format_used(void) { return g.format; }

void cli_log_hide_category(const char *category) {
  if (g.hidden_count < MAX_HIDDEN) g.hidden[g.hidden_count++] = category;
}

/* A growing line buffer that starts on the stack. */
struct line {
  char *p;
  size_t len, cap;
  bool heap, failed;
  char stack[LINE_STACK];
};

static void line_init(struct line *l) {
  l->p = l->stack;
  l->len = 0;
  l->cap = sizeof l->stack;
  l->heap = l->failed = false;
}

static bool line_reserve(struct line *l, size_t more) {
  if (l->failed) return false;
  if (l->len + more + 1 <= l->cap) return true;
  size_t cap = (l->len + more + 1) * 2;
  char *p = l->heap ? realloc(l->p, cap) : malloc(cap);
  if (!p) {
    l->failed = true;
    return false;
  }
  if (!l->heap) memcpy(p, l->stack, l->len);
  l->p = p;
  l->cap = cap;
  l->heap = true;
  return true;
}

static void line_add(struct line *l, const char *s, size_t n) {
  if (!line_reserve(l, n)) return;
  memcpy(l->p + l->len, s, n);
  l->len += n;
}

static void line_str(struct line *l, const char *s) { line_add(l, s, strlen(s)); }

static void line_vfmt(struct line *l, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0 || !line_reserve(l, (size_t)n)) return;
  vsnprintf(l->p + l->len, (size_t)n + 1, fmt, ap);
  l->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (s[0] >= 0x80), or 0. */
static size_t utf8_sequence(const unsigned char *s) {
  size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
  if (!n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) return 0;
  if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 0;
  return n;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD so every line stays valid JSON. */
static void line_json_string(struct line *l, const char *s) {
  line_add(l, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    if (*p == '"' || *p == '\\') {
      char esc[2] = {'\\', (char)*p};
      line_add(l, esc, 2);
      p++;
    } else if (*p < 0x20 || *p == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      line_str(l, esc);
      p++;
    } else if (*p < 0x80) {
      line_add(l, (const char *)p, 1);
      p++;
    } else {
      size_t n = utf8_sequence(p);
      if (n) line_add(l, (const char *)p, n);
      else line_str(l, "\\ufffd");
      p += n ? n : 1;
    }
  }
  line_add(l, "\"", 1);
}

static void timestamp(char *out, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

static const char *severity_name(enum cli_severity sev) {
  switch (sev) {
  case CLI_ERROR: return "error";
  case CLI_WARN: return "warning";
  case CLI_INFO: return "info";
  case CLI_VERBOSE: return "verbose";
  case CLI_DEBUG: return "debug";
  }
  return "info";
}

/* Writes one line. category NULL: the command's own line. */
static void emit(enum cli_severity sev, const char *category, const char *fmt, va_list ap) {
  struct line l;
  line_init(&l);
  if (g.format == CLI_FORMAT_JSON) {
    char ts[40];
    timestamp(ts, sizeof ts);
    struct line msg;
    line_init(&msg);
    line_vfmt(&msg, fmt, ap);
    line_add(&msg, "", 0);
    if (!msg.failed) msg.p[msg.len] = 0;
    line_str(&l, "{\"time\":\"");
    line_str(&l, ts);
    line_str(&l, "\",\"level\":\"");
    line_str(&l, severity_name(sev));
    line_str(&l, "\",\"command\":");
    line_json_string(&l, g.cmd);
    line_str(&l, ",\"category\":");
    line_json_string(&l, category ? category : g.cmd);
    line_str(&l, ",\"message\":");
    line_json_string(&l, msg.failed ? "(out of memory)" : msg.p);
    line_str(&l, "}\n");
    if (msg.heap) free(msg.p);
  } else {
    if (g.format == CLI_FORMAT_TEXT) {
      char ts[40];
      timestamp(ts, sizeof ts);
      line_str(&l, ts);
      line_str(&l, " ");
    }
    if (category) {
      line_str(&l, "[");
      line_str(&l, category);
      line_str(&l, "] ");
    } else if (sev <= CLI_WARN) {
      line_str(&l, "azrelay ");
      line_str(&l, g.cmd);
      line_str(&l, sev == CLI_WARN ? ": warning: " : ": ");
    }
    line_vfmt(&l, fmt, ap);
    line_str(&l, "\n");
  }
  if (!l.failed) {
    for (size_t off = 0; off < l.len;) {
      ssize_t n = write(STDERR_FILENO, l.p + off, l.len - off);
      if (n <= 0) break;
      off += (size_t)n;
    }
  }
  if (l.heap) free(l.p);
}

void cli_log(enum cli_severity sev, const char *fmt, ...) {
  bool shown = sev == CLI_ERROR || (sev == CLI_WARN ? g.verbosity >= 1 : (int)sev <= g.verbosity);
  if (!shown) return;
  va_list ap;
  va_start(ap, fmt);
  emit(sev, NULL, fmt, ap);
  va_end(ap);
}

static void emit_library(enum cli_severity sev, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emit_library(enum cli_severity sev, const char *category, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(sev, category, fmt, ap);
  va_end(ap);
}

void cli_log_library(int level, const char *category, const char *message, void *user_data) {
  (void)user_data;
  if (level > g.verbosity) return;
  if (!category) category = "azrelay";
  if (g.verbosity <= 1)
    for (int i = 0; i < g.hidden_count; i++)
      if (!strcmp(category, g.hidden[i])) return;
  enum cli_severity sev = level >= 3 ? CLI_DEBUG : level == 2 ? CLI_VERBOSE : CLI_INFO;
  emit_library(sev, category, "%s", message);
}
