// SPDX-License-Identifier: MIT
// Production fidelity (docs/EMULATOR.md): like the service (§2.4, a real capture:
// wss://g17-prod-by3-010-sb.servicebus.windows.net/$hc/...), the emulator hands out rendezvous
// addresses on a gateway host that is not the namespace host, so that clients whose TLS checks,
// proxy bypass lists or pinning assume one host fail here as they would against Azure.
// Run through lib/run-with-emulator.js with `--hc hc1` and one mode argument:
//   default  (no setting)                    rendezvous on 127.0.0.1:port, whatever host was dialled
//   listener (--set GatewayHost=listener)    rendezvous on the host the listener dialled
//   named    (--set GatewayHost=gw.example)  rendezvous on gw.example:port, named by the certificate
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(60000, 'emu_gateway');
const emu = relay.emulator();
const mode = process.argv[2];
assert.ok(['default', 'listener', 'named'].includes(mode), `unknown mode ${mode}`);

/** What the rendezvous addresses must name for a listener that dialled `dialled`. */
function expectedAuthority(dialled) {
  if (mode === 'default') return `127.0.0.1:${emu.port}`;
  if (mode === 'named') return `gw.example:${emu.port}`;
  return `${dialled}:${emu.port}`;
}

/** ws options that resolve gw.example to 127.0.0.1 (no hosts file needed) and check its name. */
const wsOptions = {
  lookup: (host, opts, cb) => {
    const addr = host === 'gw.example' ? '127.0.0.1' : host === 'localhost' ? '127.0.0.1' : host;
    if (opts && opts.all) cb(null, [{ address: addr, family: 4 }]);
    else cb(null, addr, 4);
  },
};

for (const dialled of ['localhost', '127.0.0.1']) {
  test(`accept and request addresses for a listener that dialled ${dialled} (${mode})`, { timeout: 20000 }, async () => {
    const e = { ...emu, host: dialled };
    const l = await RawListener.open(relay.listenUrl(e, 'hc1'), { token: relay.tokenFor(emu, 'hc1') });
    try {
      const sender = relay.handshake(relay.connectUrl(emu, 'hc1'), { headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') } });
      const accept = await l.next('accept');
      const url = new URL(accept.msg.accept.address);
      assert.equal(url.host, expectedAuthority(dialled), accept.msg.accept.address);
      // The address works as handed out: TLS with the name it carries, resolved by the client.
      const r = await relay.handshake(accept.msg.accept.address, { wsOptions });
      assert.ok(r.ok, `accept on ${url.host}: ${r.statusCode} ${r.statusMessage}`);
      const s = await sender;
      assert.ok(s.ok);
      const got = relay.nextEvent(r.ws, 'message', 5000, 'data over the gateway');
      s.ws.send('via the gateway');
      assert.equal((await got)[0].toString(), 'via the gateway');
      s.ws.terminate();
      r.ws.terminate();
      // HTTP: the address of a request names the same host.
      const answer = proc.rawRequest(emu, `GET /hc1 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${relay.tokenFor(emu, 'hc1')}\r\n\r\n`);
      const req = await l.next('request');
      assert.equal(new URL(req.msg.request.address).host, expectedAuthority(dialled), req.msg.request.address);
      await l.respond(req.msg.request.id, { statusCode: 204 });
      (await answer).socket.destroy();
    } finally {
      await l.close();
    }
  });
}

test(`the served certificate names the gateway host (${mode})`, () => {
  const cert = new crypto.X509Certificate(fs.readFileSync(emu.cert));
  const san = cert.subjectAltName;
  assert.match(san, /IP Address:127\.0\.0\.1/);
  if (mode === 'named') assert.match(san, /DNS:gw\.example/);
  else assert.doesNotMatch(san, /gw\.example/);
});
