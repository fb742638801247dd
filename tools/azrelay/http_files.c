/* SPDX-License-Identifier: MIT */
/* `azrelay listen --http-dir`: maps request targets into one folder (never outside it) and sends
 * the files, streaming the large ones with azr_http_response_begin/_write/_end.
 *
 * Files are opened beneath a handle on the folder, one path segment at a time with O_NOFOLLOW, and
 * what was opened is fstat()ed: there is no check-then-open window in which a file swapped for a
 * symbolic link could lead outside (a realpath() check followed by open() by name had one).
 * Symbolic links are never followed; names starting with '.' are hidden unless --http-dotfiles. */
#include "http_files.h"

#include "cli.h"
#include "cli_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)       /* read size; also the largest file sent in one azr_http_response_send */
#define MAX_STREAMS 64          /* files being streamed at once; more get 503 */

/* One file whose body is still being sent. */
struct stream {
  struct stream *next;
  azr_conn_id id;
  int fd;
  uint64_t left;   /* bytes of the file not read yet */
  size_t off, len; /* buf[off..len) read but not accepted by the listener yet */
  bool blocked;    /* waiting for on_http_ready_to_send */
  uint8_t buf[CHUNK];
};

struct http_files {
  azr_listener *l;
  int root_fd; /* the served folder, opened once at start */
  char *hc;
  bool dotfiles;
  struct stream *streams;
  size_t nstreams;
};

struct http_files *http_files_new(azr_listener *l, const char *dir, const char *hc, bool dotfiles) {
  struct http_files *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->l = l;
  f->dotfiles = dotfiles;
  f->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f->root_fd < 0) {
    cli_usage_error("listen", "--http-dir %s: %s", dir, errno == ENOTDIR ? "not a folder" : strerror(errno));
    free(f);
    return NULL;
  }
  /* Targets carry the hybrid connection without surrounding slashes. */
  while (*hc == '/') hc++;
  f->hc = strdup(hc);
  if (!f->hc) {
    close(f->root_fd);
    free(f);
    return NULL;
  }
  size_t n = strlen(f->hc);
  while (n && f->hc[n - 1] == '/') f->hc[--n] = '\0';
  return f;
}

static void stream_drop(struct http_files *f, struct stream *s) {
  for (struct stream **p = &f->streams; *p; p = &(*p)->next) {
    if (*p == s) {
      *p = s->next;
      break;
    }
  }
  f->nstreams--;
  close(s->fd);
  free(s);
}

void http_files_free(struct http_files *f) {
  if (!f) return;
  while (f->streams) stream_drop(f, f->streams);
  close(f->root_fd);
  free(f->hc);
  free(f);
}

/* ---- request targets ---- */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int http_files_target_path(const char *target, const char *hc, char *out, size_t out_len) {
  size_t hc_len = strlen(hc);
  /* The target is "/{hc}[/suffix][?query]" (§7.1); anything else is not ours to serve. */
  if (target[0] != '/' || strncasecmp(target + 1, hc, hc_len) != 0) return 404;
  const char *p = target + 1 + hc_len;
  if (*p != '/' && *p != '?' && *p != '#' && *p != '\0') return 404;
  size_t n = 0;
  for (; *p && *p != '?' && *p != '#'; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '%') {
      int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
      if (lo < 0) return 400;
      c = (unsigned char)(hi * 16 + lo);
      if (c == 0) return 404; /* would cut the path short at the system call */
      p += 2;
    }
    if (n + 1 >= out_len) return 414;
    out[n++] = (char)c;
  }
  out[n] = '\0';
  /* Decoded ".." segments are refused outright; opening refuses symbolic links and, unless asked
   * for, other names starting with '.'. */
  for (const char *seg = out; seg;) {
    const char *slash = strchr(seg, '/');
    size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
    if (len == 2 && seg[0] == '.' && seg[1] == '.') return 404;
    seg = slash ? slash + 1 : NULL;
  }
  return 0;
}

