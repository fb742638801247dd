// SPDX-License-Identifier: MIT
// The TCP bridge: `azrelay listen --forward` in front of local TCP services and `azrelay connect
// --local-port` in front of local TCP clients, plain and with azbridge logical ports.
'use strict';

const crypto = require('node:crypto');
const P = require('../lib/peers');

const MiB = 1024 * 1024;

/** A TCP service that echoes what it reads and, when the client half-closes, appends `mark`. */
function echoService(ctx, mark) {
  return P.tcpServer(ctx, (sock) => {
    sock.on('data', (d) => sock.write(d));
    sock.on('end', () => sock.end(mark));
    sock.on('error', () => {});
  });
}

/** `azrelay connect --local-port PORT [args]` on a free port, once it accepts. */
async function bridge(ctx, cs, args = []) {
  const port = await P.freePort();
  await P.cli(ctx, cs, ['connect', '--local-port', String(port), ...args], {
    label: `azrelay connect --local-port ${args.join(' ')}`,
    readyRe: /accepting local connections/,
  });
  await P.waitForPort(port, ctx.params.readyMs);
  return port;
}

/** `clients` TCP clients through `port`, each sending `size` random bytes; all must come back + mark. */
async function exchange(ctx, port, { clients, size, mark }) {
  const datas = Array.from({ length: clients }, () => crypto.randomBytes(size));
  const started = Date.now();
  const answers = await Promise.all(datas.map((d) => P.tcpExchange(port, d, ctx.params.messageMs + size / 20000)));
  for (const [i, a] of answers.entries()) {
    const want = Buffer.concat([datas[i], Buffer.from(mark)]);
    ctx.expect(Buffer.compare(a, want) === 0, `client ${i} through port ${port} got ${a.length} B back, expected ${want.length} B ending in "${mark}"`);
  }
  return Date.now() - started;
}

const forward = {
  id: 'forward.tcp',
  title: 'TCP clients -> azrelay connect --local-port -> relay -> azrelay listen --forward -> TCP service, with half-close',
  timeout: { emulator: 60, azure: 240 },
  async run(ctx) {
    const t = ctx.target;
    const svc = await echoService(ctx, 'served');
    await P.cliListener(ctx, t.cs.AUTH.cs, ['--forward', `127.0.0.1:${svc.port}`]);
    const port = await bridge(ctx, t.cs.AUTH.cs);
    const ms = await exchange(ctx, port, { clients: 3, size: MiB, mark: 'served' });
    ctx.note(`3 clients x 1 MiB both ways in ${(ms / 1000).toFixed(2)} s`);
  },
};

const azbridge = {
  id: 'forward.azbridge_ports',
  title: 'azbridge logical ports: two services behind one listener, each reached by its name',
  timeout: { emulator: 60, azure: 240 },
  async run(ctx) {
    const t = ctx.target;
    const db = await echoService(ctx, 'db');
    const web = await echoService(ctx, 'web');
    await P.cliListener(ctx, t.cs.AUTH.cs, ['--forward', `db=127.0.0.1:${db.port}`, '--forward', `web=127.0.0.1:${web.port}`]);
    const dbPort = await bridge(ctx, t.cs.AUTH.cs, ['--azbridge-port', 'db']);
    const webPort = await bridge(ctx, t.cs.AUTH.cs, ['--azbridge-port', 'web']);
    await exchange(ctx, dbPort, { clients: 2, size: 64 * 1024, mark: 'db' });
    await exchange(ctx, webPort, { clients: 2, size: 64 * 1024, mark: 'web' });
    ctx.note('db and web each reached through their own port name');
  },
};

module.exports = { checks: [forward, azbridge] };
