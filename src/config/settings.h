/* SPDX-License-Identifier: MIT */
/* Every listener setting (the reference's properties and config settings, plus ours) in one struct,
 * described by one table (settings.c) that serves azr_listener_config(), the typed setters, the
 * CLI's --set option and docs/FEATURES.md. */
#ifndef AZR_CONFIG_SETTINGS_H
#define AZR_CONFIG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/connect.h"
#include "util/buf.h"
#include "util/mem.h"

struct azr__listener_settings {
  /* identity */
  char *namespace_address;   /* NamespaceAddress: "host" or "host:port" */
  char *hybrid_connection;   /* HybridConnection */
  char *access_key_name;     /* AccessKeyName */
  char *access_key;          /* AccessKey (secret) */
  char *sas_token;           /* a pre-issued token (secret), ours */
  bool use_development_emulator; /* plain ws:// on loopback (UseDevelopmentEmulator=true) */
  /* control channel */
  int token_validity_s;      /* TokenValidity (3600) */
  int auto_renew_threshold_s;/* AutoRenewThreshold (300) */
  char *diagnostic_id;       /* DiagnosticId: tracking GUID for sb-hc-id */
  int log_level;             /* LogLevel (1) */
  int keepalive_s;           /* AzureRelayKeepAliveTime (30): keep-alive frame after this much send silence */
  int ping_timeout_s;        /* AzureRelayPingTimeout (0): control channel pings and wants a reply, ours */
  int reconnect_first_ms;    /* ReconnectDelayFirstMs (1000), ours */
  int reconnect_max_ms;      /* ReconnectDelayMaxMs (30000), ours */
  bool retry_on_auth_error;  /* RetryOnAuthError (true): keep reconnecting after 401/403, ours */
  bool retry_on_not_found;   /* RetryOnNotFound (false): keep reconnecting after 404, ours */
  bool retry_on_startup_error; /* RetryOnStartupError (false): retry mistakes before first online, ours */
  int auth_error_delay_ms;   /* AuthErrorRetryDelayMs (30000): shortest wait after 401/403/404, ours */
  /* connections */
  bool buffer_message;       /* BufferMessage (false) */
  int64_t max_message_size;  /* MaxMessageSize (16 MiB): BufferMessage cap and per-message cap, ours */
  int disconnect_status_code;/* DisconnectStatusCode (1000) */
  char *disconnect_status_description; /* DisconnectStatusDescription */
  int max_frame_size;        /* MaxFrameSize (131072) */
  bool wait_for_close_response; /* WaitForCloseResponse (true) */
  int close_timeout_s;          /* CloseTimeout (5), ours: wait for the peer's Close, from its last bytes */
  char *allowed_clients;     /* AllowedClients ("*") */
  char *blocked_clients;     /* BlockedClients ("") */
  int max_connections;       /* MaxConnections (1000; 0 = no limit) */
  int max_http_requests;     /* MaxHttpRequests (1000; 0 = no limit), ours */
  int default_timeout_s;     /* DefaultTimeout (0) */
  int64_t send_queue_size;   /* SendQueueSize: cap of each connection's send queue (4 MiB), ours */
  /* forwarding */
  char *forwarding_host;     /* ForwardingHost */
  int forwarding_port;       /* ForwardingPort */
  int forwarding_mode;       /* ForwardingMode: 0 raw bytes, 1 azbridge preamble, ours */
  char *forwarding_ports;    /* ForwardingPorts: "name=host:port,..." for azbridge mode, ours */
  /* transport: mapped onto azr__connect_options by azr__settings_connect_options() */
  char *local_host;          /* LocalHost */
  int ip_version;            /* UseIPv6: 0 any, 4, 6 */
  int connect_timeout_ms;    /* ConnectTimeoutMs (30000), ours */
  int tcp_keepalive_time_ms; /* KeepAliveTime (60000; 0 = off) */
  int tcp_keepalive_interval_ms; /* KeepAliveInterval (10000) */
  int tcp_keepalive_count;   /* KeepAliveRetryCount (6) */
  int so_rcvbuf;             /* InBufferSize (0 = kernel autotuning) */
  int so_sndbuf;             /* OutBufferSize (0 = kernel autotuning) */
  char *ca_file;             /* OpenSSLCAFile / SSLCACertFilePaths */
  char *ca_dir;              /* OpenSSLCADir */
  char *server_ca_certs;     /* SSLServerCACerts: PEM text */
  char *accept_server_cert;  /* SSLAcceptServerCertEncoded: PEM of a server cert to accept, or "*" */
  char *client_cert;         /* SSLCertStore (file) */
  char *client_cert_type;    /* SSLCertStoreType */
  char *client_cert_password;/* SSLCertStorePassword (secret) */
  char *cipher_list;         /* OpenSSLCipherList */
  char *tls13_ciphers;       /* SSLEnabledCipherSuites (TLS 1.3 names) */
  char *curves;              /* TLS13SupportedGroups / TLS12SupportedGroups */
  int enabled_protocols;     /* SSLEnabledProtocols bit mask (reference values) */
  char *client_chain;        /* SSLCACerts: PEM certificates sent after the client certificate */
  int min_cipher_bits;       /* SSLCipherStrength (0 = any) */
  bool allow_renegotiation;  /* SSLEnableRenegotiation (true) */
  bool include_cert_chain;   /* SSLIncludeCertChain (false) */
  char *keylog_file;         /* SSLKeyLogFile */
  char *sigalgs12;           /* TLS12SignatureAlgorithms, as given */
  char *sigalgs13;           /* TLS13SignatureAlgorithms, as given */
  char *sigalgs;             /* both, in OpenSSL's syntax (derived when either is set) */
  int security_flags;        /* SSLSecurityFlags */
  bool reuse_ssl_session;    /* ReuseSSLSession (true) */
  /* proxy and firewall */
  char *proxy_server;        /* ProxyServer */
  int proxy_port;            /* ProxyPort (80) */
  char *proxy_user;          /* ProxyUser */
  char *proxy_password;      /* ProxyPassword (secret) */
  int proxy_auth_scheme;     /* ProxyAuthScheme: 0 basic, 1 digest, 2 proprietary, 3 none, 4 ntlm, 5 negotiate */
  int proxy_ssl;             /* ProxySSL: 0 automatic, 1 always, 2 never, 3 tunnel */
  bool proxy_auto_detect;    /* ProxyAutoDetect: honour *_proxy environment variables */
  int firewall_type;         /* FirewallType: 0 none, 1 tunnel, 2 SOCKS4, 3 SOCKS5, 10 SOCKS4A */
  char *firewall_host;       /* FirewallHost */
  int firewall_port;         /* FirewallPort */
  char *firewall_user;       /* FirewallUser */
  char *firewall_password;   /* FirewallPassword (secret) */
  bool firewall_auto_detect; /* FirewallAutoDetect */
};

