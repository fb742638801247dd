// SPDX-License-Identifier: MIT
// Shared helpers for the interop tests: the emulator's coordinates (from the runner's environment),
// SAS tokens (§3.1/§3.2), URL builders (§2.2), raw WebSocket handshakes and small promise utilities.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const WebSocket = require('ws');

/** The emulator the runner started for this test process (lib/run-with-emulator.js sets these). */
function emulator() {
  const need = (name) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run this test through lib/run-with-emulator.js`);
    return v;
  };
  const port = Number(need('AZR_EMU_PORT'));
  const plain = process.env.AZR_EMU_PLAIN === '1';
  return {
    host: 'localhost',
    port,
    plain,
    wsScheme: plain ? 'ws' : 'wss',
    httpScheme: plain ? 'http' : 'https',
    keyName: need('AZR_EMU_KEY_NAME'),
    key: need('AZR_EMU_KEY'),
    cert: process.env.AZR_EMU_CERT || null,
    config: process.env.AZR_EMU_CONFIG ? JSON.parse(fs.readFileSync(process.env.AZR_EMU_CONFIG, 'utf8')) : null,
    connectionString(hc) {
      return process.env['AZR_EMU_CONNSTR_' + envName(hc)] || null;
    },
  };
}

/** The suffix the runner uses for AZR_EMU_CONNSTR_<NAME>: upper case, other characters -> '_'. */
function envName(hc) {
  return hc.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Seconds since the epoch, as SAS `se` counts them. */
function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/**
 * A SAS token per §3.1/§3.2: sr = encodeURIComponent(resource), sig = base64(HMAC-SHA256(key text,
 * sr + "\n" + se)), percent-encoded. `expiry` is absolute (seconds since the epoch); `ttl` relative.
 */
function sasToken({ resource, keyName, key, expiry, ttl = 3600 }) {
  const se = expiry !== undefined ? expiry : nowSeconds() + ttl;
  const sr = encodeURIComponent(resource);
  const sig = crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(`${sr}\n${se}`, 'utf8').digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${keyName}`;
}

/** A token for hybrid connection `hc` of the emulator, .NET-style audience http://host/hc/ (§3.3). */
function tokenFor(emu, hc, opts = {}) {
  return sasToken({
    resource: opts.resource || `http://${emu.host}/${hc}/`,
    keyName: opts.keyName || emu.keyName,
    key: opts.key || emu.key,
    expiry: opts.expiry,
    ttl: opts.ttl,
  });
}

function addQuery(url, params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    parts.push(`${k}=${encodeURIComponent(v)}`);
  }
  if (!parts.length) return url;
  return url + (url.includes('?') ? '&' : '?') + parts.join('&');
}

/** wss://host:port/$hc/{hc}?sb-hc-action=listen[&sb-hc-id=..][&sb-hc-token=..] (§2.2). */
function listenUrl(emu, hc, { token, id } = {}) {
  return addQuery(`${emu.wsScheme}://${emu.host}:${emu.port}/$hc/${hc}?sb-hc-action=listen`, {
    'sb-hc-id': id,
    'sb-hc-token': token,
  });
}

/** wss://host:port/$hc/{hc}[suffix]?[query&]sb-hc-action=connect[...] (§2.2). */
function connectUrl(emu, hc, { suffix = '', query = '', token, id } = {}) {
  const q = query ? query + '&' : '';
  return addQuery(`${emu.wsScheme}://${emu.host}:${emu.port}/$hc/${hc}${suffix}?${q}sb-hc-action=connect`, {
    'sb-hc-id': id,
    'sb-hc-token': token,
  });
}

/** https://host:port/{hc}[suffix][?query] for HTTP-mode senders (§7.1). */
function httpsUrl(emu, hc, { suffix = '', query = '', token } = {}) {
  const base = `${emu.httpScheme}://${emu.host}:${emu.port}/${hc}${suffix}${query ? '?' + query : ''}`;
  return addQuery(base, { 'sb-hc-token': token });
}

/**
 * Performs one WebSocket client handshake with the `ws` package. Resolves to
 * { ok: true, ws } on 101, or { ok: false, statusCode, statusMessage, headers, body } on an HTTP
 * answer; rejects on a network error or after `timeoutMs`.
 */
function handshake(url, { headers = {}, protocols, timeoutMs = 15000, wsOptions = {} } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs, ...wsOptions });
    // A server may send its first message in the same packet as its 101: ws emits it before the
    // caller could attach a listener, so it is kept here for firstMessage().
    ws.early = []; // the data of those messages
    ws.earlyBinary = []; // and whether each was binary
    const keepEarly = (data, isBinary) => {
      ws.early.push(data);
      ws.earlyBinary.push(isBinary);
    };
    ws.on('message', keepEarly);
    ws.once('open', () => queueMicrotask(() => ws.off('message', keepEarly))); // before the caller's continuation
    let settled = false;
    const done = (fn, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(v);
    };
    const timer = setTimeout(() => {
      ws.on('error', () => {});
      ws.terminate();
      done(reject, new Error(`handshake to ${redact(url)} got no answer within ${timeoutMs} ms`));
    }, timeoutMs + 500);
    ws.on('open', () => done(resolve, { ok: true, ws }));
    ws.on('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      const finish = () => {
        done(resolve, {
          ok: false,
          statusCode: res.statusCode,
          statusMessage: res.statusMessage,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        req.destroy();
      };
      res.on('end', finish);
      res.on('error', finish);
      res.on('aborted', finish);
      // Some answers carry no body and leave the connection open: do not wait for it forever.
      setTimeout(finish, 1000).unref();
    });
    ws.on('error', (err) => done(reject, err));
  });
}

/** The first message on a socket from handshake(): one that came with the 101, or the next one. */
async function firstMessage(ws, ms, what) {
  if (ws.early && ws.early.length) {
    ws.earlyBinary.shift();
    return ws.early.shift();
  }
  const [data] = await nextEvent(ws, 'message', ms, what);
  return data;
}

/** Removes token values from a URL before it goes into a message. */
function redact(url) {
  return String(url).replace(/(sb-hc-token=)[^&]*/gi, '$1<redacted>');
}

/** Resolves with `promise` or rejects after `ms` with a message naming `what`. */
function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** Resolves with the arguments of the next `event` of `emitter` (array), rejects on timeout. */
function nextEvent(emitter, event, ms, what) {
  return withTimeout(
    new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
    ms,
    what || `event '${event}'`,
  );
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Printable ASCII text of exactly `n` bytes (random, so corruption cannot go unnoticed). */
function asciiText(n) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:!?-_()[]{}<>/#';
  const rnd = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rnd[i] % alphabet.length];
  return s;
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves with the results in order. */
async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Fails the process if it is still running after `ms` (a last line of defence against hangs). */
function watchdog(ms, name) {
  const t = setTimeout(() => {
    process.stderr.write(`${name}: watchdog fired after ${ms} ms; exiting\n`);
    process.exit(3);
  }, ms);
  t.unref();
  return t;
}

module.exports = {
  firstMessage,
  emulator,
  envName,
  nowSeconds,
  sasToken,
  tokenFor,
  addQuery,
  listenUrl,
  connectUrl,
  httpsUrl,
  handshake,
  redact,
  withTimeout,
  nextEvent,
  sleep,
  sha256,
  asciiText,
  mapLimit,
  watchdog,
};
