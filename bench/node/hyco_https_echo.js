#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Microsoft's hyco-https listener as the comparison point of bench/http_bench.sh: it answers every
// relayed HTTP request with 200 and the request body (same Content-Type), like
// `azrelay listen --http-echo`, and prints "listening" on stderr once its control channel is open.
//
// Usage: NODE_EXTRA_CA_CERTS=relay.pem node hyco_https_echo.js CONNECTION_STRING
// hyco-https comes from tests/interop/node_modules (run `npm ci` there). SIGTERM prints one JSON line
// (requests, bytes, CPU seconds, RSS) on stdout and exits.
'use strict';

const path = require('node:path');

const hycoHttps = require(path.join(__dirname, '..', '..', 'tests', 'interop', 'node_modules', 'hyco-https'));

function field(cs, name) {
  const m = new RegExp(`(?:^|;)${name}=([^;]*)`, 'i').exec(cs);
  return m ? m[1] : null;
}

const cs = process.argv[2] || process.env.AZRELAY_CONNECTION_STRING;
if (!cs) {
  process.stderr.write('usage: hyco_https_echo.js CONNECTION_STRING\n');
  process.exit(2);
}
const endpoint = /^sb:\/\/([^/]+)\/?$/.exec(field(cs, 'Endpoint') || '');
const hc = field(cs, 'EntityPath');
const keyName = field(cs, 'SharedAccessKeyName');
const key = field(cs, 'SharedAccessKey');
if (!endpoint || !hc || !keyName || !key) {
  process.stderr.write('hyco_https_echo: the connection string needs Endpoint, EntityPath and a key\n');
  process.exit(2);
}
const hostPort = endpoint[1];
// hyco-https's createRelayBaseUri assumes port 443, so the listen address is built here (§2.2).
const listenUri = `wss://${hostPort}/$hc/${hc}?sb-hc-action=listen`;
const tokenUri = `https://${hostPort}/$hc/${hc}`;

const stats = { requests: 0, bytes_in: 0, bytes_out: 0, errors: 0 };

const server = hycoHttps.createRelayedServer(
  { server: listenUri, token: () => hycoHttps.createRelayToken(tokenUri, keyName, key) },
  (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(Buffer.from(c)));
    req.on('error', () => stats.errors++);
    req.on('end', () => {
      const body = chunks.length ? Buffer.concat(chunks) : Buffer.from(req.url);
      stats.requests++;
      stats.bytes_in += body.length;
      stats.bytes_out += body.length;
      res.setHeader('Content-Type', req.headers['content-type'] || 'text/plain; charset=utf-8');
      res.writeHead(200, 'OK');
      res.end(body);
    });
  },
);
server.on('listening', () => process.stderr.write('listening\n'));
server.on('error', (e) => process.stderr.write(`hyco_https_echo: ${(e && e.message) || e}\n`));
server.listen();

process.on('SIGTERM', () => {
  const u = process.cpuUsage();
  stats.cpu_s = (u.user + u.system) / 1e6;
  stats.rss_kb = Math.round(process.memoryUsage().rss / 1024);
  process.stdout.write(JSON.stringify(stats) + '\n');
  process.exit(0);
});
