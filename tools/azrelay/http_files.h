/* SPDX-License-Identifier: MIT */
/* `azrelay listen --http-dir`: serves the files of one folder to relayed HTTP requests (§7). */
#ifndef AZR_CLI_HTTP_FILES_H
#define AZR_CLI_HTTP_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "azrelay.h"

struct http_files;

/* Serves `dir` (opened now; symbolic links beneath it are never followed) for hybrid connection
 * `hc` (the first segment of every request target); names starting with '.' only when
 * `dotfiles`. Returns NULL with a message on stderr when the folder is unusable. */
struct http_files *http_files_new(azr_listener *l, const char *dir, const char *hc, bool dotfiles);
/* Closes the files still being sent; their responses are left to the relay's timeout. */
void http_files_free(struct http_files *f);

/* Answers one request: GET/HEAD of a file, 404, 405... Large files are streamed. */
void http_files_serve(struct http_files *f, const azr_http_request_event *ev);
/* on_http_ready_to_send: continues the stream of that request. */
void http_files_ready(struct http_files *f, azr_conn_id request_id);
/* Call now and then (every few hundred ms): retries blocked streams, drops those whose request the
 * listener no longer knows (expired, rendezvous closed). */
void http_files_tick(struct http_files *f);

/* Maps a request target "/{hc}/a%20b?q" to the decoded path after the hybrid connection ("/a b")
 * in out. Returns 0, or the HTTP status to answer: 404 for another hybrid connection, a ".."
 * segment or an encoded NUL; 400 for a malformed escape; 414 when out is too small. */
int http_files_target_path(const char *target, const char *hc, char *out, size_t out_len);
/* Content-Type for a file name, by extension (application/octet-stream when unknown). */
const char *http_files_content_type(const char *name);

#endif
