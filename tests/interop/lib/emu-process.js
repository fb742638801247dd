// SPDX-License-Identifier: MIT
// The emulator process the runner started (AZR_EMU_PID, AZR_EMU_TMPDIR): its CPU time, resident
// memory and log, plus raw TCP connections that hold a descriptor without ever speaking, for the
// hardening tests (docs/SECURITY.md).
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { withTimeout, sleep } = require('./relay');

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function pid() {
  const p = Number(process.env.AZR_EMU_PID);
  if (!p) throw new Error('AZR_EMU_PID is not set: run this test through lib/run-with-emulator.js');
  return p;
}

/** CPU seconds (user + system) the emulator has used so far. */
function cpuSeconds() {
  const stat = fs.readFileSync(`/proc/${pid()}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

/** The share of one core the emulator used over the next `ms` milliseconds (0..1+). */
async function cpuShare(ms) {
  const c0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  await sleep(ms);
  const c1 = cpuSeconds();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return (c1 - c0) / secs;
}

/** The emulator's resident set size in KiB. */
function rssKiB() {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid()}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The emulator's stderr so far (the runner copies it to AZR_EMU_TMPDIR/emulator.log). */
function log() {
  return fs.readFileSync(path.join(process.env.AZR_EMU_TMPDIR, 'emulator.log'), 'utf8');
}

/** Resolves once the emulator log matches `re` (polling), rejects after `ms`. */
async function waitForLog(re, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (re.test(log())) return;
    await sleep(50);
  }
  throw new Error(`the emulator log did not match ${re} within ${ms} ms`);
}

/**
 * Opens `count` TCP connections to the emulator from `localAddress` that never send a byte.
 * Resolves with the sockets once all are connected (the kernel's backlog completes connections the
 * emulator has not accepted yet). Each socket records `closedAt` when the emulator drops it.
 */
async function idleConnections(port, count, { localAddress = '127.0.0.1', host = '127.0.0.1', timeoutMs = 15000 } = {}) {
  const sockets = [];
  const opened = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect({ port, host, localAddress });
    s.closedAt = null;
    s.on('error', () => {});
    s.on('close', () => {
      s.closedAt = Date.now();
    });
    s.on('data', () => {});
    sockets.push(s);
    opened.push(new Promise((resolve) => {
      s.once('connect', resolve);
      s.once('close', resolve);
    }));
  }
  await withTimeout(Promise.all(opened), timeoutMs, `${count} idle connections to open`);
  return sockets;
}

function destroyAll(sockets) {
  for (const s of sockets) s.destroy();
}

module.exports = { pid, cpuSeconds, cpuShare, rssKiB, log, waitForLog, idleConnections, destroyAll };

/**
 * Opens a TLS (or plain, with emu.plain) connection from `localAddress`, sends `request` (raw text)
 * and resolves with { socket, response } once a whole response head arrived (response holds what
 * was read so far); the socket stays open, and reading it is the caller's business from then on.
 */
function rawRequest(emu, request, { localAddress = '127.0.0.1', timeoutMs = 10000 } = {}) {
  const tls = require('node:tls');
  return withTimeout(new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port: emu.port, localAddress };
    const socket = emu.plain
      ? net.connect(opts)
      : tls.connect({ ...opts, servername: 'localhost', ca: fs.readFileSync(emu.cert) });
    socket.closedAt = null;
    let text = '';
    socket.on('error', (e) => reject(e));
    socket.on('close', () => {
      socket.closedAt = Date.now();
      reject(new Error(`closed before a response head: ${JSON.stringify(text.slice(0, 200))}`));
    });
    socket.on(emu.plain ? 'connect' : 'secureConnect', () => socket.write(request));
    const onData = (d) => {
      text += d.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.removeListener('data', onData); // the caller reads the rest
      resolve({ socket, response: text });
    };
    socket.on('data', onData);
  }), timeoutMs, 'a response head');
}

module.exports.rawRequest = rawRequest;
