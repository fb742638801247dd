// SPDX-License-Identifier: MIT
// Production fidelity (docs/EMULATOR.md): whether the service repeats `address` in a request that
// it delivers on a rendezvous socket is unknown (§7.4; no SDK reads it there), so the emulator can
// leave it out (RendezvousRequestAddress=false) and listeners are tested both ways.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2` and a mode argument: `with` (default
// settings) or `without` (--set RendezvousRequestAddress=false); then `raw` to run only the raw
// listener's case, or `ours` only our listener's.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const relay = require('./lib/relay');
const cli = require('./lib/azrelay-cli');
const { withRawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'emu_request_address');
const emu = relay.emulator();
const mode = process.argv[2];
assert.ok(mode === 'with' || mode === 'without', `unknown mode ${mode}`);
const only = process.argv[3];
const rawCase = only === 'ours' ? test.skip : test;
const ourCase = only === 'raw' ? test.skip : test;

rawCase(`a request on a rendezvous ${mode === 'with' ? 'repeats' : 'leaves out'} its address`, { timeout: 20000 }, async () => {
  await withRawListener(emu, 'hc1', async (l) => {
    const answer = proc.rawRequest(emu, `POST /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${relay.tokenFor(emu, 'hc1')}\r\n` +
      'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    const cmd = await l.next('request');
    assert.equal(cmd.msg.request.method, undefined, 'a chunked request takes a rendezvous');
    const rv = await relay.handshake(cmd.msg.request.address);
    assert.ok(rv.ok);
    const first = await relay.firstMessage(rv.ws, 5000, 'the request on the rendezvous');
    const request = JSON.parse(first.toString()).request;
    assert.equal(request.method, 'POST');
    if (mode === 'with') assert.equal(request.address, cmd.msg.request.address);
    else assert.ok(!('address' in request), `address present: ${first.toString().slice(0, 200)}`);
    rv.ws.send(JSON.stringify({ response: { requestId: request.id, statusCode: 204, body: false } }));
    assert.match((await answer).response, /^HTTP\/1\.1 204 /);
    rv.ws.terminate();
  });
});

let echo;
after(async () => {
  if (echo) await echo.stop();
});

ourCase(`our listener answers requests delivered on a rendezvous (${mode} address)`, { timeout: 40000 }, async () => {
  echo = await cli.startListener(['-c', emu.connectionString('hc2'), '--cacert', emu.cert, '--http-echo'], { label: 'echo listener' });
  for (const size of [70 * 1024, 1024 * 1024]) {
    const body = crypto.randomBytes(size);
    const r = await cli.nodeRaw(emu.port, '/hc2/echo', {
      method: 'POST',
      headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc2'), 'Content-Type': 'application/octet-stream' },
      body,
      timeoutMs: 15000,
    });
    assert.equal(r.statusCode, 200, `${size} B: ${r.statusCode} ${r.statusMessage}`);
    assert.equal(relay.sha256(r.body), relay.sha256(body), `${size} B: echoed body`);
  }
});
