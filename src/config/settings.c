/* SPDX-License-Identifier: MIT */
/* The listener settings table and the engine that reads, validates and stores settings by name.
 * One row per property and config setting of the reference, plus ours; the transport-related
 * conversions (certificates, cipher suites, groups, proxies) live in settings_transport.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "config/settings.h"
#include "proto/connstr.h"
#include "config/settings_hooks.h"
#include "config/settings_table.h"
#include "proto/access_list.h"
#include "util/limits.h"
#include "util/str.h"
#include "util/utf8.h"

#define OFF(f) offsetof(struct azr__listener_settings, f)
#define NO_FIELD SIZE_MAX
#define ROW(name, type, flags, off, min, max, def, values, desc) .d = {name, type, flags, off, min, max, def, values, desc}

/* Short names for the table. */
#define T_BOOL AZR__SETTING_BOOL
#define T_INT AZR__SETTING_INT
#define T_I64 AZR__SETTING_INT64
#define T_ENUM AZR__SETTING_ENUM
#define T_FLAGS AZR__SETTING_FLAGS
#define T_STR AZR__SETTING_STRING
#define PROP AZR__SETTING_PROPERTY
#define OURS AZR__SETTING_OURS
#define SECRET AZR__SETTING_SECRET
#define RO AZR__SETTING_READ_ONLY
#define FIXED AZR__SETTING_NO_CHANGE_LISTENING
#define NA AZR__SETTING_NOT_APPLICABLE
#define LST (AZR__SETTING_HANDLED_BY_LISTENER | AZR__SETTING_INDEXED)
#define LST1 AZR__SETTING_HANDLED_BY_LISTENER
#define ML AZR__SETTING_MULTILINE

#define HOST_MAX 1024
#define PATH_MAX_LEN 4096
#define PEM_MAX (1024 * 1024)
#define LIST_MAX (64 * 1024)

static int check_no_blank(struct azr__settings_call *c, const char *v, int64_t n);
static int check_guid(struct azr__settings_call *c, const char *v, int64_t n);
static int check_close_code(struct azr__settings_call *c, const char *v, int64_t n);
static int check_access_list(struct azr__settings_call *c, const char *v, int64_t n);

