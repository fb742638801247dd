// SPDX-License-Identifier: MIT
// Opens a sender with Microsoft's hyco-ws relayedConnect() and reports how its handshake ended:
// 101 (open socket) or the HTTP status and reason phrase the relay answered with (§4.3).
'use strict';

const WS = require('hyco-ws');
const { withTimeout } = require('./relay');

/**
 * Resolves to { ok: true, ws, elapsedMs } or { ok: false, statusCode, statusMessage, body, elapsedMs }.
 * Rejects on a network error or after `timeoutMs`.
 */
function connectOutcome(url, token, timeoutMs = 15000) {
  const started = Date.now();
  const ws = WS.relayedConnect(url, token);
  const p = new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ok: true, ws, elapsedMs: Date.now() - started }));
    // ws 1.x (hyco-ws's WebSocket) hands a refused handshake to 'unexpected-response' listeners.
    ws.on('unexpected-response', (req, res) => {
      const chunks = [];
      const finish = () => {
        resolve({
          ok: false,
          statusCode: res.statusCode,
          statusMessage: res.statusMessage,
          body: Buffer.concat(chunks).toString('utf8'),
          elapsedMs: Date.now() - started,
        });
        req.destroy();
      };
      res.on('data', (c) => chunks.push(c));
      res.on('end', finish);
      res.on('error', finish);
      setTimeout(finish, 1000).unref();
    });
    ws.on('error', (e) => reject(e instanceof Error ? e : new Error(String(e))));
  });
  return withTimeout(p, timeoutMs, 'the hyco-ws sender handshake').finally(() => {
    if (ws.readyState !== WS.OPEN) {
      try {
        ws.terminate();
      } catch {
        /* not connected */
      }
    }
  });
}

module.exports = { connectOutcome };
