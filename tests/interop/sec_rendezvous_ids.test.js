// SPDX-License-Identifier: MIT
// Hardening (docs/SECURITY.md): a rendezvous address is the only credential of an accept, so it
// carries 128 random bits; error replies before authorization show no counter from which the
// next address could be derived. The attack this guards against: an unauthenticated party that
// knows a sender's tracking id takes over the sender's connection before the listener does
// (LatencyMs widens the window) and reads its data.
// Run through lib/run-with-emulator.js with `--hc hc1 --set LatencyMs=1500`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withRawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'sec_rendezvous_ids');
const emu = relay.emulator();

/** The TrackingId of a 401 answer to an HTTP request without a token. */
async function unauthorizedTrackingId(id) {
  const { socket, response } = await proc.rawRequest(emu, `GET /hc1?sb-hc-id=${id} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  socket.destroy();
  assert.match(response, /^HTTP\/1\.1 401 /);
  const m = /TrackingId:([^,\s]+)/.exec(response);
  assert.ok(m, `no TrackingId in ${response.slice(0, 200)}`);
  return m[1];
}

test('error replies before authorization show no counter', { timeout: 15000 }, async () => {
  const a = await unauthorizedTrackingId('probe');
  const b = await unauthorizedTrackingId('probe');
  assert.equal(a, b, `two identical unauthorized requests got tracking ids ${a} and ${b}`);
});

test('a third party that knows the sender\'s tracking id cannot take over its connection', { timeout: 30000 }, async () => {
  const victimId = '0f8fad5b-d9cb-469f-a165-70867728950e';
  await withRawListener(emu, 'hc1', async (listener) => {
    // The attacker reads the id counter from an error reply (no token needed) ...
    const seen = await unauthorizedTrackingId('probe');
    const n = Number((/_G(\d+)$/.exec(seen) || [])[1]);
    const sender = relay.handshake(relay.connectUrl(emu, 'hc1', { id: victimId }), {
      headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') },
      timeoutMs: 15000,
    });
    await relay.sleep(200);
    // ... and races the listener (whose accept command is delayed by LatencyMs) with guesses.
    const guesses = [`${victimId}_G0`, `${victimId}`];
    if (Number.isInteger(n)) for (let k = 1; k <= 5; k++) guesses.push(`${victimId}_G${n + k}`);
    const taken = [];
    for (const g of guesses) {
      const url = `${emu.wsScheme}://${emu.host}:${emu.port}/$hc/hc1?sb-hc-action=accept&sb-hc-id=${encodeURIComponent(g)}`;
      const r = await relay.handshake(url, { timeoutMs: 5000 });
      if (r.ok) {
        taken.push(g);
        r.ws.terminate();
      } else {
        assert.equal(r.statusCode, 403, `guess ${g}: ${r.statusCode} ${r.statusMessage}`);
      }
    }
    assert.deepEqual(taken, [], 'a guessed rendezvous address was accepted');
    // The real listener still gets and accepts the sender.
    const accept = await listener.next('accept', 10000);
    const lws = await listener.accept(accept.msg);
    const s = await sender;
    assert.ok(s.ok, `sender: ${s.statusCode} ${s.statusMessage}`);
    const got = relay.nextEvent(lws, 'message', 5000, 'the sender\'s secret at its listener');
    s.ws.send('secret');
    assert.equal((await got)[0].toString(), 'secret');
    s.ws.terminate();
    lws.terminate();
  });
});

test('rendezvous ids carry 128 random bits and no counter', { timeout: 30000 }, async () => {
  await withRawListener(emu, 'hc1', async (listener) => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const sender = relay.handshake(relay.connectUrl(emu, 'hc1', { id: 'same-id' }), {
        headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') },
        timeoutMs: 15000,
      });
      const accept = await listener.next('accept', 10000);
      ids.push(accept.msg.accept.id);
      assert.ok(accept.msg.accept.address.endsWith(`sb-hc-id=${accept.msg.accept.id}`), accept.msg.accept.address);
      await listener.reject(accept.msg, 400, 'no');
      await sender;
    }
    for (const id of ids) {
      assert.match(id, /^same-id_[0-9a-f]{32}$/, `id ${id}: the sender's tracking id, then 128 random bits`);
    }
    assert.equal(new Set(ids.map((id) => id.slice(-32))).size, ids.length, `ids repeat: ${ids.join(' ')}`);
  });
});
