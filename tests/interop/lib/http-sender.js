// SPDX-License-Identifier: MIT
// HTTP-mode senders (§7): Node's https.request and the curl command line, both returning the status
// line, the headers as received and the whole body.
'use strict';

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

/** One request with Node's client; no connection reuse. Resolves with the whole response. */
function nodeRequest(url, { method = 'GET', headers = {}, body = null, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const h = { ...headers };
    if (body !== null) h['Content-Length'] = String(body.length);
    const req = mod.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        headers: h,
        agent: new mod.Agent({ keepAlive: false }),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            statusCode: res.statusCode,
            statusMessage: res.statusMessage,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response to ${method} ${u.pathname} within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== null) req.end(body);
    else req.end();
  });
}

/**
 * One request with curl. `cacert` is the emulator's certificate. Resolves with the last response
 * block curl saw (an interim 100 Continue is skipped): statusCode, statusMessage, headers (lower-cased
 * names; repeated names joined with ", "), rawHeaderLines and body.
 */
async function curlRequest(url, { method = 'GET', headers = {}, body = null, cacert, timeoutMs = 30000 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-curl-'));
  try {
    const hdrFile = path.join(dir, 'headers');
    const outFile = path.join(dir, 'body');
    const args = ['-sS', '--http1.1', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-D', hdrFile, '-o', outFile, '-X', method];
    if (cacert) args.push('--cacert', cacert);
    // Expect: 100-continue is not what these tests are about; curl would add it for large bodies.
    args.push('-H', 'Expect:');
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    if (body !== null) {
      const inFile = path.join(dir, 'request');
      fs.writeFileSync(inFile, body);
      args.push('--data-binary', `@${inFile}`);
    }
    args.push(url);
    await new Promise((resolve, reject) => {
      execFile('curl', args, { timeout: timeoutMs + 5000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`curl ${method} ${url.replace(/sb-hc-token=[^&]*/, 'sb-hc-token=..')} failed: ${err.message} ${stderr}`));
        else resolve();
      });
    });
    const blocks = fs.readFileSync(hdrFile, 'latin1').split(/\r?\n\r?\n/).filter((b) => b.trim().length);
    const last = blocks[blocks.length - 1].split(/\r?\n/);
    const m = /^HTTP\/[\d.]+ (\d{3})(?: (.*))?$/.exec(last[0]);
    if (!m) throw new Error(`curl: cannot parse status line ${JSON.stringify(last[0])}`);
    const rawHeaderLines = last.slice(1);
    const hdrs = {};
    for (const line of rawHeaderLines) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      hdrs[name] = name in hdrs ? `${hdrs[name]}, ${value}` : value;
    }
    return {
      statusCode: Number(m[1]),
      statusMessage: m[2] || '',
      headers: hdrs,
      rawHeaderLines,
      body: fs.existsSync(outFile) ? fs.readFileSync(outFile) : Buffer.alloc(0),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Deterministic bytes: SHA-256 blocks of seed:index, cut to n bytes (both ends can compute them). */
function patternBytes(n, seed) {
  const out = Buffer.alloc(n);
  for (let off = 0, i = 0; off < n; i++, off += 32) {
    crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off, 0, Math.min(32, n - off));
  }
  return out;
}

module.exports = { nodeRequest, curlRequest, patternBytes };
