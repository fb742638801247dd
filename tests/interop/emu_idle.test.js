// SPDX-License-Identifier: MIT
// Production fidelity (docs/EMULATOR.md, "Idle cut-off"): like the load balancers in front of Azure
// Relay (§5.8, §13.2 "Idle flows"), the emulator cuts a TCP connection that carried no byte either
// way for IdleTimeoutMs. Black hole (default): nothing more reaches the peer, no close frame, no
// FIN, and what it sends goes nowhere; the service side treats the flow as dead (a control channel
// leaves routing at once). Reset: both ends are reset. Frames of any opcode count as traffic.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2 --set IdleTimeoutMs=1500` and the mode
// argument `blackhole`, or with `--set IdleTimeoutAction=reset` too and `reset`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(90000, 'emu_idle');
const emu = relay.emulator();
const mode = process.argv[2];
assert.ok(mode === 'blackhole' || mode === 'reset', `unknown mode ${mode}`);
const CUT_MS = 1500;
const PAST_CUT_MS = CUT_MS + 1500; // the sweep runs every CUT_MS / 8: well past the cut-off
const NO_LISTENERS = /^There are no listeners connected for the endpoint\./;

const open = (hc) => RawListener.open(relay.listenUrl(emu, hc), { token: relay.tokenFor(emu, hc) });
const senderHeaders = (hc) => ({ ServiceBusAuthorization: relay.tokenFor(emu, hc) });

/** What happened to a `ws` socket: 'open' still, or how it ended (close code, error). */
function watch(ws) {
  const seen = { closed: null, error: null, messages: [], pongs: 0 };
  ws.on('close', (code) => { seen.closed = code; });
  ws.on('error', (e) => { seen.error = e.code || e.message; });
  ws.on('message', (d) => seen.messages.push(d.toString()));
  ws.on('pong', () => { seen.pongs++; });
  return seen;
}

async function pair(l, hc) {
  const sender = relay.handshake(relay.connectUrl(emu, hc), { headers: senderHeaders(hc) });
  const accept = await l.next('accept');
  const lws = await l.accept(accept.msg);
  const s = await sender;
  assert.ok(s.ok, `sender: ${s.statusCode} ${s.statusMessage}`);
  return { sender: s.ws, lws };
}

async function senderOutcome(hc) {
  const r = await relay.handshake(relay.connectUrl(emu, hc), { headers: senderHeaders(hc), timeoutMs: 5000 });
  if (r.ok) r.ws.terminate();
  return r;
}

/** Sends a WebSocket frame of `kind` on `ws` every `ms` until the returned stop() is called. */
function keepAlive(ws, kind, ms) {
  const t = setInterval(() => {
    if (ws.readyState !== 1) return;
    if (kind === 'pong') ws.pong(); // unsolicited, as .NET and our listener send
    else ws.ping();
  }, ms);
  return () => clearInterval(t);
}

