// SPDX-License-Identifier: MIT
// Microsoft's hyco-ws listener and hyco-ws senders through the emulator (§5, §6): messages of
// boundary sizes in both directions, many concurrent connections, close codes both ways.
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const WS = require('hyco-ws');
const relay = require('./lib/relay');
const { MessageQueue, opened, send, describe, same } = require('./lib/ws1-queue');

relay.watchdog(150000, 'ws_echo');
const emu = relay.emulator();
const HC = 'hc1';
// Frame length boundaries of RFC 6455 (7-bit, 16-bit, 64-bit lengths) and a large message.
const SIZES = [1, 125, 126, 65535, 65536, 65537, 1024 * 1024];

// Tokens the way a hyco-ws application makes them: with the package's own helper (Node-style
// audience that keeps the port, §3.3).
const resourceUri = `https://${emu.host}:${emu.port}/$hc/${HC}`;
const listenToken = () => WS.createRelayToken(resourceUri, emu.keyName, emu.key);
const sendToken = () => WS.createRelayToken(resourceUri, emu.keyName, emu.key);

let server;
const registered = new Map(); // connection name -> { ws, queue } on the listener side
const waitingFor = new Map(); // connection name -> resolve()

function payload(size, binary) {
  return binary ? crypto.randomBytes(size) : relay.asciiText(size);
}

before(async () => {
  server = WS.createRelayedServer({ server: relay.listenUrl(emu, HC), token: listenToken }, (lws) => {
    // Every listener-side connection echoes what it receives; its first message names it.
    const queue = new MessageQueue(lws, 'listener side');
    let named = false;
    lws.on('message', (data, flags) => {
      const binary = !!(flags && flags.binary);
      if (!named && !binary && String(data).startsWith('hello:')) {
        named = true;
        const name = String(data).slice('hello:'.length);
        queue.items.shift(); // the hello itself is not part of the traffic under test
        registered.set(name, { ws: lws, queue });
        const w = waitingFor.get(name);
        if (w) w();
      }
      lws.send(data, { binary }, (err) => {
        if (err) queue.errors.push(err);
      });
    });
  });
  server.on('error', (e) => process.stderr.write(`hyco-ws listener error: ${e && (e.message || e)}\n`));
  await relay.nextEvent(server, 'listening', 15000, 'the hyco-ws listener to come online');
});

after(async () => {
  if (server) {
    server.close();
    await relay.sleep(100);
  }
});

/** A hyco-ws sender connected through the emulator to the hyco-ws listener, both ends named. */
async function openPair(name, { protocols } = {}) {
  // relayedConnect() cannot offer sub-protocols; the same ws 1.x class can, with the same header.
  const sender = protocols
    ? new WS(relay.connectUrl(emu, HC), protocols, { headers: { ServiceBusAuthorization: sendToken() } })
    : WS.relayedConnect(relay.connectUrl(emu, HC), sendToken());
  const senderQueue = new MessageQueue(sender, `sender ${name}`);
  let unexpected = null;
  sender.on('unexpected-response', (req, res) => {
    unexpected = `${res.statusCode} ${res.statusMessage}`;
    req.abort();
    sender.emit('error', new Error(`sender handshake refused: ${unexpected}`));
  });
  await opened(sender, 15000, `sender ${name} to open`);
  const listenerSide = new Promise((resolve) => waitingFor.set(name, resolve));
  await send(sender, `hello:${name}`, false);
  const hello = await senderQueue.next(10000);
  assert.equal(hello.data, `hello:${name}`, 'the hello must come back from the listener');
  await relay.withTimeout(listenerSide, 10000, `listener side of ${name}`);
  waitingFor.delete(name);
  const l = registered.get(name);
  return { name, sender, senderQueue, lws: l.ws, listenerQueue: l.queue };
}

async function closePair(p) {
  try {
    p.sender.close();
  } catch {
    /* already closed */
  }
  await relay.withTimeout(p.senderQueue.closed, 5000, `${p.name} to close`).catch(() => p.sender.terminate());
}

/** Sender -> listener (checked on arrival) -> echo -> sender (checked again). */
async function roundTrip(p, want) {
  await send(p.sender, want.data, want.binary);
  const atListener = await p.listenerQueue.next(20000);
  assert.ok(same(atListener, want), `${p.name}: listener got ${describe(atListener)}, sender sent ${describe(want)}`);
  const echo = await p.senderQueue.next(20000);
  assert.ok(same(echo, want), `${p.name}: echo is ${describe(echo)}, expected ${describe(want)}`);
}

