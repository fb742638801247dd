// SPDX-License-Identifier: MIT
// Hardening (docs/SECURITY.md): an emulator that runs out of descriptors backs off instead of
// spinning on its still-readable listening socket, says so once in its log, and serves a legitimate
// sender again as soon as descriptors come free.
// Run through lib/run-with-emulator.js with `--ulimit-n 256 --hc hc1 --set RequestHeadTimeoutMs=3000`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'sec_fd_exhaustion');
const emu = relay.emulator();
const IDLE = 300; // more than the 256 descriptors the emulator may hold
const HEAD_TIMEOUT_MS = 3000;

test('out of descriptors: no busy loop, one log line, a legitimate sender is served once descriptors free up', { timeout: 45000 }, async () => {
  const listener = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: relay.tokenFor(emu, 'hc1') });
  // Idle connections from a second loopback address, so that no per-address cap is what stops them.
  const idle = await proc.idleConnections(emu.port, IDLE, { localAddress: '127.0.0.2' });
  try {
    await proc.waitForLog(/cannot accept connections .*(Too many open files|descriptor)/, 5000);
    // While the backlog waits the emulator must sleep, not spin (the bug: 60-99 % of a core).
    const share = await proc.cpuShare(2000);
    assert.ok(share < 0.15, `the emulator used ${(share * 100).toFixed(0)} % of a core while out of descriptors`);
    const lines = proc.log().split('\n').filter((l) => /cannot accept connections/.test(l));
    assert.equal(lines.length, 1, `logged once, not per attempt:\n${lines.slice(0, 5).join('\n')}`);

    // A sender arriving now waits in the backlog; the head timeout frees descriptors and it is served.
    const started = Date.now();
    const sender = relay.handshake(relay.connectUrl(emu, 'hc1'), {
      headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') },
      timeoutMs: 20000,
    });
    const accept = await listener.next('accept', 20000);
    const lws = await listener.accept(accept.msg, { timeoutMs: 10000 });
    const s = await sender;
    assert.ok(s.ok, `sender refused: ${s.statusCode} ${s.statusMessage}`);
    const got = relay.nextEvent(lws, 'message', 5000, 'the sender\'s message');
    s.ws.send('still here');
    const [data] = await got;
    assert.equal(data.toString(), 'still here');
    const waited = Date.now() - started;
    assert.ok(waited < 3 * HEAD_TIMEOUT_MS + 5000, `the sender waited ${waited} ms`);
    s.ws.terminate();
    lws.terminate();
  } finally {
    proc.destroyAll(idle);
    await listener.close();
  }
});
