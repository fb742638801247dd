// SPDX-License-Identifier: MIT
// Plain TCP peers for the forwarding tests (loopback only, every loop bounded in time):
//   sink PORT [PAUSE_MS]            server: SHA-256 and length of each connection's bytes, one JSON
//                                   line per connection when the peer ends it; echoes nothing;
//                                   starts reading each connection PAUSE_MS after accepting it
//   source PORT CONNS BYTES SEED    CONNS parallel clients, each sending BYTES of deterministic
//                                   pseudo-random data (AES-128-CTR keystream keyed by SEED and
//                                   the connection's index); one JSON line each once closed
//   echo PORT                       server echoing every byte
//   blackhole PORT                  server that accepts and never reads
//   flood PORT SECONDS              one client writing as fast as the connection takes it;
//                                   "t_ms=... flushed=..." every 500 ms (bytes handed to the kernel)
//   floodserve PORT                 server writing to each connection as fast as it takes it;
//                                   "t_ms=... flushed=..." every 500 ms
//   idle PORT SECONDS               client that connects and reads nothing for SECONDS
//   killwait PORT PID               client: one echo round trip, then SIGKILL to PID; prints the
//                                   milliseconds until this connection sees EOF or a reset
//   lateanswer PORT                 server that reads each connection to its end (half-close),
//                                   then answers "<length> <sha256>" after 300 ms and ends
//   halfclose PORT BYTES            client: sends BYTES, ends its side, reads to the end and
//                                   checks the answer describes what it sent
'use strict';

const crypto = require('node:crypto');
const net = require('node:net');

const CHUNK = 64 * 1024;
const [, , mode, ...args] = process.argv;