static const struct azr__settings_entry table[] = {
    /* ---- properties ---- */
    {ROW("AccessKey", T_STR, PROP | SECRET, OFF(access_key), 0, AZR_MAX_SAS_KEY, "", NULL,
         "Shared access key of the policy; may change while listening (used from the next token renewal).")},
    {ROW("AccessKeyName", T_STR, PROP, OFF(access_key_name), 0, AZR_MAX_SAS_KEY, "", NULL,
         "Name of the shared access policy, e.g. RootManageSharedAccessKey.")},
    {ROW("Connected", T_BOOL, PROP | RO | LST1, NO_FIELD, 0, 1, "false", NULL,
         "True while the control channel is open: azr_listener_is_connected().")},
    {ROW("AzureRelayConnectionCount", T_INT, PROP | RO | LST1, NO_FIELD, 0, 0, "0", NULL,
         "Connections open or being accepted: azr_listener_get_connection_count().")},
    {ROW("AzureRelayConnectionAcceptData", T_BOOL, PROP | LST, NO_FIELD, 0, 1, "true", NULL,
         "False pauses reading from the connection: azr_conn_pause() / azr_conn_resume().")},
    {ROW("AzureRelayConnectionAddress", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "Rendezvous URL of the connection: azr_conn_info.address.")},
    {ROW("AzureRelayConnectionBytesSent", T_I64, PROP | RO | LST, NO_FIELD, 0, 0, "0", NULL,
         "Bytes queued by the last send: azr_conn_info.bytes_sent.")},
    {ROW("AzureRelayConnectionConnected", T_BOOL, PROP | LST, NO_FIELD, 0, 1, "false", NULL,
         "Connection state; false closes it: azr_conn_info.connected, azr_conn_disconnect().")},
    {ROW("AzureRelayConnectionConnectHeaders", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "The sender's handshake headers as a JSON object: azr_conn_info.connect_headers.")},
    {ROW("AzureRelayConnectionConnectionId", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "Identifier of the connection: azr_conn_info.id.")},
    {ROW("AzureRelayConnectionDataFormat", T_ENUM, PROP | LST, NO_FIELD, 0, 10, "0",
         "0 automatic, 1 text, 2 binary, 9 ping, 10 pong", "Format of sent data: azr_conn_set_data_format().")},
    {ROW("AzureRelayConnectionDataToSend", T_STR, PROP | LST, NO_FIELD, 0, 0, "", NULL,
         "Write-only: sends the data: azr_conn_send().")},
    {ROW("AzureRelayConnectionExtensions", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "WebSocket extensions offered by the sender: azr_conn_info.extensions.")},
    {ROW("AzureRelayConnectionHost", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "Host header of the sender: azr_conn_info.host.")},
    {ROW("AzureRelayConnectionId", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "The relay's id of the connection: azr_conn_info.relay_id.")},
    {ROW("AzureRelayConnectionReadyToSend", T_BOOL, PROP | RO | LST, NO_FIELD, 0, 1, "false", NULL,
         "The send queue has room: azr_conn_info.ready_to_send.")},
    {ROW("AzureRelayConnectionRemoteAddress", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "IP address of the sender: azr_conn_info.remote_address.")},
    {ROW("AzureRelayConnectionRemotePort", T_INT, PROP | RO | LST, NO_FIELD, 0, 0, "0", NULL,
         "Port of the sender: azr_conn_info.remote_port.")},
    {ROW("AzureRelayConnectionSubProtocols", T_STR, PROP | RO | LST, NO_FIELD, 0, 0, "", NULL,
         "Sub-protocols offered by the sender: azr_conn_info.sub_protocols.")},
    {ROW("AzureRelayConnectionTimeout", T_INT, PROP | LST, NO_FIELD, 0, 0, "0", NULL,
         "Send timeout in seconds, 0 = asynchronous: azr_conn_set_timeout().")},
    {ROW("DefaultTimeout", T_INT, PROP, OFF(default_timeout_s), 0, 2147483, "0", NULL,
         "Timeout (seconds) given to each new connection; 0 = asynchronous sends.")},
    {ROW("FirewallAutoDetect", T_BOOL, PROP, OFF(firewall_auto_detect), 0, 1, "false", NULL,
         "Use the proxy named by the http_proxy/https_proxy/all_proxy environment variables (with no_proxy).")},
    {ROW("FirewallType", T_ENUM, PROP, OFF(firewall_type), 0, 10, "0",
         "0 none, 1 tunnel, 2 SOCKS4, 3 SOCKS5, 10 SOCKS4A",
         "Firewall to connect through; setting it sets FirewallPort to 80 (tunnel) or 1080 (SOCKS)."),
     .set = azr__settings_set_firewall_type},
    {ROW("FirewallHost", T_STR, PROP, OFF(firewall_host), 0, HOST_MAX, "", NULL, "Name or address of the firewall.")},
    {ROW("FirewallPassword", T_STR, PROP | SECRET, OFF(firewall_password), 0, HOST_MAX, "", NULL,
         "Password for the firewall.")},
    {ROW("FirewallPort", T_INT, PROP, OFF(firewall_port), 0, 65535, "0", NULL,
         "TCP port of the firewall (0 = 80 for a tunnel, 1080 for SOCKS).")},
    {ROW("FirewallUser", T_STR, PROP, OFF(firewall_user), 0, HOST_MAX, "", NULL, "User name for the firewall.")},
    {ROW("ForwardingHost", T_STR, PROP, OFF(forwarding_host), 0, HOST_MAX, "", NULL,
         "Host to which every accepted connection is forwarded (with ForwardingPort).")},
    {ROW("ForwardingPort", T_INT, PROP, OFF(forwarding_port), 0, 65535, "0", NULL,
         "Port to which every accepted connection is forwarded (with ForwardingHost).")},
    {ROW("HybridConnection", T_STR, PROP | FIXED, OFF(hybrid_connection), 0, HOST_MAX, "", NULL,
         "Name (path) of the hybrid connection, e.g. hc1.")},
    {ROW("Listening", T_BOOL, PROP | RO | LST1, NO_FIELD, 0, 1, "false", NULL,
         "True between azr_listener_start() and azr_listener_stop(): azr_listener_is_listening().")},
    {ROW("LocalHost", T_STR, PROP, OFF(local_host), 0, HOST_MAX, "", NULL,
         "Interface name, IP address or host name to connect from.")},
    {ROW("NamespaceAddress", T_STR, PROP | FIXED, OFF(namespace_address), 0, 299, "", NULL,
         "Host name of the relay namespace, optionally with :port, e.g. myrelay.servicebus.windows.net."),
     .check = check_no_blank},
    {ROW("ProxyAuthScheme", T_ENUM, PROP, OFF(proxy_auth_scheme), 0, 5, "0",
         "0 basic, 1 digest, 2 proprietary, 3 none, 4 NTLM, 5 negotiate",
         "Proxy authentication; changing it clears ProxyUser and ProxyPassword, as the reference does."),
     .set = azr__settings_set_proxy_auth_scheme},
    {ROW("ProxyAutoDetect", T_BOOL, PROP, OFF(proxy_auto_detect), 0, 1, "false", NULL,
         "Use the proxy named by the http_proxy/https_proxy/all_proxy environment variables (with no_proxy).")},
    {ROW("ProxyPassword", T_STR, PROP | SECRET, OFF(proxy_password), 0, HOST_MAX, "", NULL,
         "Password for the proxy.")},
    {ROW("ProxyPort", T_INT, PROP, OFF(proxy_port), 0, 65535, "80", NULL, "TCP port of the proxy.")},
    {ROW("ProxyServer", T_STR, PROP, OFF(proxy_server), 0, HOST_MAX, "", NULL,
         "HTTP proxy (CONNECT tunnel) to reach the relay through.")},
    {ROW("ProxySSL", T_ENUM, PROP, OFF(proxy_ssl), 0, 3, "0", "0 automatic, 1 always, 2 never, 3 tunnel",
         "1 = TLS to the proxy itself (HTTPS proxy); the others use a plain CONNECT tunnel.")},
    {ROW("ProxyUser", T_STR, PROP, OFF(proxy_user), 0, HOST_MAX, "", NULL, "User name for the proxy.")},
    {ROW("SSLAcceptServerCertEncoded", T_STR, PROP | ML, OFF(accept_server_cert), 0, PEM_MAX, "", NULL,
         "PEM or base64 DER certificate(s) accepted as the relay's without chain or name checks (pinned by "
         "public key); \"*\" accepts any certificate (tests only)."),
     .set = azr__settings_set_accept_server_cert},
    {ROW("SSLCertEncoded", T_STR, PROP | NA, NO_FIELD, 0, 0, NULL, NULL,
         "client certificates are loaded from a file: name a PKCS#12 or PEM file in SSLCertStore")},
    {ROW("SSLCertStore", T_STR, PROP, OFF(client_cert), 0, PATH_MAX_LEN, "", NULL,
         "File holding the TLS client certificate and key (PKCS#12 or PEM; the reference's default \"MY\" "
         "names a Windows store).")},
    {ROW("SSLCertStorePassword", T_STR, PROP | SECRET, OFF(client_cert_password), 0, HOST_MAX, "", NULL,
         "Password of the SSLCertStore file.")},
    {ROW("SSLCertStoreType", T_ENUM, PROP, OFF(client_cert_type), 0, 99, "99",
         "2 PFXFile, 6 PEMKeyFile, 99 Auto",
         "Format of the SSLCertStore file; Auto picks PKCS#12 for .pfx/.p12 names, else PEM."),
     .set = azr__settings_set_cert_store_type, .get = azr__settings_get_cert_store_type},
    {ROW("SSLCertSubject", T_STR, PROP | NA, NO_FIELD, 0, 0, "", NULL,
         "no certificate store is searched: the SSLCertStore file holds the one client certificate "
         "(\"\" and \"*\" are accepted)"),
     .set = azr__settings_set_cert_subject},
    {ROW("SSLProvider", T_ENUM, PROP | NA, NO_FIELD, 0, 1, "0", "0 automatic, 1 platform",
         "TLS is always the system OpenSSL through libcurl (0 and 1 are accepted; the internal provider 2 "
         "does not exist here)")},
    {ROW("SSLServerCertEncoded", T_STR, PROP | RO | LST1, NO_FIELD, 0, 0, "", NULL,
         "The relay's certificate (PEM) on the control channel; also in on_ssl_server_authentication.")},

    /* ---- config settings: AzureRelayReceiver ---- */
    {ROW("AccessToken", T_STR, RO | LST1, NO_FIELD, 0, 0, "", NULL,
         "A fresh SAS token for the hybrid connection, usable as an HTTP Authorization header value.")},
    {ROW("AutoRenewThreshold", T_INT, 0, OFF(auto_renew_threshold_s), 0, INT_MAX, "300", NULL,
         "Renew the token when this many seconds of validity remain (halfway if it is the whole lifetime).")},
    {ROW("AzureRelayKeepAliveTime", T_INT, 0, OFF(keepalive_s), 0, 86400, "30", NULL,
         "Seconds without sending on a WebSocket (control channel, connections, HTTP rendezvous, clients) "
         "before an unsolicited Pong goes out, so no load balancer or proxy sees the flow idle; 0 = off.")},
    {ROW("DiagnosticId", T_STR, FIXED, OFF(diagnostic_id), 0, 36, "", NULL,
         "GUID sent as the control channel's tracking id (sb-hc-id); empty = a random one."),
     .check = check_guid},
    {ROW("LogLevel", T_ENUM, 0, OFF(log_level), 0, 3, "1", "0 none, 1 info, 2 verbose, 3 debug",
         "Detail of the log sink set with azr_listener_set_log().")},
    {ROW("TokenValidity", T_INT, 0, OFF(token_validity_s), 1, INT_MAX, "3600", NULL,
         "Lifetime in seconds of the SAS tokens the listener creates.")},

    /* ---- config settings: WebSocketServer ---- */
    {ROW("BufferMessage", T_BOOL, 0, OFF(buffer_message), 0, 1, "false", NULL,
         "Deliver whole messages (up to MaxMessageSize) in one on_connection_data_in instead of fragments.")},
    {ROW("DisconnectStatusCode", T_INT, 0, OFF(disconnect_status_code), 1000, 4999, "1000", NULL,
         "WebSocket close code sent by azr_conn_disconnect() (1000-1003, 1007-1014, 3000-4999)."),
     .check = check_close_code},
    {ROW("DisconnectStatusDescription", T_STR, 0, OFF(disconnect_status_description), 0, 123, "", NULL,
         "Close reason sent with DisconnectStatusCode (at most 123 bytes of UTF-8).")},
    {ROW("MaxFrameSize", T_INT, 0, OFF(max_frame_size), 1, 16777216, "131072", NULL,
         "Largest outgoing frame payload; longer messages are fragmented.")},
    {ROW("MessageLength", T_I64, LST, NO_FIELD, 0, 0, "0", NULL,
         "MessageLength[ConnectionId]: the next N bytes sent form one message: azr_conn_set_message_length().")},
    {ROW("WaitForCloseResponse", T_BOOL, 0, OFF(wait_for_close_response), 0, 1, "true", NULL,
         "Wait for the peer's Close frame before dropping a connection we close.")},

    /* ---- config settings: TCPServer ---- */
    {ROW("AllowedClients", T_STR, 0, OFF(allowed_clients), 0, LIST_MAX, "*", NULL,
         "Comma-separated addresses, wildcards (*, ?) or CIDR blocks that may connect; \"\" allows none."),
     .check = check_access_list},
    {ROW("BindExclusively", T_BOOL, NA, NO_FIELD, 0, 1, NULL, NULL,
         "the listener binds no local port: it only makes outbound connections")},
    {ROW("BlockedClients", T_STR, 0, OFF(blocked_clients), 0, LIST_MAX, "", NULL,
         "Comma-separated addresses, wildcards (*, ?) or CIDR blocks that are rejected with 403."),
     .check = check_access_list},
    {ROW("ConnectionUID", T_I64, RO | LST, NO_FIELD, 0, 0, "0", NULL,
         "ConnectionUID[ConnectionId]: ids are never reused, so it equals the ConnectionId (0 if unknown).")},
    {ROW("DefaultConnectionTimeout", T_INT, NA, NO_FIELD, 0, 0, NULL, NULL,
         "the listener accepts no incoming TLS handshakes; its own handshakes are bounded by ConnectTimeoutMs")},
    {ROW("InBufferSize", T_INT, 0, OFF(so_rcvbuf), 0, 64 * 1024 * 1024, "0", NULL,
         "Bytes of the socket receive buffer (SO_RCVBUF) of each relay connection; 0 = the kernel's autotuning, "
         "which usually does better.")},
    {ROW("KeepAliveInterval", T_INT, 0, OFF(tcp_keepalive_interval_ms), 0, INT_MAX, "10000", NULL,
         "Milliseconds between unanswered TCP keep-alive probes (rounded up to seconds); 0 = KeepAliveTime.")},
    {ROW("KeepAliveRetryCount", T_INT, 0, OFF(tcp_keepalive_count), 1, 127, "6", NULL,
         "Unanswered TCP keep-alive probes before the peer counts as gone (TCP_KEEPCNT).")},
    {ROW("KeepAliveTime", T_INT, 0, OFF(tcp_keepalive_time_ms), 0, INT_MAX, "60000", NULL,
         "Milliseconds of idleness before TCP keep-alive probes (rounded up to seconds); 0 = off.")},
    {ROW("MaxConnections", T_INT, FIXED, OFF(max_connections), 0, 100000, "1000", NULL,
         "Most connections at once (accepted, being accepted or awaiting a decision); more are offered with "
         "accept = false and status 503; 0 = no limit.")},
    {ROW("MaxReadTime", T_INT, NA, NO_FIELD, 0, 0, NULL, NULL,
         "each connection gets a bounded number of reads per loop iteration, so none can monopolize the loop")},
    {ROW("OutBufferSize", T_INT, 0, OFF(so_sndbuf), 0, 64 * 1024 * 1024, "0", NULL,
         "Bytes of the socket send buffer (SO_SNDBUF) of each relay connection; 0 = the kernel's autotuning. "
         "The queue in front of it is SendQueueSize.")},
    {ROW("TcpNoDelay", T_BOOL, NA, NO_FIELD, 0, 1, "true", NULL,
         "libcurl always disables Nagle's algorithm on relay connections (only true is accepted)")},
    {ROW("UseIOCP", T_BOOL, NA, NO_FIELD, 0, 1, "false", NULL,
         "completion ports are Windows-only; azrelay runs on libuv (epoll); only false is accepted")},
    {ROW("UseIPv6", T_ENUM, 0, OFF(ip_version), 0, 2, "2", "0 IPv4 only, 1 IPv6 only, 2 both",
         "Address families used to reach the relay (default both, unlike the reference's IPv4 only)."),
     .set = azr__settings_set_ip_version, .get = azr__settings_get_ip_version},
    {ROW("UseWindowsMessages", T_BOOL, NA, NO_FIELD, 0, 1, "false", NULL,
         "window messages are Windows-only; only false is accepted")},

    /* ---- config settings: SSL ---- */
    {ROW("LogSSLPackets", T_BOOL, NA, NO_FIELD, 0, 1, "false", NULL,
         "packet logging belongs to the reference's internal TLS stack; only false is accepted")},
    {ROW("OpenSSLCADir", T_STR, 0, OFF(ca_dir), 0, PATH_MAX_LEN, "", NULL,
         "Directory of hashed CA certificates (c_rehash) trusted for the relay.")},
    {ROW("OpenSSLCAFile", T_STR, 0, OFF(ca_file), 0, PATH_MAX_LEN, "", NULL,
         "PEM file of CA certificates trusted for the relay (instead of the system store).")},
    {ROW("OpenSSLCipherList", T_STR, 0, OFF(cipher_list), 0, LIST_MAX, "", NULL,
         "OpenSSL cipher list for TLS 1.2 and below, e.g. ECDHE+AESGCM.")},
    {ROW("OpenSSLPrngSeedData", T_STR, NA, NO_FIELD, 0, 0, NULL, NULL,
         "OpenSSL 3 seeds its random generator from the operating system")},
    {ROW("ReuseSSLSession", T_BOOL, 0, OFF(reuse_ssl_session), 0, 1, "true", NULL,
         "Resume TLS sessions with the relay when possible.")},
    {ROW("SSLCACertFilePaths", T_STR, 0, OFF(ca_file), 0, LIST_MAX, "", NULL,
         "Semicolon-separated CA files; the first readable one becomes OpenSSLCAFile."),
     .set = azr__settings_set_ca_file_paths},
    {ROW("SSLCACerts", T_STR, ML, OFF(client_chain), 0, PEM_MAX, "", NULL,
         "PEM certificates (intermediates, CA) sent after the client certificate, for servers that want the "
         "whole chain."),
     .check = azr__settings_check_pem_certs},
    {ROW("SSLCipherStrength", T_INT, 0, OFF(min_cipher_bits), 0, 512, "0", NULL,
         "Least bulk-cipher strength in bits a handshake may settle on (e.g. 256 refuses AES-128); 0 = any.")},
    {ROW("SSLEnabledCipherSuites", T_STR, 0, OFF(tls13_ciphers), 0, LIST_MAX, "*", NULL,
         "Cipher suites by IANA or OpenSSL name, ';'-separated; \"*\" = library default. Setting it "
         "replaces OpenSSLCipherList."),
     .set = azr__settings_set_cipher_suites, .get = azr__settings_get_cipher_suites},
    {ROW("SSLEnabledProtocols", T_FLAGS, 0, OFF(enabled_protocols), 0, 0xFFFF, "15360", NULL,
         "TLS versions: 0xC0 TLS 1.0, 0x300 TLS 1.1, 0xC00 TLS 1.2, 0x3000 TLS 1.3 (contiguous); default "
         "TLS 1.2 and 1.3."),
     .check = azr__settings_check_protocols},
    {ROW("SSLEnableRenegotiation", T_BOOL, 0, OFF(allow_renegotiation), 0, 1, "true", NULL,
         "Accept a TLS 1.2 server's secure renegotiation (renegotiation_info is always sent); false refuses it.")},
    {ROW("SSLIncludeCertChain", T_BOOL, 0, OFF(include_cert_chain), 0, 1, "false", NULL,
         "on_ssl_server_authentication's cert_pem holds the whole verified chain (leaf first) instead of the leaf.")},
    {ROW("SSLKeyLogFile", T_STR, 0, OFF(keylog_file), 0, PATH_MAX_LEN, "", NULL,
         "File the TLS session secrets are appended to (SSLKEYLOGFILE format), for Wireshark; debugging only.")},
    {ROW("SSLNegotiatedCipher", T_STR, RO | LST1, NO_FIELD, 0, 0, "", NULL,
         "Negotiated cipher of the control channel, or of a connection with [ConnectionId].")},
    {ROW("SSLNegotiatedCipherStrength", T_INT, RO | LST1, NO_FIELD, 0, 0, "0", NULL,
         "Bits of the negotiated cipher (control channel, or [ConnectionId]).")},
    {ROW("SSLNegotiatedCipherSuite", T_STR, RO | LST1, NO_FIELD, 0, 0, "", NULL,
         "Negotiated cipher suite as one string (control channel, or [ConnectionId]).")},
    {ROW("SSLNegotiatedKeyExchange", T_STR, RO | LST1, NO_FIELD, 0, 0, "", NULL,
         "Negotiated key exchange (control channel, or [ConnectionId]).")},
    {ROW("SSLNegotiatedKeyExchangeStrength", T_INT, RO | LST1, NO_FIELD, 0, 0, "0", NULL,
         "Bits of the negotiated key exchange (control channel, or [ConnectionId]).")},
    {ROW("SSLNegotiatedVersion", T_STR, RO | LST1, NO_FIELD, 0, 0, "", NULL,
         "Negotiated TLS version (control channel, or [ConnectionId]).")},
    {ROW("SSLSecurityFlags", T_FLAGS, 0, OFF(security_flags), 0, UINT32_MAX, "0", NULL,
         "0x10 skips chain verification, 0x80000000 skips the host name check; other bits do not apply."),
     .check = azr__settings_check_security_flags},
    {ROW("SSLServerCACerts", T_STR, ML, OFF(server_ca_certs), 0, PEM_MAX, "", NULL,
         "PEM CA certificates trusted for the relay in addition to OpenSSLCAFile / the system store."),
     .check = azr__settings_check_pem_certs},
    {ROW("TLS12SignatureAlgorithms", T_STR, 0, OFF(sigalgs12), 0, LIST_MAX, "", NULL,
         "Signature algorithms allowed for TLS 1.2 as hash-signature pairs, e.g. sha256-ecdsa,sha256-rsa; empty = "
         "OpenSSL's defaults."),
     .set = azr__settings_set_sigalgs},
    {ROW("TLS12SupportedGroups", T_STR, 0, OFF(curves), 0, LIST_MAX, "", NULL,
         "Groups for key exchange, e.g. ecdhe_x25519,ecdhe_secp256r1; shared with TLS13SupportedGroups."),
     .set = azr__settings_set_groups, .get = azr__settings_get_groups},
    {ROW("TLS13KeyShareGroups", T_STR, NA, NO_FIELD, 0, 0, NULL, NULL,
         "OpenSSL sends a key share for the first group of TLS13SupportedGroups: order that list instead")},
    {ROW("TLS13SignatureAlgorithms", T_STR, 0, OFF(sigalgs13), 0, LIST_MAX, "", NULL,
         "Signature algorithms allowed for TLS 1.3 by IANA name, e.g. ecdsa_secp256r1_sha256,rsa_pss_rsae_sha256; "
         "empty = OpenSSL's defaults."),
     .set = azr__settings_set_sigalgs},
    {ROW("TLS13SupportedGroups", T_STR, 0, OFF(curves), 0, LIST_MAX, "", NULL,
         "Groups for key exchange, most preferred first; shared with TLS12SupportedGroups. Empty: X25519, P-384, "
         "P-256, P-521, and once a relay has chosen another group than X25519 (Azure: P-384) that one first."),
     .set = azr__settings_set_groups, .get = azr__settings_get_groups},

    /* ---- azrelay's own ---- */
    {ROW("SasToken", T_STR, OURS | SECRET, OFF(sas_token), 0, AZR_MAX_TOKEN, "", NULL,
         "A pre-issued token used instead of AccessKeyName/AccessKey; may change while listening.")},
    {ROW("UseDevelopmentEmulator", T_BOOL, OURS | FIXED, OFF(use_development_emulator), 0, 1, "false", NULL,
         "Plain ws:// to a local emulator instead of wss://.")},
    {ROW("CloseTimeout", T_INT, OURS, OFF(close_timeout_s), 1, 86400, "5", NULL,
         "Seconds to wait for the peer's Close after ours, counted from the last bytes the peer sent "
         "(a half-closed stream may still be relaying its answer); then the connection is dropped.")},
    {ROW("AzureRelayPingTimeout", T_INT, OURS, OFF(ping_timeout_s), 0, 86400, "0", NULL,
         "Seconds; > 0 makes the control channel's keep-alive frame a Ping and reconnects when nothing "
         "arrives within this long after it (a relay that went silent behind a proxy); 0 = Pongs only.")},
    {ROW("ReconnectDelayFirstMs", T_INT, OURS, OFF(reconnect_first_ms), 1, 3600000, "1000", NULL,
         "Delay before the second reconnect attempt (the first is immediate); doubles per attempt, +-20%.")},
    {ROW("ReconnectDelayMaxMs", T_INT, OURS, OFF(reconnect_max_ms), 1, 86400000, "30000", NULL,
         "Longest delay between reconnect attempts.")},
    {ROW("RetryOnAuthError", T_BOOL, OURS, OFF(retry_on_auth_error), 0, 1, "true", NULL,
         "After the listener was online: keep reconnecting when the relay refuses the credentials "
         "(401/403, e.g. while keys rotate); false stops listening.")},
    {ROW("RetryOnNotFound", T_BOOL, OURS, OFF(retry_on_not_found), 0, 1, "false", NULL,
         "After the listener was online: keep reconnecting after 404 (the hybrid connection was deleted); "
         "false (default) stops listening, as .NET does.")},
    {ROW("RetryOnStartupError", T_BOOL, OURS, OFF(retry_on_startup_error), 0, 1, "false", NULL,
         "Before the listener was ever online, 401/403, 404, an unverifiable certificate, unloadable TLS "
         "credentials or an unknown host stop listening at once (false, default) or are all retried until "
         "the first open succeeds (true).")},
    {ROW("AuthErrorRetryDelayMs", T_INT, OURS, OFF(auth_error_delay_ms), 0, 86400000, "30000", NULL,
         "Shortest wait before reconnecting after a 401, 403 or 404 answer.")},
    {ROW("SendQueueSize", T_I64, OURS, OFF(send_queue_size), 1024, (int64_t)1 << 30, "4194304", NULL,
         "Bytes a connection's send queue may hold before sends return AZR_E_WOULDBLOCK (10035).")},
    {ROW("MaxHttpRequests", T_INT, OURS, OFF(max_http_requests), 0, 100000, "1000", NULL,
         "Most HTTP requests in progress at once (received and not yet answered, or their rendezvous being "
         "opened); more are answered 503 on the control channel or not served; 0 = no limit.")},
    {ROW("MaxMessageSize", T_I64, OURS, OFF(max_message_size), 1024, (int64_t)1 << 40, "16777216", NULL,
         "Largest incoming message; bigger ones close the connection with 1009.")},
    {ROW("ConnectTimeoutMs", T_INT, OURS, OFF(connect_timeout_ms), 100, 3600000, "30000", NULL,
         "Limit for TCP, proxy and TLS set-up of each outbound connection.")},
    {ROW("ForwardingMode", T_ENUM, OURS, OFF(forwarding_mode), 0, 1, "0", "0 raw, 1 azbridge",
         "1 = every forwarded connection starts with azbridge's preamble naming a logical port "
         "(ForwardingPorts, else ForwardingHost/ForwardingPort); 0 = raw bytes.")},
    {ROW("ForwardingPorts", T_STR, OURS, OFF(forwarding_ports), 0, LIST_MAX, "", NULL,
         "azbridge mode: logical ports as name=host:port[,name2=host:port] (at most 64); checked when a "
         "connection names a port.")},
};

