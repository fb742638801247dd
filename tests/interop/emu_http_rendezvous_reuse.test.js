// SPDX-License-Identifier: MIT
// Production fidelity (docs/EMULATOR.md, HTTP): once a sender's connection has a rendezvous, its
// later requests travel over that rendezvous, not the control channel (protocol §7.2; .NET's
// RelayedHttpListenerContext keeps reading requests from the rendezvous WebSocket).
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withRawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'emu_http_rendezvous_reuse');
const emu = relay.emulator();

/** Every message on a socket from relay.handshake(), those that came with its 101 first. */
function messages(ws) {
  const queue = [...ws.early];
  const waiting = [];
  ws.on('message', (d) => (waiting.length ? waiting.shift()(d) : queue.push(d)));
  return (ms, what) =>
    queue.length
      ? Promise.resolve(queue.shift())
      : relay.withTimeout(new Promise((resolve) => waiting.push(resolve)), ms, what);
}

test('a second request on the same sender connection comes over its rendezvous', { timeout: 30000 }, async () => {
  await withRawListener(emu, 'hc1', async (l) => {
    const token = relay.tokenFor(emu, 'hc1');
    // A chunked request takes a rendezvous (§7.4).
    const first = proc.rawRequest(emu, `POST /hc1/first HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${token}\r\n` +
      'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    const cmd = await l.next('request');
    const rv = await relay.handshake(cmd.msg.request.address);
    assert.ok(rv.ok, `rendezvous: ${rv.statusCode}`);
    rv.ws.on('error', () => {});
    const next = messages(rv.ws);
    const r1 = JSON.parse((await next(5000, 'the first request on the rendezvous')).toString()).request;
    assert.equal(r1.method, 'POST');
    await next(5000, 'the first request body');
    rv.ws.send(JSON.stringify({ response: { requestId: r1.id, statusCode: 204, body: false } }));
    const { socket, response } = await first;
    assert.match(response, /^HTTP\/1\.1 204 /);

    // The same connection asks again: the request must arrive on the rendezvous we still hold.
    const second = next(5000, 'the second request on the rendezvous').then((d) => JSON.parse(d.toString()));
    const onControl = l.next('request', 2000).then(
      (c) => c,
      () => null,
    );
    let head = '';
    const answered = new Promise((resolve) => {
      socket.on('data', (d) => {
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n')) resolve(head);
      });
    });
    socket.write(`GET /hc1/second HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${token}\r\n\r\n`);
    const r2 = (await second).request;
    assert.equal(r2.method, 'GET');
    assert.match(r2.requestTarget, /\/second$/);
    rv.ws.send(JSON.stringify({ response: { requestId: r2.id, statusCode: 204, body: false } }));
    assert.match(await relay.withTimeout(answered, 5000, 'the second response'), /^HTTP\/1\.1 204 /);
    assert.equal(await onControl, null, 'the second request also came on the control channel');
    socket.destroy();
    rv.ws.terminate();
  });
});
