// SPDX-License-Identifier: MIT
// Hardening (docs/SECURITY.md): on a kept-alive HTTP connection every request head must arrive in
// time (RequestHeadTimeoutMs from its first byte), and an idle connection between requests is
// closed after HttpKeepAliveTimeoutMs.
// Run through lib/run-with-emulator.js with
// `--hc hc1 --set RequestHeadTimeoutMs=1000 --set HttpKeepAliveTimeoutMs=4000`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'sec_http_keepalive');
const emu = relay.emulator();
const HEAD_MS = 1000;
const IDLE_MS = 4000;
// hc1 has no listener: every request gets a 404 that keeps the connection open.
const request = () => `GET /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${relay.tokenFor(emu, 'hc1')}\r\n\r\n`;

/** A kept-alive connection after one answered request; resolves with the socket and a close promise. */
async function keptAlive() {
  const { socket, response } = await proc.rawRequest(emu, request());
  assert.match(response, /^HTTP\/1\.1 404 /);
  assert.doesNotMatch(response, /Connection: close/i);
  socket.removeAllListeners('close');
  socket.removeAllListeners('data');
  socket.removeAllListeners('error');
  socket.on('error', () => {});
  let text = '';
  socket.on('data', (d) => { text += d.toString('latin1'); });
  const closed = new Promise((resolve) => socket.on('close', () => resolve(Date.now())));
  open.push(socket);
  return { socket, closed, received: () => text };
}

const open = [];
after(() => open.forEach((s) => s.destroy()));

test('a second request head sent half-way is cut after RequestHeadTimeoutMs', { timeout: 20000 }, async () => {
  const c = await keptAlive();
  const sent = Date.now();
  c.socket.write('GET /hc1 HTTP/1.1\r\nHost: loc'); // and nothing more
  const at = await relay.withTimeout(c.closed, IDLE_MS + 4000, 'the emulator to cut the half-sent head');
  assert.ok(at - sent >= HEAD_MS - 200, `cut after ${at - sent} ms, before the head timeout`);
  // The head timeout, not the (longer) idle timeout, is what cut it.
  assert.ok(at - sent < IDLE_MS - 1000, `cut only after ${at - sent} ms`);
  assert.equal(c.received(), '', 'nothing is answered to a head that never completed');
});

test('an idle kept-alive connection is closed after HttpKeepAliveTimeoutMs, a prompt second request is served', { timeout: 20000 }, async () => {
  const c = await keptAlive();
  await relay.sleep(IDLE_MS / 2);
  c.socket.write(request());
  await relay.sleep(500);
  assert.match(c.received(), /^HTTP\/1\.1 404 /, 'a request within the idle timeout is served');
  const idleFrom = Date.now();
  const at = await relay.withTimeout(c.closed, IDLE_MS + 4000, 'the emulator to close the idle connection');
  assert.ok(at - idleFrom >= IDLE_MS - 700, `closed after ${at - idleFrom} ms of idleness`);
});
