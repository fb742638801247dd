// SPDX-License-Identifier: MIT
// Hardening (docs/SECURITY.md): a peer that sends pings and never reads cannot make the emulator
// queue pongs without bound (the bug: pongs piled up to the 64 MiB stream cap per connection).
// On a control channel the emulator stops reading a peer whose output is over its high-water mark;
// on a relayed connection it keeps reading (the other leg paces the data) and sends no pongs while
// the leg's queue is over the mark (emu_relay_directions: pausing there deadlocked echoes).
// Run through lib/run-with-emulator.js with `--hc hc1,hc2`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(90000, 'sec_ping_flood');
const emu = relay.emulator();
const FLOOD_BYTES = 80 * 1024 * 1024; // more than the stream's 64 MiB cap

/** 1 MiB (about) of masked client Ping frames with 125-byte payloads. */
function pingChunk() {
  const frame = Buffer.alloc(2 + 4 + 125);
  frame[0] = 0x89; // FIN + ping
  frame[1] = 0x80 | 125; // masked, 125 bytes
  crypto.randomFillSync(frame, 2, 4 + 125);
  return Buffer.concat(Array(8000).fill(frame));
}

/**
 * Stops reading `ws`'s socket and writes pings into it until FLOOD_BYTES went out or the emulator
 * stops taking them for a second. Resolves with the number of bytes written.
 */
async function flood(ws) {
  const socket = ws._socket;
  socket.pause();
  socket.removeAllListeners('data');
  const chunk = pingChunk();
  let sent = 0;
  while (sent < FLOOD_BYTES) {
    const more = socket.write(chunk);
    sent += chunk.length;
    if (!more) {
      const drained = await Promise.race([
        new Promise((r) => socket.once('drain', () => r(true))),
        relay.sleep(1000).then(() => false),
      ]);
      if (!drained) break;
    }
  }
  return sent;
}

async function pair(listener, hc) {
  const sender = relay.handshake(relay.connectUrl(emu, hc), { headers: { ServiceBusAuthorization: relay.tokenFor(emu, hc) } });
  const accept = await listener.next('accept');
  const lws = await listener.accept(accept.msg);
  const s = await sender;
  assert.ok(s.ok, `sender: ${s.statusCode} ${s.statusMessage}`);
  lws.on('error', () => {});
  s.ws.on('error', () => {});
  return { sender: s.ws, lws };
}

async function echoWorks(listener) {
  const p = await pair(listener, 'hc1');
  p.lws.on('message', (d, bin) => p.lws.send(d, { binary: bin }));
  const got = relay.nextEvent(p.sender, 'message', 10000, 'an echo during the flood');
  p.sender.send('still served');
  const [d] = await got;
  assert.equal(d.toString(), 'still served');
  p.sender.terminate();
  p.lws.terminate();
}

test('senders flooding pings without reading: bounded memory, others still served', { timeout: 60000 }, async () => {
  const listener = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: relay.tokenFor(emu, 'hc1') });
  const pairs = [];
  try {
    for (let i = 0; i < 4; i++) pairs.push(await pair(listener, 'hc1'));
    const before = proc.rssKiB();
    const sent = await Promise.all(pairs.map((p) => flood(p.sender)));
    await relay.sleep(500);
    const grew = proc.rssKiB() - before;
    console.log(`# RSS grew by ${grew} KiB; sent ${sent.map((n) => n >> 20).join(", ")} MiB`);
    // Pongs for a leg that reads nothing are dropped, not queued until the leg's stream overflows
    // and the relayed connection is cut.
    for (const p of pairs) assert.equal(p.lws.readyState, 1, 'a flooding sender\'s relayed connection was cut');
    await echoWorks(listener);
    assert.ok(grew < 16 * 1024, `RSS grew by ${(grew / 1024).toFixed(0)} MiB for 4 flooding senders (sent ${sent.map((n) => (n >> 20) + ' MiB').join(', ')})`);
  } finally {
    for (const p of pairs) {
      p.sender.terminate();
      p.lws.terminate();
    }
    await listener.close();
  }
});

test('a control channel flooding pings without reading: bounded memory', { timeout: 60000 }, async () => {
  const listeners = [];
  try {
    for (let i = 0; i < 4; i++) {
      listeners.push(await RawListener.open(relay.listenUrl(emu, 'hc2'), { token: relay.tokenFor(emu, 'hc2') }));
    }
    const before = proc.rssKiB();
    const sent = await Promise.all(listeners.map((l) => flood(l.ws)));
    await relay.sleep(500);
    const grew = proc.rssKiB() - before;
    console.log(`# RSS grew by ${grew} KiB; sent ${sent.map((n) => n >> 20).join(", ")} MiB`);
    const other = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: relay.tokenFor(emu, 'hc1') });
    await echoWorks(other);
    await other.close();
    assert.ok(grew < 16 * 1024, `RSS grew by ${(grew / 1024).toFixed(0)} MiB for 4 flooding control channels (sent ${sent.map((n) => (n >> 20) + ' MiB').join(', ')})`);
  } finally {
    for (const l of listeners) l.ws.terminate();
  }
});