const char *http_files_content_type(const char *name) {
  static const char *const types[][2] = {
      {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"}, {"json", "application/json"},
      {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"}, {"png", "image/png"},
      {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
      {"gif", "image/gif"}, {"svg", "image/svg+xml"},
      {"pdf", "application/pdf"}, {"wasm", "application/wasm"},
  };
  const char *base = strrchr(name, '/');
  const char *dot = strrchr(base ? base : name, '.');
  if (dot && dot[1])
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (!strcasecmp(dot + 1, types[i][0])) return types[i][1];
  return "application/octet-stream";
}

/* ---- responses ---- */

static void send_status(struct http_files *f, const azr_http_request_event *ev, int status, const char *text,
                        const char *allow) {
  const char *headers[] = {"Content-Type", "text/plain; charset=utf-8", allow ? "Allow" : NULL, allow, NULL};
  char body[128];
  int n = snprintf(body, sizeof body, "%d %s\n", status, text);
  bool head = !strcasecmp(ev->method, "HEAD");
  int rc = azr_http_response_send(f->l, ev->request_id, status, text, headers, body, head ? 0 : (size_t)n);
  if (rc) cli_log(CLI_WARN, "HTTP %s %s: response failed: %s", ev->method, ev->request_target, azr_strerror(rc));
  else cli_log(CLI_INFO, "HTTP %s %s -> %d", ev->method, ev->request_target, status);
}

/* Opens one segment beneath dir_fd: no symbolic link (O_NOFOLLOW), and O_NONBLOCK so a FIFO
 * cannot hang the listener (fstat decides what may be served). */
static int open_segment(int dir_fd, const char *name, bool want_dir) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | (want_dir ? O_DIRECTORY : 0);
  int fd;
  do fd = openat(dir_fd, name, flags);
  while (fd < 0 && errno == EINTR);
  return fd;
}

/* Opens the regular file a request names (index.html for a folder) beneath the root; -1 when
 * there is none, it is hidden or a path segment is a symbolic link. `name` gets the file's last
 * segment (for its Content-Type). */
static int open_target(const struct http_files *f, const char *rel, struct stat *st, char *name, size_t name_len) {
  char segment[NAME_MAX + 1];
  int dir_fd = f->root_fd, fd = -1;
  snprintf(name, name_len, "index.html");
  for (const char *p = rel;;) {
    while (*p == '/') p++;
    size_t len = strcspn(p, "/");
    if (!len) break; /* the folder itself, or a trailing '/' */
    if (len > NAME_MAX) goto fail;
    memcpy(segment, p, len);
    segment[len] = 0;
    p += len;
    bool last = *p == '\0' || p[strspn(p, "/")] == '\0';
    if (!strcmp(segment, ".")) {
      if (!last) continue;
      break; /* "dir/." names the folder */
    }
    if (segment[0] == '.' && (!f->dotfiles || !strcmp(segment, ".."))) goto fail;
    int next = open_segment(dir_fd, segment, !last);
    if (dir_fd != f->root_fd) close(dir_fd);
    dir_fd = -1;
    if (next < 0) goto fail;
    if (last) {
      fd = next;
      snprintf(name, name_len, "%s", segment);
      break;
    }
    dir_fd = next;
  }
  if (fd < 0) {
    /* The request named a folder (the root or one whose name ended with '/'). */
    fd = openat(dir_fd, ".", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (dir_fd != f->root_fd) close(dir_fd);
    dir_fd = -1;
    if (fd < 0) goto fail;
  }
  if (fstat(fd, st) != 0) goto fail;
  if (S_ISDIR(st->st_mode)) {
    int index = open_segment(fd, "index.html", false);
    close(fd);
    fd = index;
    snprintf(name, name_len, "index.html");
    if (fd < 0 || fstat(fd, st) != 0) goto fail;
  }
  if (!S_ISREG(st->st_mode)) goto fail;
  return fd;
fail:
  if (dir_fd >= 0 && dir_fd != f->root_fd) close(dir_fd);
  if (fd >= 0) close(fd);
  return -1;
}

static ssize_t read_some(int fd, void *buf, size_t len) {
  ssize_t n;
  do n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Hands the listener as much of the file as it takes; ends the response at the end of the file. */
static void pump(struct http_files *f, struct stream *s) {
  for (;;) {
    if (s->off == s->len) {
      if (!s->left) {
        int rc = azr_http_response_end(f->l, s->id);
        if (rc) cli_log(CLI_WARN, "HTTP response %llu: end failed: %s", (unsigned long long)s->id, azr_strerror(rc));
        stream_drop(f, s);
        return;
      }
      ssize_t n = read_some(s->fd, s->buf, s->left < CHUNK ? (size_t)s->left : CHUNK);
      if (n <= 0) {
        /* The file shrank or failed under us: the status is gone already, so end what was sent. */
        cli_log(CLI_WARN, "HTTP response %llu: file read failed: %s; response cut short", (unsigned long long)s->id,
                n < 0 ? strerror(errno) : "unexpected end of file");
        s->left = 0;
        continue;
      }
      s->off = 0;
      s->len = (size_t)n;
      s->left -= (uint64_t)n;
    }
    int rc = azr_http_response_write(f->l, s->id, s->buf + s->off, s->len - s->off);
    if (rc == AZR_E_WOULDBLOCK) {
      s->blocked = true;
      return;
    }
    if (rc) {
      cli_log(CLI_WARN, "HTTP response %llu: write failed: %s", (unsigned long long)s->id, azr_strerror(rc));
      stream_drop(f, s);
      return;
    }
    s->off = s->len;
  }
}

static void send_file(struct http_files *f, const azr_http_request_event *ev, int fd, const struct stat *st,
                      const char *name) {
  bool head = !strcasecmp(ev->method, "HEAD");
  char length[32];
  snprintf(length, sizeof length, "%llu", (unsigned long long)st->st_size);
  const char *headers[] = {"Content-Type", http_files_content_type(name), "Content-Length", length, NULL};
  uint64_t size = (uint64_t)st->st_size;
  if (head || size <= CHUNK) {
    /* One piece: HEAD keeps Content-Length (the library forwards it for HEAD only). */
    uint8_t *body = head || !size ? NULL : malloc((size_t)size);
    ssize_t n = body ? read_some(fd, body, (size_t)size) : 0;
    close(fd);
    if (body && n != (ssize_t)size) {
      free(body);
      send_status(f, ev, 500, "Internal Server Error", NULL);
      return;
    }
    if (!head && size && !body) {
      send_status(f, ev, 503, "Service Unavailable", NULL);
      return;
    }
    int rc = azr_http_response_send(f->l, ev->request_id, 200, "OK", headers, body, head ? 0 : (size_t)size);
    free(body);
    if (rc) cli_log(CLI_WARN, "HTTP %s %s: response failed: %s", ev->method, ev->request_target, azr_strerror(rc));
    else cli_log(CLI_INFO, "HTTP %s %s -> 200 (%llu bytes)", ev->method, ev->request_target, (unsigned long long)size);
    return;
  }
  struct stream *s = f->nstreams < MAX_STREAMS ? malloc(sizeof *s) : NULL;
  if (!s) {
    close(fd);
    send_status(f, ev, 503, "Service Unavailable", NULL);
    return;
  }
  int rc = azr_http_response_begin(f->l, ev->request_id, 200, "OK", headers);
  if (rc) {
    cli_log(CLI_WARN, "HTTP %s %s: response failed: %s", ev->method, ev->request_target, azr_strerror(rc));
    close(fd);
    free(s);
    return;
  }
  cli_log(CLI_INFO, "HTTP %s %s -> 200 (%llu bytes, streamed)", ev->method, ev->request_target, (unsigned long long)size);
  s->id = ev->request_id;
  s->fd = fd;
  s->left = size;
  s->off = s->len = 0;
  s->blocked = false;
  s->next = f->streams;
  f->streams = s;
  f->nstreams++;
  pump(f, s);
}

void http_files_serve(struct http_files *f, const azr_http_request_event *ev) {
  if (strcasecmp(ev->method, "GET") && strcasecmp(ev->method, "HEAD")) {
    send_status(f, ev, 405, "Method Not Allowed", "GET, HEAD");
    return;
  }
  char rel[PATH_MAX];
  int status = http_files_target_path(ev->request_target, f->hc, rel, sizeof rel);
  if (status == 400) send_status(f, ev, 400, "Bad Request", NULL);
  else if (status == 414) send_status(f, ev, 414, "URI Too Long", NULL);
  if (status == 400 || status == 414) return;
  struct stat st;
  char name[NAME_MAX + 1];
  int fd = status ? -1 : open_target(f, rel, &st, name, sizeof name);
  if (fd < 0) {
    send_status(f, ev, 404, "Not Found", NULL);
    return;
  }
  send_file(f, ev, fd, &st, name);
}

static struct stream *find_stream(struct http_files *f, azr_conn_id id) {
  for (struct stream *s = f->streams; s; s = s->next)
    if (s->id == id) return s;
  return NULL;
}

void http_files_ready(struct http_files *f, azr_conn_id request_id) {
  struct stream *s = find_stream(f, request_id);
  if (!s) return;
  s->blocked = false;
  pump(f, s);
}

void http_files_tick(struct http_files *f) {
  for (struct stream *s = f->streams, *next; s; s = next) {
    next = s->next;
    if (!s->blocked) continue;
    /* A retry instead of only waiting for on_http_ready_to_send: the listener does not fire it when
     * the queue filled while the response rendezvous was still connecting. A request that is gone
     * fails the write and is dropped. */
    s->blocked = false;
    pump(f, s);
  }
}
