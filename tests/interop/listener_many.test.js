// SPDX-License-Identifier: MIT
// 1,000 hyco-ws senders connected at once to our listener through the emulator, each exchanging a
// few messages with the echo listener; every connection keeps its own traffic and closes cleanly.
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, closeSocket, killAll } = require('./lib/test-listener');
const { send, same, describe } = require('./lib/ws1-queue');

relay.watchdog(85000, 'listener_many');
const emu = relay.emulator();
after(killAll);
const N = 1000;
const BATCH = 100;

test(`${N} concurrent hyco-ws senders each echo their own messages`, { timeout: 80000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', { mode: 'echo', args: ['--quiet-data'] });
  const t0 = Date.now();
  const senders = [];
  try {
    for (let b = 0; b < N; b += BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(BATCH, N - b) }, (_, i) => openHycoSender(emu, 'hc1', { label: `sender ${b + i}`, timeoutMs: 30000 })),
      );
      senders.push(...batch);
    }
    const openMs = Date.now() - t0;
    await L.waitFor(() => L.connectedIds().length === N, 15000, `all ${N} connections to be reported`);
    assert.equal(new Set(L.connectedIds()).size, N, 'distinct connection ids');

    // All open at once: each sends a text, a binary and a larger text message and awaits the echoes.
    const t1 = Date.now();
    await relay.mapLimit(senders, N, async (s, i) => {
      const msgs = [
        { binary: false, data: `hello from ${i}` },
        { binary: true, data: crypto.randomBytes(100 + (i % 200)) },
        { binary: false, data: relay.asciiText(2000 + i) },
      ];
      for (const m of msgs) await send(s.ws, m.data, m.binary);
      for (const m of msgs) {
        const echo = await s.queue.next(30000);
        assert.ok(same(echo, m), `sender ${i}: echo ${describe(echo)} instead of ${describe(m)}`);
      }
    });
    const echoMs = Date.now() - t1;
    assert.equal(L.list('connected').filter((e) => e.code === 0).length, N);

    const t2 = Date.now();
    await relay.mapLimit(senders, 200, (s) => closeSocket(s.ws, 1000, 'done', 15000));
    await L.waitFor(() => L.list('disconnected').length === N, 30000, `all ${N} disconnected lines`);
    const closeMs = Date.now() - t2;
    const bad = L.list('disconnected').filter((e) => e.code !== 1000 || e.messages_in !== 3);
    assert.deepEqual(bad.map((e) => e.line), [], 'every connection closes with 1000 after 3 messages');
    assert.deepEqual(L.list('error').map((e) => e.line), [], 'no errors in the listener');
    process.stdout.write(`# ${N} connections: opened in ${openMs} ms, echoed in ${echoMs} ms, closed in ${closeMs} ms\n`);
  } finally {
    for (const s of senders) s.ws.terminate();
  }
}));
