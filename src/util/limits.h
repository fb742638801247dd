/* SPDX-License-Identifier: MIT */
/* Every cap on peer-controlled sizes, in one place. */
#ifndef AZR_UTIL_LIMITS_H
#define AZR_UTIL_LIMITS_H

/* An HTTP request or response head (request line + headers); the service allows 32 KiB metadata. */
#define AZR_MAX_HTTP_HEAD (32u * 1024u)
/* Headers in one HTTP head. */
#define AZR_MAX_HTTP_HEADERS 128u
/* A control-channel JSON command (the .NET SDK reads them into a fixed 64 KiB buffer). */
#define AZR_MAX_CONTROL_MSG (64u * 1024u)
/* A request or response body carried on the control channel. */
#define AZR_MAX_CONTROL_BODY (64u * 1024u)
/* A WebSocket control frame payload (RFC 6455). */
#define AZR_MAX_WS_CONTROL_PAYLOAD 125u
/* SAS key and key-name length, as the SDKs check them. */
#define AZR_MAX_SAS_KEY 256u
/* A whole SAS or JWT token. */
#define AZR_MAX_TOKEN (8u * 1024u)
/* A connection string. */
#define AZR_MAX_CONNSTR (16u * 1024u)
/* A URL built or parsed by the library. */
#define AZR_MAX_URL (16u * 1024u)

#endif