#define TABLE_LEN (sizeof table / sizeof table[0])

size_t azr__settings_count(void) { return TABLE_LEN; }

const struct azr__setting_desc *azr__settings_at(size_t i) { return i < TABLE_LEN ? &table[i].d : NULL; }

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The name without surrounding blanks. */
static struct azr__span trim_name(const char *name, size_t len) {
  while (len && blank(*name)) {
    name++;
    len--;
  }
  while (len && blank(name[len - 1])) len--;
  return (struct azr__span){name, len};
}

static const struct azr__settings_entry *find_entry(const char *name, size_t len) {
  struct azr__span t = trim_name(name, len);
  for (size_t i = 0; i < TABLE_LEN; i++) {
    const char *n = table[i].d.name;
    if (strlen(n) == t.len && strncasecmp(n, t.ptr, t.len) == 0) return &table[i];
  }
  return NULL;
}

const struct azr__setting_desc *azr__settings_find(const char *name, size_t name_len) {
  const struct azr__settings_entry *e = name ? find_entry(name, name_len) : NULL;
  return e ? &e->d : NULL;
}

/* ---- helpers shared with the hooks ---- */

int azr__settings_fail(struct azr__settings_call *c, int status, const char *fmt, ...) {
  if (c->err && c->err_len) {
    int n = snprintf(c->err, c->err_len, "%s: ", c->e->d.name);
    if (n > 0 && (size_t)n < c->err_len) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return status;
}

static void *field(struct azr__listener_settings *s, const struct azr__settings_entry *e) {
  return (char *)s + e->d.offset;
}

static const void *cfield(const struct azr__listener_settings *s, const struct azr__settings_entry *e) {
  return (const char *)s + e->d.offset;
}

void azr__settings_replace_text(struct azr__settings_call *c, char **slot, char *text) {
  if (*slot) {
    if (c->e->d.flags & AZR__SETTING_SECRET)
      azr__free_secret(c->mem, *slot);
    else
      azr__free(c->mem, *slot);
  }
  *slot = text;
}

static struct azr__span trimmed(const char *v) {
  struct azr__span t = azr__span_of(v);
  while (t.len && blank(*t.ptr)) {
    t.ptr++;
    t.len--;
  }
  while (t.len && blank(t.ptr[t.len - 1])) t.len--;
  return t;
}

static bool parse_bool(const char *v, bool *out) {
  struct azr__span t = trimmed(v);
  if (azr__span_ieq(t, "true") || azr__span_ieq(t, "1") || azr__span_ieq(t, "yes")) {
    *out = true;
    return true;
  }
  if (azr__span_ieq(t, "false") || azr__span_ieq(t, "0") || azr__span_ieq(t, "no")) {
    *out = false;
    return true;
  }
  return false;
}

/* True when `n` is one of the numbers leading the items of an enum's "0 none, 1 tunnel" list. */
static bool enum_has(const char *values, int64_t n) {
  const char *p = values;
  while (p && *p) {
    while (*p == ' ' || *p == ',') p++;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end != p && v == n) return true;
    p = strchr(p, ',');
  }
  return false;
}

