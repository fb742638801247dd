/* SPDX-License-Identifier: MIT */
/* The transports a stream can run on (internal to io/). */
#ifndef AZR_IO_TRANSPORTS_H
#define AZR_IO_TRANSPORTS_H

#include "io/stream.h"

/* Plain TCP on a socket the stream owns. */
extern const struct azr__stream_transport azr__transport_tcp;
/* TLS server on an accepted socket fd: creates the SSL object. */
int azr__transport_tls_server_attach(struct azr__stream *s, struct azr__tls_server *tls, int fd);
/* Maps an errno value of a failed socket call to a status. */
int azr__status_from_errno(int err);

#endif
