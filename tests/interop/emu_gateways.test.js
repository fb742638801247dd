// SPDX-License-Identifier: MIT
// Gateways (docs/EMULATOR.md): Microsoft's hyco-ws listener keeps its control channel at the home
// (the emulator the runner started) while hyco-ws senders arrive at a gateway, a second emulator
// process this test starts. The listener follows each accept command to the gateway, as it follows
// the service's to whichever gateway machine holds the sender (§2.4). Plain mode: the two
// processes then need no shared certificate (the TLS case is cli_emulator_gateway).
// Run through lib/run-with-emulator.js with `--plain --hc hc1 --set GatewaySecret=S` and S as the
// test's argument.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const WS = require('hyco-ws');
const relay = require('./lib/relay');
const { connectOutcome } = require('./lib/hyco-sender');

relay.watchdog(60000, 'emu_gateways');
const emu = relay.emulator();
const secret = process.argv[2];
assert.ok(emu.plain, 'run with --plain');
assert.ok(secret, 'the GatewaySecret is the first argument');

let gateway;
let gatewayOut = '';
let gatewayErr = '';
let gw; // the gateway as an emulator description (its port)

async function until(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${gatewayErr}`);
    await relay.sleep(50);
  }
}

before(async () => {
  gateway = spawn(process.env.AZRELAY_BIN, ['emulator', '--port', '0', '--plain', '--hc', 'hc1', '-v',
    '--key-name', emu.keyName, '--key', emu.key,
    '--set', `GatewaySecret=${secret}`, '--set', `HomeAddress=127.0.0.1:${emu.port}`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  gateway.stdout.on('data', (d) => { gatewayOut += d; });
  gateway.stderr.on('data', (d) => { gatewayErr += d; });
  await until(() => /^ready$/m.test(gatewayOut), 15000, 'the gateway to start');
  gw = { ...emu, port: Number(/^endpoint: http:\/\/[^:/]+:(\d+)\//m.exec(gatewayOut)[1]) };
});

after(() => {
  if (gateway) gateway.kill('SIGTERM');
});

// Tokens as a hyco-ws application makes them; the audience names the namespace, not a gateway.
const token = () => WS.createRelayToken(`http://${emu.host}:${emu.port}/$hc/hc1`, emu.keyName, emu.key);

test('no listener at the home: the sender at the gateway hears the home\'s 404', { timeout: 20000 }, async () => {
  const r = await connectOutcome(relay.connectUrl(gw, 'hc1'), token());
  assert.equal(r.ok, false);
  assert.equal(r.statusCode, 404);
  assert.match(`${r.statusMessage} ${r.body}`, /no listeners connected/);
});

test('hyco-ws listener at the home, hyco-ws senders at the gateway', { timeout: 30000 }, async () => {
  const server = WS.createRelayedServer({ server: relay.listenUrl(emu, 'hc1'), token }, (ws) => {
    ws.on('message', (data, flags) => ws.send(data, { binary: !!(flags && flags.binary) }));
  });
  server.on('error', (e) => process.stderr.write(`hyco-ws listener error: ${e && (e.message || e)}\n`));
  try {
    await relay.nextEvent(server, 'listening', 15000, 'the hyco-ws listener to come online at the home');
    for (let i = 0; i < 3; i++) {
      const s = await connectOutcome(relay.connectUrl(gw, 'hc1'), token());
      assert.ok(s.ok, `sender ${i} at the gateway: ${s.statusCode} ${s.statusMessage} ${s.body || ''}`);
      const got = relay.nextEvent(s.ws, 'message', 5000, `the echo of sender ${i}`);
      s.ws.send(`through the gateway ${i}`);
      assert.equal(String((await got)[0]), `through the gateway ${i}`);
      s.ws.close();
    }
    // The pairs were made at the gateway: the home never saw these rendezvous ids.
    await until(() => (gatewayErr.match(/accepted by its listener/g) || []).length === 3, 5000,
      'three rendezvous at the gateway');
  } finally {
    server.close();
  }
});