/** Listener -> sender. */
async function listenerSends(p, want) {
  await send(p.lws, want.data, want.binary);
  const got = await p.senderQueue.next(20000);
  assert.ok(same(got, want), `${p.name}: sender got ${describe(got)}, listener sent ${describe(want)}`);
}

test('text and binary messages of boundary sizes travel both ways byte for byte', { timeout: 60000 }, async () => {
  const p = await openPair('sizes');
  try {
    for (const binary of [false, true]) {
      for (const size of SIZES) await roundTrip(p, { binary, data: payload(size, binary) });
    }
    // UTF-8 text with multi-byte characters must keep its exact bytes.
    await roundTrip(p, { binary: false, data: 'h\u00e9llo \u2013 \u4e16\u754c \u{1F680} '.repeat(1000) });
    // An empty binary message and an empty text message are messages too.
    await roundTrip(p, { binary: true, data: Buffer.alloc(0) });
    await roundTrip(p, { binary: false, data: '' });
    for (const binary of [false, true]) {
      for (const size of SIZES) await listenerSends(p, { binary, data: payload(size, binary) });
    }
    assert.deepEqual(p.senderQueue.errors, []);
    assert.deepEqual(p.listenerQueue.errors, []);
  } finally {
    await closePair(p);
  }
});

test('20 concurrent connections each keep their own traffic intact', { timeout: 90000 }, async () => {
  const N = 20;
  const pairs = await Promise.all(Array.from({ length: N }, (_, i) => openPair(`conc-${i}`)));
  try {
    assert.equal(new Set(pairs.map((p) => p.lws)).size, N, 'each sender must get its own listener-side socket');
    await Promise.all(
      pairs.map(async (p) => {
        for (const size of [1, 126, 65536, 65537, 200000]) {
          await roundTrip(p, { binary: true, data: payload(size, true) });
          await roundTrip(p, { binary: false, data: payload(size, false) });
          await listenerSends(p, { binary: true, data: payload(size, true) });
        }
      }),
    );
    // Interleave: every pair sends a burst without waiting; order within a connection must hold.
    await Promise.all(
      pairs.map(async (p) => {
        const burst = Array.from({ length: 10 }, (_, i) => ({ binary: i % 2 === 0, data: payload(1000 + i, i % 2 === 0) }));
        await Promise.all(burst.map((m) => send(p.sender, m.data, m.binary)));
        for (const m of burst) {
          const atListener = await p.listenerQueue.next(20000);
          assert.ok(same(atListener, m), `${p.name}: burst out of order or corrupted at the listener`);
        }
        for (const m of burst) {
          const echo = await p.senderQueue.next(20000);
          assert.ok(same(echo, m), `${p.name}: burst echo out of order or corrupted`);
        }
      }),
    );
  } finally {
    await Promise.all(pairs.map(closePair));
  }
});

test('a close code and reason from the sender reach the listener', { timeout: 20000 }, async () => {
  const p = await openPair('close-by-sender');
  p.sender.close(4001, 'bye');
  const atListener = await relay.withTimeout(p.listenerQueue.closed, 10000, 'the listener side to see the close');
  assert.equal(atListener.code, 4001);
  assert.equal(atListener.reason, 'bye');
  const atSender = await relay.withTimeout(p.senderQueue.closed, 10000, 'the sender to finish closing');
  assert.equal(atSender.code, 4001, 'the echoed close frame keeps the code');
});

test('a close code and reason from the listener reach the sender', { timeout: 20000 }, async () => {
  const p = await openPair('close-by-listener');
  p.lws.close(4002, 'later, bye');
  const atSender = await relay.withTimeout(p.senderQueue.closed, 10000, 'the sender to see the close');
  assert.equal(atSender.code, 4002);
  assert.equal(atSender.reason, 'later, bye');
  const atListener = await relay.withTimeout(p.listenerQueue.closed, 10000, 'the listener side to finish closing');
  assert.equal(atListener.code, 4002);
});

test('the sub-protocol the hyco-ws listener picks reaches the sender (§4.2, §6.3)', { timeout: 20000 }, async () => {
  // hyco-ws answers with the first protocol offered; ws 1.x fails the handshake unless the relay
  // returns exactly one of the offered values.
  const p = await openPair('subprotocol', { protocols: ['chat.v2', 'chat.v1'] });
  try {
    assert.equal(p.sender.protocol, 'chat.v2', 'sender side');
    assert.equal(p.lws.protocol, 'chat.v2', 'listener side');
    await roundTrip(p, { binary: false, data: 'negotiated' });
  } finally {
    await closePair(p);
  }
});