void azr__settings_init(struct azr__listener_settings *s);
void azr__settings_free(const struct azr__mem *mem, struct azr__listener_settings *s);

/* Where a setting is changed from: some settings cannot change while listening. */
struct azr__settings_context {
  bool listening;
};

/* "Name=Value" (case-insensitive name). AZR_E_NOT_FOUND for unknown names (also indexed
 * "Name[id]" ones, which the listener handles itself), AZR_E_INVALID_ARG for bad values,
 * AZR_E_BAD_STATE when it cannot change now, AZR_E_UNSUPPORTED with *why for settings that do not
 * apply on this platform. err receives a message. */
int azr__settings_set(const struct azr__mem *mem, struct azr__listener_settings *s,
                      const struct azr__settings_context *ctx, const char *name, size_t name_len, const char *value,
                      char *err, size_t err_len);
/* Current value as text (secrets read back empty). */
int azr__settings_get(const struct azr__listener_settings *s, const char *name, struct azr__buf *out);

/* ForwardingMode values. */
enum { AZR__FORWARDING_RAW = 0, AZR__FORWARDING_AZBRIDGE = 1 };

/* One logical port of ForwardingPorts. */
struct azr__forwarding_port {
  char name[256]; /* azbridge port name: 1..255 bytes of [0-9A-Za-z/_.-] */
  char host[256]; /* brackets of an IPv6 literal removed */
  uint16_t port;  /* 1..65535 */
};

/* Parses a ForwardingPorts value, "name=host:port[,name2=host:port]" (blanks around items ignored,
 * IPv6 hosts in brackets), into out[0..cap). *count gets the number of entries; an empty value
 * gives 0. AZR_E_INVALID_ARG with a sentence in err for a malformed item, a bad or duplicate name,
 * a bad port, or more than cap entries. */
int azr__settings_forwarding_ports_parse(const char *text, struct azr__forwarding_port *out, size_t cap,
                                         size_t *count, char *err, size_t err_len);

/* Transport options for the relay connections, from the TLS, proxy, firewall and socket settings.
 * Strings point into s (valid while s is unchanged). */
/* Applies a portal connection string (proto/connstr.h) as NamespaceAddress, HybridConnection
 * (EntityPath), AccessKeyName/AccessKey or SasToken, and UseDevelopmentEmulator. On failure err
 * holds a sentence without the connection string's values. */
int azr__settings_apply_connection_string(const struct azr__mem *mem, struct azr__listener_settings *s,
                                          const struct azr__settings_context *ctx, const char *text, char *err,
                                          size_t err_len);

void azr__settings_connect_options(const struct azr__listener_settings *s, struct azr__connect_options *o);
/* The control channel's TCP_USER_TIMEOUT: the time TCP keep-alive needs to give up on a silent peer
 * (KeepAliveTime + KeepAliveInterval * KeepAliveRetryCount), so a dead relay is noticed as soon as
 * TCP would notice it on an idle socket, also while keep-alive frames wait unacknowledged; 0 when TCP
 * keep-alive is off. */
unsigned azr__settings_control_user_timeout_ms(const struct azr__listener_settings *s);
struct azr__ws_options;
/* WebSocket options every connection of a listener or client shares: message and frame sizes,
 * queue cap, close handshake, set-up timeout and keep-alive (AzureRelayKeepAliveTime). */
void azr__settings_ws_options(const struct azr__listener_settings *s, struct azr__ws_options *o);

#endif
