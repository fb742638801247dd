// SPDX-License-Identifier: MIT
// Our listener decides about hyco-ws senders (§6.4 rejection through the emulator): a reject with
// the application's status and description reaches the sender as is; AllowedClients, BlockedClients
// and MaxConnections refuse senders with 403 / 503 while accepted connections keep working.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2,hc3,hc4`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { connectOutcome } = require('./lib/hyco-sender');
const { withListeners, openHycoSender, closeSocket, senderToken, killAll } = require('./lib/test-listener');
const { send } = require('./lib/ws1-queue');

relay.watchdog(85000, 'listener_reject');
const emu = relay.emulator();
after(killAll);

/** One hyco-ws sender handshake; the refusal must carry `status` (and `reason` when given). */
async function expectRefused(L, hc, status, reason, what) {
  const from = L.mark();
  const r = await connectOutcome(relay.connectUrl(emu, hc), senderToken(emu, hc));
  if (r.ok) r.ws.terminate();
  assert.equal(r.ok, false, `${what}: the sender must be refused`);
  assert.equal(r.statusCode, status, `${what}: status ${r.statusCode} ${r.statusMessage}`);
  if (reason !== undefined) assert.equal(r.statusMessage, reason, `${what}: reason phrase`);
  const req = await L.waitFor((e) => e.kind === 'request', 5000, `${what}: the request line`, from);
  assert.equal(req.accept, 0, req.line);
  assert.equal(req.status, status, req.line);
  assert.equal(req.remote.split(':')[0], '127.0.0.1', `${what}: the sender's address as the listener saw it`);
  assert.equal(L.list('connected').filter((e) => e.id === req.id).length, 0, `${what}: no connection may open`);
  return r;
}

/** A hyco-ws sender that must be accepted and echo one message. */
async function expectEcho(hc, text, label) {
  const s = await openHycoSender(emu, hc, { label });
  await send(s.ws, text, false);
  const echo = await s.queue.next(10000);
  assert.equal(echo.data, text, `${label}: echo`);
  return s;
}

test('a reject with status and description reaches the hyco-ws sender as is', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', { mode: 'reject', args: ['--reject-status', '403', '--reject-description', 'Forbidden by test'] });
  await expectRefused(L, 'hc1', 403, 'Forbidden by test', 'reject 403');
  // Twice in a row: a rejection leaves the listener ready for the next sender.
  await expectRefused(L, 'hc1', 403, 'Forbidden by test', 'second reject 403');
}));

test('a reject with another status (409) keeps status and text too', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', { mode: 'reject', args: ['--reject-status', '409', '--reject-description', 'Busy: try later'] });
  await expectRefused(L, 'hc1', 409, 'Busy: try later', 'reject 409');
}));

test('AllowedClients without the sender\'s address refuses it with 403; a matching list accepts', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc2', { mode: 'echo', sets: ['AllowedClients=10.0.0.*'] });
  await expectRefused(L, 'hc2', 403, undefined, 'AllowedClients=10.0.0.*');
  const L2 = await start('hc3', { mode: 'echo', sets: ['AllowedClients=10.0.0.*,127.0.0.0/8'] });
  const s = await expectEcho('hc3', 'allowed', 'sender allowed by 127.0.0.0/8');
  await closeSocket(s.ws);
  assert.equal(L2.list('request')[0].accept, 1);
}));

test('BlockedClients with the sender\'s address refuses it with 403', { timeout: 30000 }, withListeners(emu, async (start) => {
  const L = await start('hc3', { mode: 'echo', sets: ['BlockedClients=127.0.0.1'] });
  await expectRefused(L, 'hc3', 403, undefined, 'BlockedClients=127.0.0.1');
}));

test('MaxConnections=2: a third concurrent sender gets 503 while two stay open', { timeout: 40000 }, withListeners(emu, async (start) => {
  const L = await start('hc4', { mode: 'echo', sets: ['MaxConnections=2'] });
  const a = await expectEcho('hc4', 'first', 'sender 1');
  const b = await expectEcho('hc4', 'second', 'sender 2');
  try {
    await expectRefused(L, 'hc4', 503, undefined, 'third sender at MaxConnections=2');
    // The two accepted connections are unaffected.
    for (const [i, s] of [a, b].entries()) {
      await send(s.ws, `still here ${i}`, false);
      assert.equal((await s.queue.next(10000)).data, `still here ${i}`);
    }
    // Once one closes, there is room again.
    const firstId = L.connectedIds()[0];
    await closeSocket(a.ws);
    await L.waitFor((e) => e.kind === 'disconnected' && e.id === firstId, 10000, 'sender 1 to be gone');
    const c = await expectEcho('hc4', 'third', 'sender 3 after one left');
    await closeSocket(c.ws);
  } finally {
    await closeSocket(a.ws);
    await closeSocket(b.ws);
  }
}));
