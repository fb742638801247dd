// SPDX-License-Identifier: MIT
// Close codes both ways between our listener and hyco-ws senders through the emulator (§6.6): the
// sender's code and reason reach the listener, the listener's (azr_conn_close) reach the sender after
// the data queued before it, and an abortive loss of the sender is reported as 1006.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, killAll } = require('./lib/test-listener');
const { send } = require('./lib/ws1-queue');

relay.watchdog(85000, 'listener_close');
const emu = relay.emulator();
after(killAll);

async function connectedSender(L, hc, label) {
  const from = L.mark();
  const s = await openHycoSender(emu, hc, { label });
  const c = await L.waitFor((e) => e.kind === 'connected', 10000, `${label} to be connected`, from);
  assert.equal(c.code, 0, c.line);
  return { ...s, id: c.id };
}

test('the sender closes with 4001 "bye": the listener sees code and reason', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', { mode: 'echo' });
  const s = await connectedSender(L, 'hc1', 'sender closing with 4001');
  await send(s.ws, 'before close', false);
  assert.equal((await s.queue.next(10000)).data, 'before close');
  s.ws.close(4001, 'bye');
  const d = await L.waitFor((e) => e.kind === 'disconnected' && e.id === s.id, 10000, 'the listener to see the close');
  assert.equal(d.code, 4001, d.line);
  assert.equal(d.reason, 'bye', d.line);
  assert.equal(d.error, 0, d.line);
  const atSender = await relay.withTimeout(s.queue.closed, 10000, 'the sender to finish the close handshake');
  assert.equal(atSender.code, 4001, 'the listener answers the Close frame with the same code');
}));

test('the listener closes with 4002 "server bye": the sender sees code and reason after the echo', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc2', { mode: 'close', args: ['--close-code', '4002', '--close-reason', 'server bye'] });
  const s = await connectedSender(L, 'hc2', 'sender closed by the listener');
  await send(s.ws, 'x'.repeat(200000), false); // queued before the Close frame: must arrive first
  const echo = await s.queue.next(10000);
  assert.equal(echo.data.length, 200000, 'the echo queued before the close arrives whole');
  const atSender = await relay.withTimeout(s.queue.closed, 10000, 'the sender to see the close');
  assert.equal(atSender.code, 4002);
  assert.equal(atSender.reason, 'server bye');
  // The listener's report may trail what the sender saw (slowly under valgrind): wait for it.
  const sent = await L.waitFor((e) => e.kind === 'close_sent' && e.id === s.id, 10000, 'the listener to report its close');
  assert.equal(sent.rc, 0, sent.line);
  const d = await L.waitFor((e) => e.kind === 'disconnected' && e.id === s.id, 10000, 'the listener to finish the close');
  assert.equal(d.code, 4002, `the close completes with the listener's code: ${d.line}`);
  assert.equal(d.error, 0, d.line);
}));

test('a sender that vanishes without a Close frame is reported as 1006', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', { mode: 'echo' });
  const s = await connectedSender(L, 'hc1', 'sender that terminates');
  await send(s.ws, 'ping', false);
  await s.queue.next(10000);
  s.ws.terminate();
  const d = await L.waitFor((e) => e.kind === 'disconnected' && e.id === s.id, 15000, 'the listener to notice the loss');
  assert.equal(d.code, 1006, d.line);
}));