/* Decimal integer (optional sign); FLAGS also take 0x-hex. Checks bounds and enum membership. */
int azr__settings_parse_number(struct azr__settings_call *c, const char *v, int64_t *out) {
  struct azr__span t = trimmed(v);
  char buf[32];
  if (t.len == 0) return azr__settings_fail(c, AZR_E_INVALID_ARG, "a number is required");
  if (t.len >= sizeof buf) return azr__settings_fail(c, AZR_E_INVALID_ARG, "'%.20s...' is not a number", t.ptr);
  memcpy(buf, t.ptr, t.len);
  buf[t.len] = 0;
  const struct azr__setting_desc *d = &c->e->d;
  bool hex = d->type == AZR__SETTING_FLAGS && (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'));
  const char *digits = buf + (hex ? 2 : (buf[0] == '-' || buf[0] == '+'));
  bool ok = *digits != 0;
  for (const char *p = digits; *p && ok; p++)
    ok = hex ? ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))
             : (*p >= '0' && *p <= '9');
  if (!ok) return azr__settings_fail(c, AZR_E_INVALID_ARG, "'%s' is not a%s number", buf, hex ? " hexadecimal" : "");
  errno = 0;
  long long n = strtoll(buf, NULL, hex ? 16 : 10);
  if (errno == ERANGE || n < d->min || n > d->max) {
    if (d->type == AZR__SETTING_FLAGS)
      return azr__settings_fail(c, AZR_E_INVALID_ARG, "%s is outside 0-0x%llX", buf, (unsigned long long)d->max);
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "%s is out of range (%lld-%lld)", buf, (long long)d->min,
                              (long long)d->max);
  }
  if (d->type == AZR__SETTING_ENUM && !enum_has(d->values, n))
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "%s is not one of: %s", buf, d->values);
  *out = n;
  return AZR_OK;
}

