// SPDX-License-Identifier: MIT
// What the emulator answers where the real service may answer otherwise (docs/EMULATOR.md and
// shared/protocol §10). Against the emulator a different answer fails a check (the emulator changed
// or the check rotted); against Azure it is reported as DIFF: the emulator should learn it.
'use strict';

const EMULATOR = {
  noListenerStatus: '404', // §6.5, [WIRE]
  noListenerText: /^There are no listeners connected for the endpoint\./,
  trackingSuffix: 'yes', // reasons end with " TrackingId:..., SystemTracker:..., Timestamp:..." (§10.4)
  unknownEntityStatus: '404',
  unknownEntityText: /^Endpoint does not exist\./,
  badSignatureStatus: '401',
  badSignatureText: /^The token has an invalid signature\./,
  missingRightStatus: '401', // MissingRightStatus (§13.1 #5: 401 or 403)
  missingSendText: /^Unauthorized access\. 'Send' claim\(s\) are required/,
  missingListenText: /^Unauthorized access\. 'Listen' claim\(s\) are required/,
  missingTokenStatus: '401',
  missingTokenText: /^MissingToken:/,
  senderTokenInConnectHeaders: 'absent', // §13.1 #8
  remoteEndpoint: 'present', // §6.1
  tokenInAcceptAddress: 'absent', // §2.4
  httpNoListenerStatus: '404', // NoListenerHttpStatus (§13.1 #2: 404, 502 or 503)
  httpUnknownEntityStatus: '404',
  httpMissingTokenStatus: '401',
  httpErrorCode: /^\{"error":\{"code":"/, // JSON error body (§7.8)
  httpViaOnErrors: 'absent', // service errors carry no Via (§7.8)
  httpTokenForwarded: 'no', // sb-hc-token and ServiceBusAuthorization stripped (§3.4)
  largeRequestPath: 'rendezvous', // > 64 KB (§7.2)
  smallRequestPath: 'control channel',
  expiredCloseCode: '1008', // §3.7
  expiredCloseText: /^ExpiredToken/,
};

/** { text, tracking }: a reason phrase without the service's " TrackingId:..." suffix. */
function splitReason(reason) {
  const s = String(reason || '');
  const i = s.search(/\s*TrackingId:/);
  return i < 0 ? { text: s, tracking: false } : { text: s.slice(0, i), tracking: true };
}

module.exports = { EMULATOR, splitReason };
