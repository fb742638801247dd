// SPDX-License-Identifier: MIT
// Hardening (docs/SECURITY.md): an HTTP sender that stops reading a streamed response cannot hold
// the request and its rendezvous for ever: while the listener is held back only by the sender, the
// sender must take 64 KiB per HttpResponseTimeoutMs, else both are cut off. A sender that reads
// gets the whole response.
// Run through lib/run-with-emulator.js with `--hc hc1 --set HttpResponseTimeoutMs=1000`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withRawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'sec_slow_reader');
const emu = relay.emulator();
const TIMEOUT_MS = 1000;
const CHUNK = Buffer.alloc(256 * 1024, 'x');

/**
 * Answers the next request of `listener` over a rendezvous with `total` bytes (streamed, with
 * back-pressure). Resolves with { rv, done } where done settles when sending stops: 'sent' or 'closed'.
 */
async function streamResponse(listener, total) {
  const req = await listener.next('request', 10000);
  const r = await relay.handshake(req.msg.request.address, { timeoutMs: 10000 });
  assert.ok(r.ok, `rendezvous: ${r.statusCode} ${r.statusMessage}`);
  const rv = r.ws;
  rv.on('error', () => {});
  const closed = new Promise((resolve) => rv.on('close', () => resolve('closed')));
  rv.send(JSON.stringify({ response: { requestId: req.msg.request.id, statusCode: 200, body: true,
    responseHeaders: { 'Content-Type': 'application/octet-stream' } } }));
  const done = (async () => {
    let sent = 0;
    while (sent < total && rv.readyState === 1) {
      const last = sent + CHUNK.length >= total;
      rv.send(CHUNK, { binary: true, fin: last });
      sent += CHUNK.length;
      while (rv.bufferedAmount > 1024 * 1024 && rv.readyState === 1) await relay.sleep(20);
    }
    return rv.readyState === 1 ? 'sent' : 'closed';
  })();
  return { rv, closed, done };
}

const request = () => `GET /hc1/big HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${relay.tokenFor(emu, 'hc1')}\r\n\r\n`;

test('a sender that stops reading a streamed response is cut off, and the rendezvous closed', { timeout: 30000 }, async () => {
  await withRawListener(emu, 'hc1', async (listener) => {
    const pending = proc.rawRequest(emu, request());
    const answer = await streamResponse(listener, 1 << 30); // more than any buffer on the way
    const { socket } = await pending;
    socket.pause(); // and never read again
    socket.on('error', () => {});
    const senderClosed = new Promise((resolve) => socket.on('close', resolve));
    await relay.withTimeout(answer.closed, 10 * TIMEOUT_MS, 'the emulator to close the stalled rendezvous');
    await proc.waitForLog(/the sender took too little of the response/, 2000);
    // The sender's connection was reset: reading again finds it gone.
    socket.resume();
    await relay.withTimeout(senderClosed, 5000, 'the stalled sender to see its connection cut');
    socket.destroy();
  });
});

test('a sender that reads gets a long streamed response whole', { timeout: 30000 }, async () => {
  await withRawListener(emu, 'hc1', async (listener) => {
    const total = 32 * CHUNK.length; // 8 MiB
    const pending = proc.rawRequest(emu, request());
    const answer = await streamResponse(listener, total);
    const { socket, response } = await pending;
    let body = Buffer.byteLength(response, 'latin1') - response.indexOf('\r\n\r\n') - 4;
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    socket.on('error', () => {});
    const end = new Promise((resolve) => {
      socket.on('data', (d) => {
        body += d.length;
        if (body >= total) resolve();
      });
    });
    assert.equal(await answer.done, 'sent');
    await relay.withTimeout(end, 20000, 'the whole body at the sender');
    assert.ok(body >= total, `got ${body} bytes`);
    socket.destroy();
  });
});