/* Text checks every string setting gets: size, UTF-8, no control characters on one-line values. */
int azr__settings_check_text(struct azr__settings_call *c, const char *v) {
  size_t len = strlen(v);
  if ((int64_t)len > c->e->d.max)
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "too long (%zu bytes, at most %lld)", len, (long long)c->e->d.max);
  if (!azr__utf8_valid((const uint8_t *)v, len)) return azr__settings_fail(c, AZR_E_INVALID_ARG, "not valid UTF-8");
  bool ml = (c->e->d.flags & AZR__SETTING_MULTILINE) != 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)v[i];
    if ((ch < 0x20 && !(ml && (ch == '\r' || ch == '\n' || ch == '\t'))) || ch == 0x7f)
      return azr__settings_fail(c, AZR_E_INVALID_ARG, "control character at byte %zu", i);
  }
  return AZR_OK;
}

int azr__settings_store_text(struct azr__settings_call *c, char **slot, const char *v, size_t len) {
  char *copy = azr__strndup(c->mem, v, len);
  if (!copy) return azr__settings_fail(c, AZR_E_NOMEM, "out of memory");
  azr__settings_replace_text(c, slot, copy);
  return AZR_OK;
}

/* ---- checks used by the table ---- */

static int check_no_blank(struct azr__settings_call *c, const char *v, int64_t n) {
  (void)n;
  for (size_t i = 0; v[i]; i++)
    if (v[i] == ' ') return azr__settings_fail(c, AZR_E_INVALID_ARG, "must not contain spaces");
  return AZR_OK;
}

