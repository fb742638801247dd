// SPDX-License-Identifier: MIT
// Our listener (azr_test_listener) against a relay that misbehaves (lib/fake-relay.js): rendezvous
// addresses that would downgrade the connection to plaintext, floods of accept and HTTP request
// commands, requests without an address, and secrets in everything it sends while the listener logs
// at level 3. Each case checks what the listener must do and fails if the protection is removed.
// Runs without the emulator: `node --test hostile_relay.test.js` with AZR_TEST_LISTENER set.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { FakeRelay } = require('./lib/fake-relay');
const { withListeners, killAll, sanitized } = require('./lib/test-listener');

/** A wait of `ms`, three times longer for a sanitized listener (CI runs it on a loaded machine). */
const T = (ms) => (sanitized() ? 3 * ms : ms);

relay.watchdog(100000, 'hostile_relay');
after(killAll);

async function withRelay(opts, fn) {
  const r = await new FakeRelay(opts).start();
  try {
    await withListeners(r.asEmulator(), (start) => fn(r, start))();
  } finally {
    await r.stop();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The stats line the listener prints when it stops (after withListeners stopped it). */
function stats(L) {
  const s = L.list('stats');
  assert.equal(s.length, 1, 'one stats line at exit');
  return s[0];
}

test('a TLS control channel never follows a ws:// or http:// rendezvous address', () =>
  withRelay({}, async (r, start) => {
    const L = await start('hc1', { args: ['--http', 'echo'] });
    await r.until(() => r.control, T(5000), 'the control channel');
    const from = L.mark();
    r.send({ accept: { address: r.plainAddress('accept', 'down-1'), id: 'down-1', connectHeaders: {} } });
    r.send({ request: { address: r.plainAddress('request', 'down-2').replace('ws://', 'http://'), id: 'down-2' } });
    r.send({ request: { address: 'file:///etc/passwd', id: 'down-3', method: 'GET', requestTarget: '/hc1', body: false } });
    for (const what of ['a connection request', 'an HTTP request']) {
      await L.waitFor((e) => e.kind === 'listener_error' && e.reason.includes(`rendezvous address of ${what}`), T(5000),
        `the refusal of ${what}`, from);
    }
    // Each refusal is waited for: the lines of down-2 and down-3 may reach us in separate reads.
    await L.waitFor((e) => e.kind === 'listener_error' && /weaker than the control channel/.test(e.reason), T(5000),
      'the refusal of a downgrade', from);
    await L.waitFor((e) => e.kind === 'listener_error' && /not a ws, wss, http or https URL/.test(e.reason), T(5000),
      'the refusal of a file: URL', from);
    // The same commands with a wss:// address are followed (so the test can see a connection).
    r.send({ accept: { address: r.address('accept', 'up-1'), id: 'up-1', connectHeaders: {} } });
    await r.until(() => r.accepts.length === 1, T(5000), 'the wss:// rendezvous');
    await sleep(300);
    assert.equal(r.plainConnections, 0, 'no connection reached the plain-text port');
    assert.equal(L.list('request').length, 1, 'only the wss:// request reached the application');
  }));

test('an accept flood beyond MaxConnections is turned away with bounded work', () =>
  withRelay({ holdRejects: true }, async (r, start) => {
    const L = await start('hc1', { sets: ['MaxConnections=20'], args: ['--quiet-data'] });
    await r.until(() => r.control, T(5000), 'the control channel');
    for (let i = 0; i < 500; i++) r.send({ accept: { address: r.address('accept', `f${i}`), id: `f${i}`, connectHeaders: {} } });
    await r.until(() => r.accepts.length === 20 && r.rejectsSeen === 64, T(15000), '20 accepts and 64 rejections');
    await sleep(500);
    assert.equal(r.accepts.length, 20, 'MaxConnections accepted, no more');
    assert.equal(r.rejectsMax, 64, 'at most 64 reject handshakes at once');
    await L.stop();
    const s = stats(L);
    assert.equal(s.requests, 500);
    assert.equal(s.accepted, 20);
    assert.equal(s.rejected, 64);
    assert.equal(s.dropped, 500 - 20 - 64, 'the rest counted as dropped');
  }));

test('an HTTP request flood beyond MaxHttpRequests is answered 503 on the control channel', () =>
  withRelay({}, async (r, start) => {
    const L = await start('hc1', { sets: ['MaxHttpRequests=10'], args: ['--http', 'hold'] });
    await r.until(() => r.control, T(5000), 'the control channel');
    for (let i = 0; i < 50; i++) {
      r.send({ request: { address: r.address('request', `h${i}`), id: `h${i}`, requestTarget: '/hc1', method: 'GET',
        requestHeaders: {}, body: false } });
    }
    // Rendezvous-only requests beyond the limit are not served at all: no rendezvous is opened.
    for (let i = 0; i < 20; i++) r.send({ request: { address: r.address('request', `rv${i}`), id: `rv${i}` } });
    const refusals = () => r.controlMessages.filter((m) => m.response && m.response.statusCode === 503);
    await r.until(() => refusals().length === 40, T(10000), '40 responses with 503');
    await sleep(500);
    assert.equal(L.list('http_request').length, 10, 'the application saw MaxHttpRequests requests');
    assert.equal(r.requestRendezvous.length, 0, 'no rendezvous opened for requests beyond the limit');
    assert.deepEqual(refusals().map((m) => m.response.requestId), Array.from({ length: 40 }, (_, i) => `h${i + 10}`));
    await L.stop();
    assert.equal(stats(L).http_refused, 60);
  }));

test('a request on a rendezvous socket needs no address; on the control channel it does', () =>
  withRelay({}, async (r, start) => {
    const L = await start('hc1', { args: ['--http', 'echo'] });
    await r.until(() => r.control, T(5000), 'the control channel');
    const from = L.mark();
    r.send({ request: { id: 'c1', requestTarget: '/hc1', method: 'GET', requestHeaders: {}, body: false } });
    await L.waitFor((e) => e.kind === 'listener_error' && /without 'address'/.test(e.reason), T(5000), 'the refusal', from);
    // The relay asks for a rendezvous, then sends the request on it without an address.
    r.send({ request: { address: r.address('request', 'rv1'), id: 'rv1' } });
    await r.until(() => r.requestRendezvous.length === 1, T(5000), 'the request rendezvous');
    const rv = r.requestRendezvous[0];
    rv.send(JSON.stringify({ request: { id: 'rv1', requestTarget: '/hc1/x', method: 'POST', requestHeaders: {}, body: true } }));
    rv.send(Buffer.from('ping body'));
    await r.until(() => rv.messages.length >= 2, T(5000), 'the response on the rendezvous');
    assert.equal(rv.messages[0].response.requestId, 'rv1');
    assert.equal(rv.messages[0].response.statusCode, 200);
    assert.equal(Buffer.from(rv.messages[1]).toString(), 'ping body');
    const req = await L.waitFor((e) => e.kind === 'http_request', T(5000), 'the request line', from);
    assert.equal(req.rendezvous, 1);
    assert.equal(L.list('http_request').length, 1);
  }));

test('nothing secret reaches a level-3 log', () =>
  withRelay({}, async (r, start) => {
    const L = await start('hc1', { logLevel: 3, args: ['--http', 'echo'] });
    await r.until(() => r.control, T(5000), 'the control channel');
    const planted = {
      Authorization: 'Bearer PLANTED-auth',
      'Proxy-Authorization': 'Basic PLANTED-proxy',
      ServiceBusAuthorization: 'SharedAccessSignature sr=x&sig=PLANTED-sig&se=1&skn=k',
      Cookie: 'session=PLANTED-cookie; theme=PLANTED-cookie2',
      'Set-Cookie': 'id=PLANTED-setcookie',
    };
    r.send({ accept: { address: r.address('accept', 'a1') + '&sb-hc-token=PLANTED-token', id: 'a1', connectHeaders: planted } });
    r.send({ request: { address: r.address('request', 'q1'), id: 'q1', requestTarget: '/hc1?sig=PLANTED-q', method: 'GET',
      requestHeaders: planted, body: false } });
    r.send({ renewToken: { token: 'PLANTED-renew' } });
    await r.until(() => r.accepts.length === 1, T(5000), 'the accept rendezvous');
    await r.until(() => r.controlMessages.some((m) => m.response), T(5000), 'the HTTP response');
    r.accepts[0].send('hello');
    await L.waitFor((e) => e.kind === 'data', T(5000), 'the message');
    await L.stop();
    const log = L.stderrText;
    assert.ok(log.includes('Authorization'), 'the log does show the headers (the test can see them)');
    assert.ok(!/PLANTED/.test(log), `a planted secret leaked:\n${log.split('\n').filter((x) => /PLANTED/.test(x)).join('\n')}`);
  }));
