// SPDX-License-Identifier: MIT
// Hardening (docs/SECURITY.md): connections that have not sent a request head yet and HTTP
// keep-alive connections count against MaxConnections, and one peer address may hold at most
// MaxPendingConnectionsPerAddress of them; extra ones are reset at once and memory stays flat.
// Run through lib/run-with-emulator.js with
// `--hc hc1,hc2 --set MaxConnections=120 --set MaxPendingConnectionsPerAddress=40`.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const proc = require('./lib/emu-process');

relay.watchdog(90000, 'sec_pending_connections');
const emu = relay.emulator();
const PER_ADDRESS = 40;
const MAX_CONNECTIONS = 120;

const open = (sockets) => sockets.filter((s) => s.closedAt === null);

async function settle(sockets, ms = 1500) {
  await relay.sleep(ms);
  return open(sockets);
}

test('one address holds at most MaxPendingConnectionsPerAddress silent connections; memory stays flat', { timeout: 40000 }, async () => {
  const a = await proc.idleConnections(emu.port, PER_ADDRESS + 20, { localAddress: '127.0.0.2' });
  try {
    const kept = await settle(a);
    assert.equal(kept.length, PER_ADDRESS, `${kept.length} of ${a.length} silent connections from one address stayed open`);
    // Another address has its own allowance.
    const b = await proc.idleConnections(emu.port, 10, { localAddress: '127.0.0.3' });
    assert.equal((await settle(b, 500)).length, 10);
    proc.destroyAll(b);
    // Many more from one address: refused at accept, so they cost (almost) no memory
    // (the bug: 1,500 idle connections took RSS from 12 to 95 MB).
    const before = proc.rssKiB();
    const flood = await proc.idleConnections(emu.port, 1500, { localAddress: '127.0.0.4' });
    const keptFlood = await settle(flood);
    const grew = proc.rssKiB() - before;
    proc.destroyAll(flood);
    assert.equal(keptFlood.length, PER_ADDRESS);
    assert.ok(grew < 16 * 1024, `RSS grew by ${grew} KiB for 1,500 refused connections`);
  } finally {
    proc.destroyAll(a);
  }
});

test('silent connections count against MaxConnections: a full namespace refuses a listener until they go', { timeout: 40000 }, async () => {
  const held = [];
  try {
    for (const addr of ['127.0.0.5', '127.0.0.6', '127.0.0.7']) {
      held.push(...(await proc.idleConnections(emu.port, PER_ADDRESS, { localAddress: addr })));
    }
    assert.equal((await settle(held)).length, MAX_CONNECTIONS);
    const refused = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: relay.tokenFor(emu, 'hc1'), timeoutMs: 5000 })
      .then((l) => l.close().then(() => null), (e) => e);
    assert.ok(refused, 'a listener must not get in while the namespace is full of silent connections');
    proc.destroyAll(held.splice(0, PER_ADDRESS));
    await relay.sleep(500);
    const listener = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: relay.tokenFor(emu, 'hc1') });
    const sender = relay.handshake(relay.connectUrl(emu, 'hc1'), { headers: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1') } });
    const accept = await listener.next('accept');
    const lws = await listener.accept(accept.msg);
    const s = await sender;
    assert.ok(s.ok, `sender: ${s.statusCode} ${s.statusMessage}`);
    s.ws.terminate();
    lws.terminate();
    await listener.close();
  } finally {
    proc.destroyAll(held);
  }
});

test('HTTP keep-alive connections count as pending for their address', { timeout: 40000 }, async () => {
  const conns = [];
  const request = `GET /hc2 HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: ${relay.tokenFor(emu, 'hc2')}\r\n\r\n`;
  try {
    for (let i = 0; i < PER_ADDRESS; i++) {
      // hc2 has no listener: 404, and the connection stays open for the next request.
      const r = await proc.rawRequest(emu, request, { localAddress: '127.0.0.8' });
      assert.match(r.response, /^HTTP\/1\.1 404 /);
      r.socket.removeAllListeners('close');
      r.socket.on('close', () => { r.socket.closedAt = Date.now(); });
      r.socket.on('error', () => {});
      conns.push(r.socket);
    }
    const extra = await proc.idleConnections(emu.port, 5, { localAddress: '127.0.0.8' });
    assert.equal((await settle(extra)).length, 0, 'an address whose keep-alive connections fill its allowance gets no more');
    assert.equal(open(conns).length, PER_ADDRESS, 'the keep-alive connections themselves stay open');
  } finally {
    proc.destroyAll(conns);
  }
});