static int check_guid(struct azr__settings_call *c, const char *v, int64_t n) {
  (void)n;
  if (!*v) return AZR_OK;
  bool ok = strlen(v) == 36;
  for (size_t i = 0; ok && i < 36; i++) {
    char ch = v[i];
    if (i == 8 || i == 13 || i == 18 || i == 23)
      ok = ch == '-';
    else
      ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
  }
  return ok ? AZR_OK
            : azr__settings_fail(c, AZR_E_INVALID_ARG, "must be a GUID like f479cece-a32d-4caf-aed3-6dcc3b7b661e");
}

static int check_close_code(struct azr__settings_call *c, const char *v, int64_t n) {
  (void)v;
  /* RFC 6455 §7.4: 1004-1006 and 1015 must never be sent; 1016-2999 are unassigned protocol codes. */
  if (n == 1004 || n == 1005 || n == 1006 || n == 1015)
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "%lld is reserved and must not be sent in a Close frame",
                              (long long)n);
  if (n >= 1016 && n <= 2999)
    return azr__settings_fail(c, AZR_E_INVALID_ARG, "%lld is an unassigned protocol code; use 3000-4999",
                              (long long)n);
  return AZR_OK;
}

static int check_access_list(struct azr__settings_call *c, const char *v, int64_t n) {
  (void)n;
  char why[200];
  if (azr__access_list_check(v, why, sizeof why) != AZR_OK) return azr__settings_fail(c, AZR_E_INVALID_ARG, "%s", why);
  return AZR_OK;
}

