// SPDX-License-Identifier: MIT
// Token renewal of our listener's control channel against the emulator (§3.7): with 6 s tokens
// renewed 4 s before expiry the channel outlives several token lifetimes and still accepts senders,
// while a listener whose token cannot be renewed (a pre-issued SasToken: every renewal repeats it)
// is closed by the relay with 1008 at expiry + TokenGraceSeconds and then reconnects with backoff.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2 --set TokenGraceSeconds=1`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, closeSocket, killAll } = require('./lib/test-listener');
const { send } = require('./lib/ws1-queue');

relay.watchdog(85000, 'listener_renewal');
const emu = relay.emulator();
after(killAll);
const VALIDITY_S = 6;
const THRESHOLD_S = 4;
const OBSERVE_MS = 20000;
const GRACE_S = 1; // the emulator's TokenGraceSeconds (listener.cmake)

/** A listener on hc2 whose SasToken expires in VALIDITY_S seconds; resolves with its 1008 close line. */
async function fixedTokenListener(start, label) {
  const expiry = relay.nowSeconds() + VALIDITY_S;
  const L = await start('hc2', { mode: 'echo', sets: [`SasToken=${relay.tokenFor(emu, 'hc2', { expiry })}`], label });
  const closed = await L.waitFor((e) => e.kind === 'control_closed', (VALIDITY_S + GRACE_S + 8) * 1000, 'the relay to close the expired control channel');
  return { L, closed, expiry };
}

test('renewed tokens keep the control channel up past several token lifetimes', { timeout: 40000 }, withListeners(emu, async (start) => {
  const started = Date.now();
  const L = await start('hc1', { mode: 'echo', sets: [`TokenValidity=${VALIDITY_S}`, `AutoRenewThreshold=${THRESHOLD_S}`], label: 'renewing listener' });
  await relay.sleep(OBSERVE_MS - (Date.now() - started));
  assert.deepEqual(L.list('control_closed').map((e) => e.line), [], 'the renewing listener must not lose its control channel');
  assert.equal(L.list('listening').length, 1, 'no reconnects');
  const renewals = L.list('status').filter((e) => e.event === 'TokenRenewed');
  assert.ok(renewals.length >= 6, `expected a renewal about every ${VALIDITY_S - THRESHOLD_S} s, saw ${renewals.length} in ${OBSERVE_MS} ms`);
  assert.deepEqual(L.list('listener_error').map((e) => e.line), [], 'no errors (a failed renewal is one)');
  const s = await openHycoSender(emu, 'hc1', { label: 'sender after renewals' });
  await send(s.ws, 'still listening', false);
  assert.equal((await s.queue.next(10000)).data, 'still listening');
  await closeSocket(s.ws);
  process.stdout.write(`# ${renewals.length} renewals over ${(OBSERVE_MS / 1000 / VALIDITY_S).toFixed(1)} token lifetimes\n`);
}));

// AutoRenewThreshold cannot switch renewal off (0 means "renew at expiry"), so the unrenewable case
// uses a pre-issued token: each renewal repeats it and cannot move its expiry.
test('a listener whose token cannot be renewed is closed with 1008 at expiry + grace', { timeout: 30000 }, withListeners(emu, async (start) => {
  const { closed, expiry } = await fixedTokenListener(start, 'listener with a fixed token');
  assert.equal(closed.close_code, 1008, closed.line);
  assert.match(closed.reason, /ExpiredToken/, closed.line);
  assert.ok(Date.now() / 1000 >= expiry + GRACE_S - 1, `closed ${expiry + GRACE_S - Date.now() / 1000} s before expiry + grace`);
}));

test('after a 1008 close the listener reconnects with backoff, not in a tight loop', { timeout: 40000 }, withListeners(emu, async (start) => {
  const { L, closed } = await fixedTokenListener(start, 'listener with an expired token');
  const from = L.events.indexOf(closed);
  await relay.sleep(10000);
  const attempts = L.events.slice(from).filter((e) => e.kind === 'status' && e.event === 'Connecting').length;
  const waits = L.events.slice(from).filter((e) => e.kind === 'status' && e.event === 'Waiting').map((e) => e.reason);
  // ReconnectDelayFirstMs=1000 doubling: about 5 attempts in 10 s; allow twice that.
  assert.ok(attempts <= 10, `${attempts} reconnect attempts in 10 s after the 1008 close (first delays: ${waits.slice(0, 5).join('; ')})`);
}));
