#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The two ends of bench/soak.sh (data integrity under load, not a CTest test):
//
//   soak_peer.js send --url URL --token TOKEN --connections N --bytes B [--max-message M]
//                     [--window W] [--seed S] [--stream]
//     N ws 8 senders, each sending B bytes of deterministic pseudo-random data (AES-128-CTR
//     keystream of a per-connection seed) as binary messages of random sizes (1..M bytes, sizes
//     from a per-connection PRNG too) with at most W messages in flight, and hashing what it sent
//     and what came back. Without --stream each echoed message must have the length of the one
//     sent (an echo listener keeps message boundaries); with --stream (a TCP service behind
//     `azrelay listen --forward` re-chunks) only the byte stream counts. Prints one JSON line per
//     connection ({"conn","bytes","sent_sha256","echo_sha256","ok"}) and a summary line; every
//     second {"progress":true,"sent","received"} (totals) on stderr, and on SIGUSR1 (and SIGTERM)
//     where each connection stands.
//
//   soak_peer.js sink --port P
//     A TCP echo service that hashes each connection's bytes; prints "listening" and, per closed
//     connection, {"sink":true,"bytes","sha256"}.
//
// Exit status of `send`: 0 when every connection got all its bytes back intact, 1 otherwise.
'use strict';

const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { createRequire } = require('node:module');

function parseArgs(argv) {
  const o = { role: argv[0], connections: 50, bytes: 80e6, maxMessage: 1 << 20, window: 8, seed: 'soak', stream: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--url') o.url = v();
    else if (a === '--token') o.token = v();
    else if (a === '--connections') o.connections = Number(v());
    else if (a === '--bytes') o.bytes = Number(v());
    else if (a === '--max-message') o.maxMessage = Number(v());
    else if (a === '--window') o.window = Number(v());
    else if (a === '--seed') o.seed = v();
    else if (a === '--port') o.port = Number(v());
    else if (a === '--stream') o.stream = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** xorshift32: message sizes, reproducible per connection. */
function sizes(seed) {
  let x = crypto.createHash('sha256').update(`sizes-${seed}`).digest().readUInt32LE(0) || 1;
  return (max) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return 1 + (x % max);
  };
}

/** The connection's data: consecutive slices of an AES-128-CTR keystream. */
function keystream(seed) {
  const key = crypto.createHash('sha256').update(`data-${seed}`).digest().subarray(0, 16);
  const c = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (n) => c.update(Buffer.alloc(n));
}

const progress = []; // per connection: () => state, for the SIGTERM/SIGUSR1 report

function runSender(o, WebSocket, i) {
  return new Promise((resolve) => {
    const seed = `${o.seed}-${i}`;
    const next = keystream(seed);
    const size = sizes(seed);
    const sentHash = crypto.createHash('sha256');
    const echoHash = crypto.createHash('sha256');
    const lengths = []; // lengths of messages in flight
    let sent = 0;
    let received = 0;
    let error = null;
    let done = false;
    const url = o.token ? `${o.url}${o.url.includes('?') ? '&' : '?'}sb-hc-token=${encodeURIComponent(o.token)}` : o.url;
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
    const finish = (why) => {
      if (done) return;
      done = true;
      if (why && !error) error = why;
      const sentSha = sentHash.digest('hex');
      const echoSha = echoHash.digest('hex');
      const ok = !error && received === o.bytes && sent === o.bytes && sentSha === echoSha;
      resolve({ conn: i, bytes: received, sent, sent_sha256: sentSha, echo_sha256: echoSha, ok, error });
    };
    const pump = () => {
      while (sent < o.bytes && lengths.length < o.window && ws.bufferedAmount < 8 << 20) {
        const n = Math.min(size(o.maxMessage), o.bytes - sent);
        const chunk = next(n);
        sentHash.update(chunk);
        sent += n;
        lengths.push(n);
        ws.send(chunk);
      }
    };
    progress[i] = () => ({ conn: i, sent, received, in_flight: lengths.length, buffered: ws.bufferedAmount, state: ws.readyState, error });
    ws.on('open', pump);
    ws.on('message', (data) => {
      echoHash.update(data);
      received += data.length;
      if (o.stream) {
        // Re-chunked byte stream: retire messages whose bytes have all come back.
        let back = data.length;
        while (back > 0 && lengths.length) {
          const take = Math.min(back, lengths[0]);
          lengths[0] -= take;
          back -= take;
          if (lengths[0] === 0) lengths.shift();
        }
      } else {
        const want = lengths.shift();
        if (want !== data.length && !error) error = `echoed message of ${data.length} bytes, sent ${want}`;
      }
      if (received > o.bytes && !error) error = `more bytes back (${received}) than sent`;
      if (received >= o.bytes) ws.close(1000);
      else pump();
    });
    ws.on('unexpected-response', (req, res) => finish(`handshake refused: ${res.statusCode} ${res.statusMessage}`));
    ws.on('error', (e) => {
      error = error || e.message;
    });
    ws.on('close', (code, reason) => finish(received === o.bytes && code === 1000 ? null : `closed ${code} ${reason} after ${received} bytes`));
  });
}

/** Where each connection stands (on SIGUSR1, and on SIGTERM before exiting 1). */
function reportProgress() {
  for (const p of progress) if (p) process.stderr.write(`${JSON.stringify(p())}\n`);
}

async function send(o) {
  process.on('SIGUSR1', reportProgress);
  process.on('SIGTERM', () => {
    reportProgress();
    process.exit(1);
  });
  const WebSocket = createRequire(path.join(__dirname, '../../interop/package.json'))('ws');
  const t0 = process.hrtime.bigint();
  // Totals once a second on stderr, for soak.sh's stall detector.
  const ticker = setInterval(() => {
    let sent = 0;
    let received = 0;
    for (const p of progress) {
      if (!p) continue;
      const st = p();
      sent += st.sent;
      received += st.received;
    }
    process.stderr.write(`${JSON.stringify({ progress: true, sent, received })}\n`);
  }, 1000);
  const results = await Promise.all(Array.from({ length: o.connections }, (_, i) => runSender(o, WebSocket, i)));
  clearInterval(ticker);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  const bytes = results.reduce((n, r) => n + r.bytes, 0);
  const bad = results.filter((r) => !r.ok);
  const usage = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({
    summary: true, connections: o.connections, bytes_each_way: bytes, wall_s: wallS,
    mb_per_s_each_way: bytes / 1e6 / wallS, failed: bad.length, sender_cpu_s: (usage.user + usage.system) / 1e6,
  })}\n`);
  process.exit(bad.length ? 1 : 0);
}

function sink(o) {
  const server = net.createServer((c) => {
    const h = crypto.createHash('sha256');
    let bytes = 0;
    c.on('data', (d) => {
      h.update(d);
      bytes += d.length;
      if (!c.write(d)) c.pause();
    });
    c.on('drain', () => c.resume());
    c.on('end', () => c.end());
    c.on('error', () => {});
    c.on('close', () => process.stdout.write(`${JSON.stringify({ sink: true, bytes, sha256: h.digest('hex') })}\n`));
  });
  server.listen(o.port, '127.0.0.1', () => process.stdout.write('listening\n'));
}

const o = parseArgs(process.argv.slice(2));
if (o.role === 'send') send(o);
else if (o.role === 'sink') sink(o);
else {
  process.stderr.write('usage: soak_peer.js send|sink [options] (see the file header)\n');
  process.exit(2);
}
