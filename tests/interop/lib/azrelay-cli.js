// SPDX-License-Identifier: MIT
// The azrelay CLI as a test peer: `azrelay listen` (or any listener program) in the background,
// one-shot CLI runs, and raw-path HTTP senders (curl --path-as-is and Node https with an unparsed
// path) that can send what a URL parser would normalize away, HEAD included.
'use strict';

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const KEEP_STDERR = 256 * 1024;
const alive = new Set();
process.on('exit', () => {
  for (const p of alive) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function cliBin() {
  const bin = process.env.AZRELAY_BIN;
  if (!bin) throw new Error('AZRELAY_BIN is not set (path of the azrelay binary)');
  return bin;
}

/** A long-running program (an `azrelay listen`, an example) with its output collected. */
class Background {
  constructor(bin, args, { label = path.basename(bin), env } = {}) {
    this.label = label;
    this.stdout = '';
    this.stderr = '';
    this.proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
    alive.add(this.proc);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const keep = (which) => (d) => {
      this[which] += d.toString('utf8');
      if (this[which].length > KEEP_STDERR) this[which] = this[which].slice(-KEEP_STDERR);
      this.emitLines();
    };
    this.waiters = [];
    this.proc.stdout.on('data', keep('stdout'));
    this.proc.stderr.on('data', keep('stderr'));
    this.exited.then(() => this.emitLines());
  }

  emitLines() {
    this.waiters = this.waiters.filter((w) => {
      if (!w.re.test(this[w.stream])) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when `re` matches the collected `stream` ('stderr' or 'stdout'). */
  waitFor(re, ms, stream = 'stderr') {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.label}: no ${re} on ${stream} within ${ms} ms; stderr:\n${this.stderr.slice(-4000)}`));
      }, ms);
      this.waiters.push({ re, stream, resolve: () => (clearTimeout(timer), resolve()) });
      this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${this.label} exited (code ${code}, signal ${signal}); stderr:\n${this.stderr.slice(-4000)}`));
      });
      this.emitLines();
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with { code, signal }. */
  async stop(graceMs = 5000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}

/** Starts `azrelay listen ARGS...` and waits for its "listening" line. */
async function startListener(args, { label = 'azrelay listen', readyMs = 15000 } = {}) {
  const b = new Background(cliBin(), ['listen', ...args], { label });
  await b.waitFor(/^listening$/m, readyMs);
  return b;
}

/** Runs the CLI once: resolves with { code, stdout (Buffer), stderr (string) }. */
function runCli(args, { timeoutMs = 30000, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cliBin(), args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, env: env || process.env },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`azrelay ${args[0]}: ${err.message}`));
        resolve({ code: err ? err.code : 0, stdout, stderr: stderr.toString('utf8') });
      });
  });
}

function parseHeaderBlock(text) {
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim().length);
  const lines = blocks[blocks.length - 1].split(/\r?\n/);
  const m = /^HTTP\/[\d.]+ (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`cannot parse status line ${JSON.stringify(lines[0])}`);
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${line.slice(i + 1).trim()}` : line.slice(i + 1).trim();
  }
  return { statusCode: Number(m[1]), statusMessage: m[2] || '', headers };
}

/**
 * One request with curl to https://host:port + rawPath, the path sent exactly as given. HEAD uses
 * --head (curl -X HEAD would wait for a body) and so always reports an empty body. Resolves with
 * statusCode, statusMessage, headers, body.
 */
async function curlRaw(port, rawPath, { method = 'GET', headers = {}, body = null, cacert, host = 'localhost', timeoutMs = 30000 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-curl-'));
  try {
    const hdrFile = path.join(dir, 'headers');
    const outFile = path.join(dir, 'body');
    const args = ['-sS', '--http1.1', '--path-as-is', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-D', hdrFile, '-o', outFile];
    if (method === 'HEAD') args.push('--head');
    else args.push('-X', method);
    if (cacert) args.push('--cacert', cacert);
    args.push('-H', 'Expect:');
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    if (body !== null) {
      const inFile = path.join(dir, 'request');
      fs.writeFileSync(inFile, body);
      args.push('--data-binary', `@${inFile}`);
    }
    args.push(`https://${host}:${port}${rawPath}`);
    await new Promise((resolve, reject) => {
      execFile('curl', args, { timeout: timeoutMs + 5000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`curl ${method} ${rawPath} failed: ${err.message} ${stderr}`));
        else resolve();
      });
    });
    const r = parseHeaderBlock(fs.readFileSync(hdrFile, 'latin1'));
    // With --head curl writes the head into -o as well; it never reads a body for HEAD.
    r.body = method !== 'HEAD' && fs.existsSync(outFile) ? fs.readFileSync(outFile) : Buffer.alloc(0);
    return r;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One request with Node's https client; `rawPath` is sent unparsed. */
function nodeRaw(port, rawPath, { method = 'GET', headers = {}, body = null, host = 'localhost', timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== null) h['Content-Length'] = String(body.length);
    const req = https.request(
      { hostname: host, port, path: rawPath, method, headers: h, agent: new https.Agent({ keepAlive: false }), timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ statusCode: res.statusCode, statusMessage: res.statusMessage, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response to ${method} ${rawPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body === null ? undefined : body);
  });
}

module.exports = { Background, startListener, runCli, curlRaw, nodeRaw, parseHeaderBlock };
