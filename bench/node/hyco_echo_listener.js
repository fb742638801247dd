#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Microsoft's hyco-ws listener as the comparison point of bench/run.sh: it echoes every message in
// its own format and prints "listening" on stderr once its control channel is open.
//
// Usage: NODE_EXTRA_CA_CERTS=relay.pem node hyco_echo_listener.js CONNECTION_STRING
// The hyco-ws package comes from tests/interop/node_modules (run `npm ci` there). SIGTERM prints one
// JSON line (messages and bytes echoed, CPU seconds, RSS) on stdout and exits.
'use strict';

const path = require('node:path');

const WS = require(path.join(__dirname, '..', '..', 'tests', 'interop', 'node_modules', 'hyco-ws'));

function field(cs, name) {
  const m = new RegExp(`(?:^|;)${name}=([^;]*)`).exec(cs);
  return m ? m[1] : null;
}

const cs = process.argv[2] || process.env.AZRELAY_CONNECTION_STRING;
if (!cs) {
  process.stderr.write('usage: hyco_echo_listener.js CONNECTION_STRING\n');
  process.exit(2);
}
const endpoint = /^sb:\/\/([^/]+)\/?$/.exec(field(cs, 'Endpoint') || '');
const hc = field(cs, 'EntityPath');
const keyName = field(cs, 'SharedAccessKeyName');
const key = field(cs, 'SharedAccessKey');
if (!endpoint || !hc || !keyName || !key) {
  process.stderr.write('hyco_echo_listener: the connection string needs Endpoint, EntityPath and a key\n');
  process.exit(2);
}
const hostPort = endpoint[1];
// hyco-ws's own URI helper assumes port 443, so the listen address is built here (§2.2).
const listenUri = `wss://${hostPort}/$hc/${hc}?sb-hc-action=listen`;
const tokenUri = `https://${hostPort}/$hc/${hc}`;

const stats = { accepted: 0, open: 0, messages: 0, bytes: 0, errors: 0 };

const server = WS.createRelayedServer(
  { server: listenUri, token: () => WS.createRelayToken(tokenUri, keyName, key) },
  (ws) => {
    stats.accepted++;
    stats.open++;
    ws.on('message', (data, flags) => {
      const binary = !!(flags && flags.binary);
      stats.messages++;
      stats.bytes += data.length;
      ws.send(data, { binary }, (err) => {
        if (err) stats.errors++;
      });
    });
    ws.on('close', () => stats.open--);
    ws.on('error', () => stats.errors++);
  },
);
server.on('listening', () => process.stderr.write('listening\n'));
server.on('error', (e) => process.stderr.write(`hyco_echo_listener: ${(e && e.message) || e}\n`));

process.on('SIGTERM', () => {
  const cpu = process.cpuUsage();
  const report = {
    tool: 'hyco_echo_listener',
    ...stats,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    cpu_user_s: cpu.user / 1e6,
    cpu_sys_s: cpu.system / 1e6,
    rss_kib: Math.round(process.memoryUsage().rss / 1024),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
});