if (mode === 'blackhole') {
  test('a silent control channel is black-holed: out of routing, no close reaches it, its pings go nowhere', { timeout: 20000 }, async () => {
    const l = await open('hc1');
    const seen = watch(l.ws);
    try {
      await relay.sleep(PAST_CUT_MS);
      const r = await senderOutcome('hc1');
      assert.equal(r.statusCode, 404, `sender after the cut: ${r.statusCode} ${r.statusMessage}`);
      assert.match(r.statusMessage, NO_LISTENERS);
      l.ws.ping();
      await relay.sleep(1000);
      assert.equal(seen.pongs, 0, 'a ping into the black hole was answered');
      assert.equal(seen.closed, null, 'the listener saw its connection end (a black hole sends nothing)');
      assert.equal(seen.error, null);
      assert.equal(l.ws.readyState, 1, 'the listener still believes it is connected');
    } finally {
      l.ws.terminate();
    }
  });

  for (const kind of ['ping', 'pong']) {
    test(`a control channel that sends a ${kind} frame every ${CUT_MS / 3} ms stays in routing`, { timeout: 20000 }, async () => {
      const l = await open('hc1');
      const stop = keepAlive(l.ws, kind, CUT_MS / 3);
      try {
        await relay.sleep(PAST_CUT_MS);
        const p = await pair(l, 'hc1');
        const got = relay.nextEvent(p.lws, 'message', 5000, 'data after the idle period');
        p.sender.send('alive');
        assert.equal((await got)[0].toString(), 'alive');
        p.sender.terminate();
        p.lws.terminate();
      } finally {
        stop();
        await l.close();
      }
    });
  }

  test('data on a silent accepted connection is lost both ways, and neither side is told', { timeout: 20000 }, async () => {
    const l = await open('hc2');
    const stop = keepAlive(l.ws, 'pong', CUT_MS / 3); // the control channel itself stays
    try {
      const p = await pair(l, 'hc2');
      const atListener = watch(p.lws);
      const atSender = watch(p.sender);
      await relay.sleep(PAST_CUT_MS);
      p.sender.send('lost on the way in');
      p.lws.send('lost on the way out');
      await relay.sleep(1500);
      assert.deepEqual(atListener.messages, [], 'the sender\'s data reached the listener');
      assert.deepEqual(atSender.messages, [], 'the listener\'s data reached the sender');
      for (const [who, s] of [['listener', atListener], ['sender', atSender]]) {
        assert.equal(s.closed, null, `the ${who} saw a close`);
        assert.equal(s.error, null, `the ${who} saw an error`);
      }
      p.sender.terminate();
      p.lws.terminate();
    } finally {
      stop();
      await l.close();
    }
  });

  test('an accepted connection whose both ends keep alive outlives the cut-off', { timeout: 20000 }, async () => {
    const l = await open('hc2');
    const stops = [keepAlive(l.ws, 'pong', CUT_MS / 3)];
    try {
      const p = await pair(l, 'hc2');
      stops.push(keepAlive(p.sender, 'ping', CUT_MS / 3), keepAlive(p.lws, 'pong', CUT_MS / 3));
      await relay.sleep(PAST_CUT_MS);
      const got = relay.nextEvent(p.lws, 'message', 5000, 'data after the idle period');
      p.sender.send('kept alive');
      assert.equal((await got)[0].toString(), 'kept alive');
      const back = relay.nextEvent(p.sender, 'message', 5000, 'the answer');
      p.lws.send('and back');
      assert.equal((await back)[0].toString(), 'and back');
      p.sender.terminate();
      p.lws.terminate();
    } finally {
      stops.forEach((s) => s());
      await l.close();
    }
  });

  test('an idle keep-alive HTTP connection is black-holed: its next request gets no answer', { timeout: 20000 }, async () => {
    const req = `GET /hc2 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${relay.tokenFor(emu, 'hc2')}\r\n\r\n`;
    const { socket, response } = await proc.rawRequest(emu, req); // no listener on hc2 now: 404, kept alive
    assert.match(response, /^HTTP\/1\.1 404 /);
    let more = '';
    let ended = false;
    socket.on('data', (d) => { more += d.toString('latin1'); });
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    socket.on('error', () => {});
    socket.on('close', () => { ended = true; });
    try {
      await relay.sleep(PAST_CUT_MS);
      socket.write(req);
      await relay.sleep(1500);
      assert.equal(more, '', 'a request on the cut connection was answered');
      assert.equal(ended, false, 'the cut connection was closed');
    } finally {
      socket.destroy();
    }
  });
} else {
  test('a silent control channel is reset: the listener learns at once, senders get no listener', { timeout: 20000 }, async () => {
    const l = await open('hc1');
    const t0 = Date.now();
    const closed = await relay.withTimeout(l.closed, PAST_CUT_MS + 3000, 'the reset of the idle control channel');
    assert.equal(closed.code, 1006, 'no close frame, a reset');
    assert.ok(Date.now() - t0 >= CUT_MS - 100, `cut after ${Date.now() - t0} ms`);
    const r = await senderOutcome('hc1');
    assert.equal(r.statusCode, 404);
    assert.match(r.statusMessage, NO_LISTENERS);
  });

  test('a silent accepted connection is reset at both ends', { timeout: 20000 }, async () => {
    const l = await open('hc2');
    const stop = keepAlive(l.ws, 'pong', CUT_MS / 3);
    try {
      const p = await pair(l, 'hc2');
      const ends = [p.sender, p.lws].map((ws) => new Promise((resolve) => ws.on('close', (code) => resolve(code))));
      p.sender.on('error', () => {});
      p.lws.on('error', () => {});
      const codes = await relay.withTimeout(Promise.all(ends), PAST_CUT_MS + 3000, 'both ends to be reset');
      assert.deepEqual(codes, [1006, 1006]);
    } finally {
      stop();
      await l.close();
    }
  });
}
