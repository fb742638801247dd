// SPDX-License-Identifier: MIT
// Scaling out the way Azure scales: three listener processes on one hybrid connection, the relay
// spreading hyco-ws senders over them. One listener is killed (SIGKILL) while every sender is
// echoing: its senders see their connection end at once, every other sender keeps echoing without
// losing a message, and new senders are all served by the two that remain.
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, closeSocket, killAll } = require('./lib/test-listener');
const { send } = require('./lib/ws1-queue');

relay.watchdog(85000, 'listener_scale_out');
const emu = relay.emulator();
after(killAll);

const SENDERS = 60;
const LATE_SENDERS = 30;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Echo traffic on one sender until stopped or its connection ends; resolves with what happened. */
function echoLoop(s, i, stop) {
  const state = { i, echoed: 0, lastEchoAt: 0, closedAt: 0, closeCode: 0, mismatch: null };
  s.ws.on('close', (code) => {
    state.closedAt = Date.now();
    state.closeCode = code;
  });
  state.done = (async () => {
    while (!stop.value && !state.closedAt) {
      const text = `sender ${i} message ${state.echoed}`;
      try {
        await send(s.ws, text, false);
        const echo = await s.queue.next(5000);
        if (echo.data !== text) state.mismatch = `${echo.data} instead of ${text}`;
        state.echoed++;
        state.lastEchoAt = Date.now();
      } catch (e) {
        if (!state.closedAt) state.error = String(e.message || e);
        break;
      }
      await sleep(20);
    }
  })();
  return state;
}

test('three listeners share a hybrid connection; killing one loses only its own connections', { timeout: 80000 },
  withListeners(emu, async (start) => {
    const listeners = [];
    for (let n = 0; n < 3; n++) listeners.push(await start('hc1', { mode: 'echo', args: ['--quiet-data'], label: `listener ${n}` }));
    const senders = await relay.mapLimit(Array.from({ length: SENDERS }, (_, i) => i), 20,
      (i) => openHycoSender(emu, 'hc1', { label: `sender ${i}`, timeoutMs: 20000 }));
    const counts = () => listeners.map((L) => L.connectedIds().length);
    for (const t0 = Date.now(); counts().reduce((a, b) => a + b, 0) < SENDERS; await sleep(50))
      assert.ok(Date.now() - t0 < 10000, `every connection reported: ${counts()}`);
    assert.ok(counts().every((c) => c > 0), `the relay spreads senders over all listeners: ${counts()}`);

    const stop = { value: false };
    const loops = senders.map((s, i) => echoLoop(s, i, stop));
    await sleep(1500);
    const victim = listeners[1];
    const victimConnections = victim.connectedIds().length;
    const killedAt = Date.now();
    victim.killOnPurpose();
    await sleep(2500);
    stop.value = true;
    await Promise.all(loops.map((l) => l.done));

    const closed = loops.filter((l) => l.closedAt);
    assert.equal(closed.length, victimConnections, 'exactly the killed listener\'s senders lost their connection');
    for (const l of closed) {
      assert.ok(l.closedAt - killedAt < 2000, `sender ${l.i}: its connection ended ${l.closedAt - killedAt} ms after the kill`);
      assert.notEqual(l.closeCode, 1000, `sender ${l.i}: an abnormal end, not a normal close`);
    }
    const survivors = loops.filter((l) => !l.closedAt);
    for (const l of survivors) {
      assert.equal(l.mismatch, null, `sender ${l.i}: ${l.mismatch}`);
      assert.equal(l.error, undefined, `sender ${l.i}: ${l.error}`);
      // Kept echoing: an echo came back after the kill (not a rate, which a loaded machine cannot promise).
      assert.ok(l.lastEchoAt > killedAt, `sender ${l.i} kept echoing after the kill (${l.echoed} messages, the last ${killedAt - l.lastEchoAt} ms before it)`);
    }

    // New senders: every one is served, by the two listeners left.
    const before = [listeners[0], listeners[2]].map((L) => L.connectedIds().length);
    const late = await relay.mapLimit(Array.from({ length: LATE_SENDERS }, (_, i) => i), 10,
      (i) => openHycoSender(emu, 'hc1', { label: `late sender ${i}`, timeoutMs: 10000 }));
    for (const [i, s] of late.entries()) {
      await send(s.ws, `late ${i}`, false);
      assert.equal((await s.queue.next(5000)).data, `late ${i}`);
    }
    const gained = [listeners[0], listeners[2]].map((L, k) => L.connectedIds().length - before[k]);
    assert.equal(gained[0] + gained[1], LATE_SENDERS);
    assert.ok(gained.every((g) => g > 0), `both remaining listeners take new senders: ${gained}`);

    await relay.mapLimit([...senders.filter((s, i) => !loops[i].closedAt), ...late], 50, (s) => closeSocket(s.ws, 1000, 'done'));
    process.stdout.write(`# ${victimConnections} of ${SENDERS} connections on the killed listener: lost; ${survivors.length} kept echoing\n`);
  }));
