// SPDX-License-Identifier: MIT
// Rejected and unanswered connections (§6.4, §6.5, §10.4): a raw `ws` listener rejects and a
// hyco-ws sender must see exactly the listener's status and description; senders without a listener
// or whose listener never answers get the service's 404s.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2,hc3 --set AcceptTimeoutMs=1500`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const { connectOutcome } = require('./lib/hyco-sender');

relay.watchdog(100000, 'ws_reject');
const emu = relay.emulator();
const ACCEPT_TIMEOUT_MS = 1500; // must match --set AcceptTimeoutMs in interop.cmake

async function withListener(hc, fn) {
  const l = await RawListener.open(relay.listenUrl(emu, hc), { token: relay.tokenFor(emu, hc) });
  try {
    return await fn(l);
  } finally {
    await l.close();
  }
}

async function rejectCase(hc, status, description, encode) {
  await withListener(hc, async (listener) => {
    const outcome = connectOutcome(relay.connectUrl(emu, hc), relay.tokenFor(emu, hc));
    const accept = await listener.next('accept', 10000);
    const r = await listener.reject(accept.msg, status, description, { encode });
    assert.equal(r.statusCode, 410, `the reject request must get 410 Gone, got ${r.statusCode} ${r.statusMessage}`);
    const o = await outcome;
    assert.equal(o.ok, false, 'the sender must not be connected after a reject');
    assert.equal(o.statusCode, status);
    assert.equal(o.statusMessage, description, 'the reason phrase is the decoded description, exactly');
  });
}

test('accept command carries address, id, connectHeaders (with Sec-WebSocket-Key) and remoteEndpoint', { timeout: 20000 }, async () => {
  await withListener('hc1', async (listener) => {
    const outcome = connectOutcome(relay.connectUrl(emu, 'hc1', { query: 'tenant=7' }), relay.tokenFor(emu, 'hc1'));
    const { msg } = await listener.next('accept', 10000);
    const a = msg.accept;
    assert.equal(typeof a.address, 'string');
    // Rendezvous addresses name the gateway host, 127.0.0.1 by default (§2.4, docs/EMULATOR.md).
    assert.ok(a.address.startsWith(`${emu.wsScheme}://127.0.0.1:${emu.port}/$hc/hc1?`), `address ${a.address}`);
    assert.match(a.address, /[?&]sb-hc-action=accept(&|$)/);
    assert.match(a.address, /[?&]tenant=7(&|$)/, 'the sender query travels in the address (§2.4)');
    assert.doesNotMatch(a.address, /sb-hc-token/i);
    assert.equal(typeof a.id, 'string');
    assert.ok(a.id.length > 0);
    assert.equal(typeof a.connectHeaders, 'object');
    const names = Object.keys(a.connectHeaders).map((n) => n.toLowerCase());
    assert.ok(names.includes('sec-websocket-key'), `connectHeaders: ${names.join(', ')}`);
    assert.ok(!names.includes('servicebusauthorization'), 'the sender token must be stripped (§3.4)');
    for (const v of Object.values(a.connectHeaders)) assert.equal(typeof v, 'string');
    assert.equal(typeof a.remoteEndpoint, 'object');
    assert.equal(typeof a.remoteEndpoint.address, 'string');
    assert.equal(typeof a.remoteEndpoint.port, 'number');
    const r = await listener.reject(msg, 400, 'Bad Request');
    assert.equal(r.statusCode, 410);
    const o = await outcome;
    assert.equal(o.statusCode, 400);
  });
});

test('reject with a percent-encoded description reaches the hyco-ws sender verbatim', { timeout: 20000 }, async () => {
  await rejectCase('hc1', 403, 'Access denied: order #17 (quota exceeded) - try again later, please!', 'uri');
});

test('reject with a form-encoded description (spaces as +) reaches the sender verbatim', { timeout: 20000 }, async () => {
  await rejectCase('hc1', 429, 'Too many senders; wait 5 s & retry = ok? [yes/no]', 'form');
});

test('a sender to a hybrid connection without listeners gets 404 "There are no listeners..."', { timeout: 20000 }, async () => {
  const o = await connectOutcome(relay.connectUrl(emu, 'hc2'), relay.tokenFor(emu, 'hc2'));
  assert.equal(o.ok, false);
  assert.equal(o.statusCode, 404);
  assert.ok(
    o.statusMessage.startsWith('There are no listeners connected for the endpoint.'),
    `reason phrase: ${o.statusMessage}`,
  );
});

test('a sender to an unknown hybrid connection gets 404 "Endpoint does not exist."', { timeout: 20000 }, async () => {
  const o = await connectOutcome(relay.connectUrl(emu, 'nosuchhc'), relay.tokenFor(emu, 'nosuchhc'));
  assert.equal(o.ok, false);
  assert.equal(o.statusCode, 404);
  assert.ok(o.statusMessage.startsWith('Endpoint does not exist.'), `reason phrase: ${o.statusMessage}`);
});

test('a listener that never answers an accept: the sender gets 404 after AcceptTimeoutMs', { timeout: 30000 }, async () => {
  await withListener('hc3', async (listener) => {
    const outcome = connectOutcome(relay.connectUrl(emu, 'hc3'), relay.tokenFor(emu, 'hc3'), 20000);
    const accept = await listener.next('accept', 10000); // and never answer it
    const o = await outcome;
    assert.equal(o.ok, false);
    assert.equal(o.statusCode, 404, `status line: ${o.statusCode} ${o.statusMessage}`);
    assert.ok(o.statusMessage.length > 0, 'the 404 carries a reason phrase');
    assert.ok(o.elapsedMs >= ACCEPT_TIMEOUT_MS - 250, `answered after ${o.elapsedMs} ms, before the accept window ended`);
    assert.ok(o.elapsedMs <= ACCEPT_TIMEOUT_MS + 5000, `answered only after ${o.elapsedMs} ms`);
    // The rendezvous address is of no use any more (§6.3): accepting late must not connect.
    const late = await relay.handshake(accept.msg.accept.address, { timeoutMs: 5000 });
    if (late.ok) late.ws.terminate();
    assert.equal(late.ok, false, 'a late accept must be refused');
    assert.ok(late.statusCode >= 400, `late accept answered ${late.statusCode}`);
    assert.ok(listener.isOpen, 'the control channel stays open');
  });
});
