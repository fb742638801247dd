// SPDX-License-Identifier: MIT
// Fault injection (docs/EMULATOR.md): LatencyMs delays every command to a listener, HTTP request
// commands included, and RendezvousDelayMs delays the answer to every rendezvous (accept, reject,
// HTTP request).
// Run through lib/run-with-emulator.js with `--hc hc1 --set LatencyMs=800 --set RendezvousDelayMs=800`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { withRawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'emu_faults');
const emu = relay.emulator();
const DELAY = 800;
const SLACK = 60;

test('LatencyMs delays HTTP request commands; RendezvousDelayMs their rendezvous', { timeout: 30000 }, async () => {
  await withRawListener(emu, 'hc1', async (l) => {
    const tok = relay.tokenFor(emu, 'hc1');
    let t0 = Date.now();
    let answer = proc.rawRequest(emu, `GET /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${tok}\r\n\r\n`);
    let cmd = await l.next('request');
    const latency = Date.now() - t0;
    assert.ok(latency >= DELAY - SLACK, `the request command came after ${latency} ms`);
    await l.respond(cmd.msg.request.id, { statusCode: 204 });
    (await answer).socket.destroy();
    // A chunked request asks for a rendezvous: the command is delayed, then the rendezvous answer.
    t0 = Date.now();
    answer = proc.rawRequest(emu, `POST /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${tok}\r\n` +
      'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    cmd = await l.next('request');
    assert.ok(Date.now() - t0 >= DELAY - SLACK, `the rendezvous request came after ${Date.now() - t0} ms`);
    const r0 = Date.now();
    const rv = await relay.handshake(cmd.msg.request.address);
    const rvTime = Date.now() - r0;
    assert.ok(rv.ok);
    assert.ok(rvTime >= DELAY - SLACK, `the rendezvous was answered after ${rvTime} ms`);
    const first = await relay.firstMessage(rv.ws, 5000, 'the request on the rendezvous');
    rv.ws.send(JSON.stringify({ response: { requestId: JSON.parse(first.toString()).request.id, statusCode: 202, body: false } }));
    assert.match((await answer).response, /^HTTP\/1\.1 202 /);
    rv.ws.terminate();
  });
});

test('accept and reject rendezvous are answered after RendezvousDelayMs', { timeout: 30000 }, async () => {
  await withRawListener(emu, 'hc1', async (l) => {
    const headers = { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') };
    const t0 = Date.now();
    const sender = relay.handshake(relay.connectUrl(emu, 'hc1'), { headers });
    let accept = await l.next('accept');
    assert.ok(Date.now() - t0 >= DELAY - SLACK, 'LatencyMs delays accept commands');
    const a0 = Date.now();
    const lws = await l.accept(accept.msg);
    assert.ok(Date.now() - a0 >= DELAY - SLACK, `accept answered after ${Date.now() - a0} ms`);
    const s = await sender;
    assert.ok(s.ok);
    assert.ok(Date.now() - t0 >= 2 * DELAY - SLACK);
    s.ws.terminate();
    lws.terminate();
    const refused = relay.handshake(relay.connectUrl(emu, 'hc1'), { headers });
    accept = await l.next('accept');
    const j0 = Date.now();
    const r = await l.reject(accept.msg, 409, 'Busy');
    assert.equal(r.statusCode, 410);
    assert.ok(Date.now() - j0 >= DELAY - SLACK, `reject answered after ${Date.now() - j0} ms`);
    assert.equal((await refused).statusCode, 409);
  });
});