/* ---- init, free, set, get ---- */

static bool owns_text(const struct azr__settings_entry *e) {
  if (e->d.offset == NO_FIELD || (e->d.flags & (AZR__SETTING_NOT_APPLICABLE | AZR__SETTING_HANDLED_BY_LISTENER)))
    return false;
  return e->d.type == AZR__SETTING_STRING || e->d.offset == OFF(client_cert_type);
}

void azr__settings_init(struct azr__listener_settings *s) {
  memset(s, 0, sizeof *s);
  /* Numbers and booleans from the table's defaults; text fields stay NULL (= the default text),
   * and hook-stored settings use 0 / NULL as their default (a unit test checks both). */
  for (size_t i = 0; i < TABLE_LEN; i++) {
    const struct azr__settings_entry *e = &table[i];
    if (e->d.offset == NO_FIELD || owns_text(e) || e->set ||
        (e->d.flags & (AZR__SETTING_NOT_APPLICABLE | AZR__SETTING_HANDLED_BY_LISTENER)))
      continue;
    long long n = strtoll(e->d.default_text, NULL, 10);
    bool b = azr__str_ieq(e->d.default_text, "true");
    void *f = field(s, e);
    switch (e->d.type) {
      case AZR__SETTING_BOOL: *(bool *)f = b; break;
      case AZR__SETTING_INT64: *(int64_t *)f = n; break;
      case AZR__SETTING_INT:
      case AZR__SETTING_ENUM:
      case AZR__SETTING_FLAGS: *(int *)f = (int)n; break;
      case AZR__SETTING_STRING: break;
    }
  }
}

void azr__settings_free(const struct azr__mem *mem, struct azr__listener_settings *s) {
  for (size_t i = 0; i < TABLE_LEN; i++) {
    const struct azr__settings_entry *e = &table[i];
    if (!owns_text(e)) continue;
    char **slot = (char **)field(s, e);
    if (!*slot) continue; /* also skips fields shared by two names once the first freed them */
    if (e->d.flags & AZR__SETTING_SECRET)
      azr__free_secret(mem, *slot);
    else
      azr__free(mem, *slot);
    *slot = NULL;
  }
  azr__free(mem, s->sigalgs); /* derived, not a row of its own */
  azr__settings_init(s);
}

