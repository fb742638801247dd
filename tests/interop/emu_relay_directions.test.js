// SPDX-License-Identifier: MIT
// A relayed connection carries its two directions independently (docs/SECURITY.md, the pongs row):
// a listener that reads nothing still gets what it sends to the sender, who reads. The emulator once
// stopped reading a leg whose own output queue was full; with a listener that echoes and stops
// reading while its own output waits (azr_test_listener, `azrelay listen --echo`), both ends then
// waited for each other with full socket buffers (conformance echo.sizes, one run in 25 under load).
// Here the listener never reads while the sender floods it, which makes that wait certain.
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');

const emu = relay.emulator();
relay.watchdog(90000, 'emu_relay_directions');
const BYTES = 32 * 1024 * 1024;
const CHUNK = 256 * 1024;

test('a listener that reads nothing still reaches a sender that reads', { timeout: 80000 }, async () => {
  const listener = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: relay.tokenFor(emu, 'hc1') });
  let sender;
  let lws;
  try {
    const s = relay.handshake(relay.connectUrl(emu, 'hc1'), { headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') } });
    const accept = await listener.next('accept');
    lws = await listener.accept(accept.msg);
    lws.on('error', () => {});
    lws._socket.pause(); // the listener reads nothing from here on
    const r = await s;
    assert.ok(r.ok, `sender: ${r.statusCode} ${r.statusMessage}`);
    sender = r.ws;
    sender.on('error', () => {});
    // The sender floods the listener (its data piles up in the relay, which then holds it back)...
    const flood = crypto.randomBytes(CHUNK);
    for (let sent = 0; sent < BYTES; sent += CHUNK) sender.send(flood, { binary: true });
    await relay.sleep(500);
    // ...while the listener sends BYTES the other way, and the sender reads them.
    let got = 0;
    const h = crypto.createHash('sha256');
    const all = new Promise((resolve) => {
      sender.on('message', (d) => {
        h.update(d);
        got += d.length;
        if (got >= BYTES) resolve();
      });
    });
    const want = crypto.createHash('sha256');
    const t0 = Date.now();
    for (let sent = 0; sent < BYTES; sent += CHUNK) {
      const part = crypto.randomBytes(CHUNK);
      want.update(part);
      lws.send(part, { binary: true });
    }
    await relay.withTimeout(all, 30000, `the listener's ${BYTES >> 20} MiB (the sender got ${got} bytes so far)`);
    assert.equal(h.digest('hex'), want.digest('hex'), 'what the sender got differs from what the listener sent');
    console.log(`# ${BYTES >> 20} MiB from a listener that reads nothing, in ${Date.now() - t0} ms`);
  } finally {
    if (sender) sender.terminate();
    if (lws) lws.terminate();
    await listener.close();
  }
});