function listen(port, onConn) {
  const server = net.createServer({ allowHalfOpen: false }, onConn);
  server.on('error', (e) => {
    console.error(`listen ${port}: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => console.log('listening'));
  return server;
}

function sink(port, pauseMs) {
  listen(Number(port), (sock) => {
    console.error('accepted'); // counted by the bulk case's diagnosis
    if (pauseMs) {
      sock.pause();
      setTimeout(() => sock.resume(), Number(pauseMs));
    }
    const h = crypto.createHash('sha256');
    let bytes = 0;
    sock.on('data', (d) => {
      h.update(d);
      bytes += d.length;
    });
    sock.on('end', () => console.log(JSON.stringify({ bytes, sha: h.digest('hex') })));
    sock.on('error', (e) => console.log(JSON.stringify({ bytes, error: e.message })));
  });
}

function keystream(seed, index) {
  const key = crypto.createHash('sha256').update(`${seed}/${index}`).digest().subarray(0, 16);
  return crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

function sendOne(port, index, total, seed) {
  return new Promise((resolve) => {
    const cipher = keystream(seed, index);
    const zeros = Buffer.alloc(CHUNK);
    const h = crypto.createHash('sha256');
    let sent = 0;
    let error = null;
    const sock = net.connect(port, '127.0.0.1');
    const pump = () => {
      while (sent < total) {
        const n = Math.min(CHUNK, total - sent);
        const data = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
        h.update(data);
        sent += n;
        if (!sock.write(data)) return; // 'drain' resumes
      }
      sock.end();
    };
    sock.on('connect', pump);
    sock.on('drain', pump);
    sock.on('data', () => {}); // nothing is expected back
    sock.on('error', (e) => (error = e.message));
    sock.on('close', () => resolve({ index, bytes: sent, sha: h.digest('hex'), error }));
  });
}

async function source(port, conns, bytes, seed) {
  const t0 = Date.now();
  const jobs = [];
  for (let i = 0; i < Number(conns); i++) jobs.push(sendOne(Number(port), i, Number(bytes), seed));
  const results = await Promise.all(jobs);
  let bad = 0;
  for (const r of results) {
    console.log(JSON.stringify(r));
    if (r.error) bad++;
  }
  console.error(`source: ${results.length} connections, ${bad} errors, ${(Date.now() - t0) / 1000} s`);
  process.exit(bad ? 1 : 0);
}

function echo(port) {
  listen(Number(port), (sock) => {
    sock.pipe(sock);
    sock.on('error', () => {});
  });
}

function blackhole(port) {
  const held = [];
  listen(Number(port), (sock) => {
    sock.pause();
    sock.on('error', () => {});
    held.push(sock);
    console.log('accepted');
  });
}

/* Writes to sock as fast as it drains; returns a progress reader and a stopper. */
function pumpInto(sock) {
  const chunk = crypto.randomBytes(CHUNK);
  const st = { flushed: 0, done: false };
  const pump = () => {
    while (!st.done) {
      if (!sock.write(chunk, (err) => err || (st.flushed += CHUNK))) return;
    }
  };
  sock.on('drain', pump);
  sock.on('error', (e) => {
    console.log(`error ${e.message}`);
    st.done = true;
  });
  return { st, pump };
}

function flood(port, seconds) {
  const sock = net.connect(Number(port), '127.0.0.1');
  const { st, pump } = pumpInto(sock);
  sock.on('connect', pump);
  const t0 = Date.now();
  const tick = setInterval(() => console.log(`t_ms=${Date.now() - t0} flushed=${st.flushed}`), 500);
  setTimeout(() => {
    st.done = true;
    clearInterval(tick);
    console.log(`t_ms=${Date.now() - t0} flushed=${st.flushed}`);
    sock.destroy();
    process.exit(0);
  }, Number(seconds) * 1000);
}

function floodserve(port) {
  listen(Number(port), (sock) => {
    const { st, pump } = pumpInto(sock);
    const t0 = Date.now();
    console.log('accepted');
    const tick = setInterval(() => console.log(`t_ms=${Date.now() - t0} flushed=${st.flushed}`), 500);
    sock.on('close', () => {
      st.done = true;
      clearInterval(tick);
    });
    pump();
  });
}

function idle(port, seconds) {
  const sock = net.connect(Number(port), '127.0.0.1');
  sock.pause();
  sock.on('error', (e) => console.log(`error ${e.message}`));
  sock.on('connect', () => console.log('connected'));
  setTimeout(() => process.exit(0), Number(seconds) * 1000);
}

function killwait(port, pid) {
  const sock = net.connect(Number(port), '127.0.0.1');
  let got = '';
  let t0 = 0;
  const finish = (what) => {
    if (!t0) {
      console.log(`closed before the kill: ${what}`);
      process.exit(1);
    }
    console.log(`eof_ms=${Date.now() - t0} via ${what}`);
    process.exit(0);
  };
  sock.on('connect', () => sock.write('ping\n'));
  sock.on('data', (d) => {
    got += d.toString();
    if (!t0 && got === 'ping\n') {
      t0 = Date.now();
      process.kill(Number(pid), 'SIGKILL');
      console.log('killed');
    }
  });
  sock.on('end', () => finish('end'));
  sock.on('error', (e) => finish(e.code || e.message));
  setTimeout(() => {
    console.log(t0 ? 'no eof within 15 s of the kill' : 'no echo within 15 s');
    process.exit(1);
  }, 15000);
}

// lateanswer PORT [SLOW_BYTES SLOW_MS]: answers "<bytes> <sha256>" 300 ms after the client's end, or
// SLOW_MS after it when exactly SLOW_BYTES came (a target that thinks longer than a close handshake).
function lateanswer(port, slowBytes, slowMs) {
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    const hash = crypto.createHash('sha256');
    let n = 0;
    sock.on('data', (d) => {
      hash.update(d);
      n += d.length;
    });
    const delay = () => (slowBytes !== undefined && n === Number(slowBytes) ? Number(slowMs) : 300);
    sock.on('end', () => setTimeout(() => sock.end(`${n} ${hash.digest('hex')}\n`), delay()));
    sock.on('error', () => {});
  });
  server.on('error', (e) => {
    console.error(`listen ${port}: ${e.message}`);
    process.exit(1);
  });
  server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
}

function halfclose(port, bytes) {
  const data = crypto.randomBytes(Number(bytes));
  const want = `${data.length} ${crypto.createHash('sha256').update(data).digest('hex')}\n`;
  const sock = net.connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
  let got = '';
  sock.on('connect', () => sock.end(data));
  sock.on('data', (d) => (got += d.toString()));
  sock.on('end', () => {
    if (got === want) {
      console.log(`ok: the answer after our half-close arrived (${got.trim().slice(0, 24)}...)`);
      process.exit(0);
    }
    console.log(`wrong answer: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    process.exit(1);
  });
  sock.on('error', (e) => {
    console.log(`error: ${e.code || e.message} (got ${JSON.stringify(got)})`);
    process.exit(1);
  });
  setTimeout(() => {
    console.log(`no end within 15 s (got ${JSON.stringify(got)})`);
    process.exit(1);
  }, 15000);
}

const modes = { sink, source, echo, blackhole, flood, floodserve, idle, killwait, lateanswer, halfclose };
if (!modes[mode]) {
  console.error(`usage: tcp_tools.js ${Object.keys(modes).join('|')} ...`);
  process.exit(2);
}
modes[mode](...args);