/* A not-applicable setting: accepted as a no-op when the value is what azrelay does anyway. */
static int set_not_applicable(struct azr__settings_call *c, const char *v) {
  const struct azr__setting_desc *d = &c->e->d;
  if (c->e->set) return c->e->set(c, v);
  bool ok = false;
  if (d->type == AZR__SETTING_BOOL && d->default_text) {
    bool b;
    ok = parse_bool(v, &b) && b == azr__str_ieq(d->default_text, "true");
  } else if (d->type == AZR__SETTING_ENUM && d->values) {
    int64_t n;
    char scratch[8];
    struct azr__settings_call quiet = *c;
    quiet.err = scratch;
    quiet.err_len = sizeof scratch;
    ok = azr__settings_parse_number(&quiet, v, &n) == AZR_OK;
  }
  if (ok) return AZR_OK;
  return azr__settings_fail(c, AZR_E_UNSUPPORTED, "not applicable: %s", d->description);
}

static int set_generic(struct azr__settings_call *c, const char *v) {
  const struct azr__setting_desc *d = &c->e->d;
  void *f = field(c->s, c->e);
  if (d->type == AZR__SETTING_STRING) {
    int rc = azr__settings_check_text(c, v);
    if (!rc && c->e->check) rc = c->e->check(c, v, 0);
    if (rc) return rc;
    return azr__settings_store_text(c, (char **)f, v, strlen(v));
  }
  if (d->type == AZR__SETTING_BOOL) {
    bool b;
    if (!parse_bool(v, &b))
      return azr__settings_fail(c, AZR_E_INVALID_ARG, "'%.40s' is not a boolean (true/false, 1/0, yes/no)", v);
    *(bool *)f = b;
    return AZR_OK;
  }
  int64_t n;
  int rc = azr__settings_parse_number(c, v, &n);
  if (!rc && c->e->check) rc = c->e->check(c, v, n);
  if (rc) return rc;
  if (d->type == AZR__SETTING_INT64)
    *(int64_t *)f = n;
  else if (d->type == AZR__SETTING_FLAGS)
    *(int *)f = (int)(uint32_t)n; /* bit 31 is a valid flag: stored as the int with the same bits */
  else
    *(int *)f = (int)n;
  return AZR_OK;
}

int azr__settings_set(const struct azr__mem *mem, struct azr__listener_settings *s,
                      const struct azr__settings_context *ctx, const char *name, size_t name_len, const char *value,
                      char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  const struct azr__settings_entry *e = name ? find_entry(name, name_len) : NULL;
  if (!e || (e->d.flags & AZR__SETTING_HANDLED_BY_LISTENER)) {
    if (err && err_len) {
      struct azr__span t = trim_name(name ? name : "", name ? name_len : 0);
      snprintf(err, err_len, "unknown setting '%.*s'", (int)(t.len > 64 ? 64 : t.len), t.ptr);
    }
    return AZR_E_NOT_FOUND;
  }
  struct azr__settings_call c = {e, mem ? mem : azr__mem_default(), s, err, err_len};
  if (!s || !value) return azr__settings_fail(&c, AZR_E_INVALID_ARG, "no value");
  if (e->d.flags & AZR__SETTING_NOT_APPLICABLE) return set_not_applicable(&c, value);
  if (e->d.flags & AZR__SETTING_READ_ONLY) return azr__settings_fail(&c, AZR_E_INVALID_ARG, "read-only");
  if ((e->d.flags & AZR__SETTING_NO_CHANGE_LISTENING) && ctx && ctx->listening)
    return azr__settings_fail(&c, e->d.offset == OFF(max_connections) ? AZR_E_CANT_CHANGE_MAX_CONNECTIONS : AZR_E_BAD_STATE,
                              "cannot change while listening");
  return e->set ? e->set(&c, value) : set_generic(&c, value);
}

int azr__settings_get(const struct azr__listener_settings *s, const char *name, struct azr__buf *out) {
  const struct azr__settings_entry *e = name ? find_entry(name, strlen(name)) : NULL;
  if (!e || (e->d.flags & AZR__SETTING_HANDLED_BY_LISTENER)) return AZR_E_NOT_FOUND;
  if (!s || !out) return AZR_E_INVALID_ARG;
  const struct azr__setting_desc *d = &e->d;
  if (d->flags & AZR__SETTING_NOT_APPLICABLE) return d->default_text ? azr__buf_append_str(out, d->default_text) : AZR_E_UNSUPPORTED;
  if (d->flags & AZR__SETTING_SECRET) return AZR_OK;
  if (e->get) return e->get(s, out);
  const void *f = cfield(s, e);
  switch (d->type) {
    case AZR__SETTING_BOOL: return azr__buf_append_str(out, *(const bool *)f ? "true" : "false");
    case AZR__SETTING_INT64: return azr__buf_printf(out, "%lld", (long long)*(const int64_t *)f);
    case AZR__SETTING_FLAGS: return azr__buf_printf(out, "%lu", (unsigned long)(uint32_t)*(const int *)f);
    case AZR__SETTING_INT:
    case AZR__SETTING_ENUM: return azr__buf_printf(out, "%d", *(const int *)f);
    case AZR__SETTING_STRING: {
      const char *t = *(char *const *)f;
      return azr__buf_append_str(out, t ? t : d->default_text);
    }
  }
  return AZR_E_INVALID_ARG;
}

int azr__settings_apply_connection_string(const struct azr__mem *mem, struct azr__listener_settings *s,
                                          const struct azr__settings_context *ctx, const char *text, char *err,
                                          size_t err_len) {
  struct azr__connstr cs;
  int rc = azr__connstr_parse(mem, text, &cs, err, err_len);
  if (rc) return rc;
  char ns[300];
  azr__host_port(ns, sizeof ns, cs.host, cs.port);
  const char *values[][2] = {{"NamespaceAddress", ns},
                             {"HybridConnection", cs.entity_path},
                             {"AccessKeyName", cs.key_name},
                             {"AccessKey", cs.key},
                             {"SasToken", cs.sas},
                             {"UseDevelopmentEmulator", cs.use_development_emulator ? "true" : "false"}};
  for (size_t i = 0; !rc && i < sizeof values / sizeof *values; i++)
    if (values[i][1]) rc = azr__settings_set(mem, s, ctx, values[i][0], strlen(values[i][0]), values[i][1], err, err_len);
  azr__connstr_free(mem, &cs);
  return rc;
}
