// SPDX-License-Identifier: MIT
// Production fidelity (docs/EMULATOR.md, "Where the behaviour comes from"): the emulator is as
// strict as the service where our earlier leniency hid bugs — Authorization is passed on unless it
// carried the relay's token (§3.4), tokens are checked against the namespace host only, never the
// Host header the client chose (§3.3, §3.6), requests whose headers and body exceed 64 KB take a
// rendezvous (§7.2), and an unrenewed control channel is closed a few seconds after its token
// expired (§3.7).
// Run through lib/run-with-emulator.js with `--hc hc1,hc2 --set NamespaceAliases=alias.test`
// (default settings otherwise).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { RawListener, withRawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(90000, 'emu_strict');
const emu = relay.emulator();

const withListener = (hc, fn) => withRawListener(emu, hc, fn);

/** Sends a raw HTTP request and resolves with the response head once the listener answered. */
function send(request) {
  return proc.rawRequest(emu, request).then(({ socket, response }) => {
    socket.destroy();
    return response;
  });
}

test('Authorization reaches the listener unless it carried the relay token', { timeout: 20000 }, async () => {
  await withListener('hc1', async (l) => {
    const tok = relay.tokenFor(emu, 'hc1');
    const cases = [
      ['token in the query', `GET /hc1?sb-hc-token=${encodeURIComponent(tok)} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer end-to-end\r\n\r\n`, 'Bearer end-to-end'],
      ['token in ServiceBusAuthorization', `GET /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${tok}\r\nAuthorization: Bearer end-to-end\r\n\r\n`, 'Bearer end-to-end'],
      ['token in Authorization', `GET /hc1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${tok}\r\n\r\n`, undefined],
    ];
    for (const [what, request, expected] of cases) {
      const answer = send(request);
      const cmd = await l.next('request');
      const headers = Object.fromEntries(Object.entries(cmd.msg.request.requestHeaders).map(([k, v]) => [k.toLowerCase(), v]));
      assert.equal(headers.authorization, expected, `${what}: Authorization seen by the listener`);
      assert.equal(headers.servicebusauthorization, undefined, `${what}: ServiceBusAuthorization is never passed on`);
      await l.respond(cmd.msg.request.id, { statusCode: 204 });
      assert.match(await answer, /^HTTP\/1\.1 204 /);
    }
  });
});

test('tokens name the namespace host: the Host a client dials or sends does not widen the audience', { timeout: 30000 }, async () => {
  const ipToken = relay.sasToken({ resource: 'http://127.0.0.1/hc2/', keyName: emu.keyName, key: emu.key });
  const ip = { ...emu, host: '127.0.0.1' };
  // listen, dialled as 127.0.0.1 with a token for 127.0.0.1
  const r = await relay.handshake(relay.listenUrl(ip, 'hc2'), { headers: { ServiceBusAuthorization: ipToken } });
  if (r.ok) r.ws.terminate();
  assert.equal(r.ok, false, 'a listener with a token for the dialled address instead of the namespace got in');
  assert.equal(r.statusCode, 401);
  assert.match(r.statusMessage, /^InvalidAudience/);
  // HTTP with a made-up Host header and a token for it
  const evil = relay.sasToken({ resource: 'http://evil.example/hc2/', keyName: emu.keyName, key: emu.key });
  const answer = await send(`GET /hc2 HTTP/1.1\r\nHost: evil.example\r\nServiceBusAuthorization: ${evil}\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 401 InvalidAudience/);
  // A configured alias is a namespace name too, whatever Host the client sent.
  const alias = relay.sasToken({ resource: 'http://alias.test/hc2/', keyName: emu.keyName, key: emu.key });
  const ok = await relay.handshake(relay.listenUrl(emu, 'hc2'), { headers: { ServiceBusAuthorization: alias } });
  assert.ok(ok.ok, `a token for NamespaceAliases: ${ok.statusCode} ${ok.statusMessage}`);
  ok.ws.terminate();
  // renewToken is checked the same way: the same kind of token closes the channel
  await withListener('hc2', async (l) => {
    await l.renewToken(ipToken);
    const closed = await relay.withTimeout(l.closed, 5000, 'the channel to be closed');
    assert.equal(closed.code, 1008, `close ${closed.code} ${closed.reason}`);
  });
});

test('a request whose headers plus body exceed 64 KB goes over a rendezvous', { timeout: 30000 }, async () => {
  await withListener('hc1', async (l) => {
    const body = 'b'.repeat(60000);
    const tok = relay.tokenFor(emu, 'hc1');
    const req = (pad) => `POST /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${tok}\r\n` +
      (pad ? `X-Pad: ${'p'.repeat(pad)}\r\n` : '') + `Content-Length: ${body.length}\r\n\r\n${body}`;
    // 60,000 bytes of body and small headers: on the control channel, body included.
    let answer = send(req(0));
    let cmd = await l.next('request');
    assert.equal(cmd.msg.request.method, 'POST', 'small enough for the control channel');
    assert.equal(cmd.body.length, body.length);
    await l.respond(cmd.msg.request.id, { statusCode: 200 });
    assert.match(await answer, /^HTTP\/1\.1 200 /);
    // The same body with 8 KB more headers: over 64 KB in all, so a rendezvous (§5.5 form).
    answer = send(req(8000));
    cmd = await l.next('request');
    assert.equal(cmd.msg.request.method, undefined, `expected the rendezvous-only form, got ${cmd.raw.slice(0, 200)}`);
    const rv = await relay.handshake(cmd.msg.request.address);
    assert.ok(rv.ok, `rendezvous: ${rv.statusCode}`);
    const full = await new Promise((resolve) => {
      // The command may have come with the 101 (relay.handshake keeps such early messages).
      const parts = rv.ws.early.map((d, i) => ({ d, bin: rv.ws.earlyBinary[i] }));
      if (parts.some((p) => p.bin)) resolve(parts);
      rv.ws.on('message', (d, bin) => {
        parts.push({ d, bin });
        if (bin) resolve(parts);
      });
    });
    const request = JSON.parse(full[0].d.toString()).request;
    assert.equal(request.requestHeaders['X-Pad'].length, 8000);
    assert.equal(Buffer.concat(full.slice(1).map((p) => p.d)).length, body.length);
    rv.ws.send(JSON.stringify({ response: { requestId: request.id, statusCode: 201, body: false } }));
    assert.match(await answer, /^HTTP\/1\.1 201 /);
    rv.ws.terminate();
  });
});

test('an unrenewed control channel is closed within a few seconds of its token\'s expiry', { timeout: 30000 }, async () => {
  const se = relay.nowSeconds() + 2;
  const l = await RawListener.open(relay.listenUrl(emu, 'hc2'), { token: relay.tokenFor(emu, 'hc2', { expiry: se }) });
  try {
    const closed = await relay.withTimeout(l.closed, 12000, 'the expired channel to be closed');
    assert.equal(closed.code, 1008);
    const late = closed.at / 1000 - se;
    assert.ok(late >= -1, `closed ${-late} s before expiry`);
    assert.ok(late <= 7, `closed ${late.toFixed(1)} s after expiry: the grace hides late renewals`);
  } finally {
    await l.close();
  }
});
