// SPDX-License-Identifier: MIT
// The peers a check starts, each tracked by the check so that it is stopped when the check ends:
// our listener (azr_test_listener, the C library through its public API), the azrelay CLI, raw `ws`
// 8 senders and listeners' handshakes, Microsoft's hyco-ws, and local TCP servers.
'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const relay = require('../../interop/lib/relay');
const { TestListener } = require('../../interop/lib/test-listener');
const { Background } = require('../../interop/lib/azrelay-cli');

/**
 * AzureRelayKeepAliveTime for every listener and sender the run starts (null: the library's 30 s).
 * Against the emulator it is shorter than the emulator's idle cut-off, which is seconds there.
 */
function keepAliveSets(ctx) {
  const k = ctx.params.keepAliveS;
  return k === null || k === undefined ? [] : [`AzureRelayKeepAliveTime=${k}`];
}

/** `azrelay` arguments with --cacert and the keep-alive where the subcommand takes them. */
function cliArgs(ctx, args) {
  const [cmd, ...rest] = args;
  const extra = [];
  if (ctx.target.cacert && ['listen', 'connect', 'request'].includes(cmd)) extra.push('--cacert', ctx.target.cacert);
  if (['listen', 'connect'].includes(cmd)) for (const s of keepAliveSets(ctx)) extra.push('--set', s);
  return [cmd, ...extra, ...rest];
}

/**
 * Starts azr_test_listener on the connection string `cs` (passed in the environment, never on the
 * command line) and waits for "listening" unless `wait` is false. opts: mode, sets, args, logLevel,
 * label, env, readyMs.
 */
async function testListener(ctx, cs, opts = {}) {
  const t = ctx.target;
  const fake = { connectionString: () => '-', cert: t.cacert };
  const env = { AZRELAY_CONNECTION_STRING: cs, ...(opts.env || {}) };
  if (process.env.AZR_TEST_SANITIZED === '1') {
    // ASan's quarantine of freed blocks would look like growth to the flood check's RSS bound.
    env.ASAN_OPTIONS = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=8'].filter(Boolean).join(':');
  }
  const sets = [...keepAliveSets(ctx), ...(opts.sets || [])];
  const L = new TestListener(fake, 'hc', { ...opts, sets, env, label: opts.label || `azr_test_listener (${opts.mode || 'echo'})` });
  ctx.track(L.proc, {
    label: L.label,
    expectCleanExit: opts.expectCleanExit !== false,
    output: () => L.events.map((e) => e.line).join('\n') + '\n--- stderr ---\n' + L.stderrText,
  });
  if (opts.wait !== false) {
    await L.waitFor((e) => e.kind === 'listening' || e.kind === 'control_failed', opts.readyMs || ctx.params.readyMs, 'the listener to come online');
    const failed = L.list('control_failed')[0];
    if (failed && !L.list('listening').length) throw new Error(`${L.label} could not listen: ${failed.line}`);
  }
  return L;
}

/** Starts `azrelay ARGS` with the connection string `cs` in its environment; waits for `readyRe` on stderr. */
async function cli(ctx, cs, args, { label, readyRe, readyMs, expectCleanExit = true, env } = {}) {
  const b = new Background(process.env.AZRELAY_BIN, cliArgs(ctx, args), { label: label || `azrelay ${args[0]}`, env: ctx.target.env(cs, env) });
  ctx.track(b.proc, { label: b.label, expectCleanExit, output: () => `${b.stdout ? '--- stdout ---\n' + b.stdout.slice(-4000) + '\n' : ''}--- stderr ---\n${b.stderr}` });
  if (readyRe) await b.waitFor(readyRe, readyMs || ctx.params.readyMs);
  return b;
}

/** `azrelay listen ARGS` until "listening". */
function cliListener(ctx, cs, args, opts = {}) {
  return cli(ctx, cs, ['listen', ...args], { label: `azrelay listen ${args.join(' ')}`, readyRe: /^listening$/m, ...opts });
}

/**
 * Runs `azrelay ARGS` to its end with `input` on stdin. Resolves with { code, stdout (Buffer),
 * stderr, ms }; a run past `timeoutMs` is killed and reported with code null.
 */
function cliRun(ctx, cs, args, { input = null, timeoutMs = 30000, env } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.env.AZRELAY_BIN, cliArgs(ctx, args), { env: ctx.target.env(cs, env), stdio: ['pipe', 'pipe', 'pipe'] });
    ctx.track(p, { label: `azrelay ${args[0]}`, expectCleanExit: false });
    const out = [];
    let err = '';
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => {
      err += d.toString('utf8');
    });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      const r = { code, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - started };
      ctx.log(`azrelay ${args.join(' ')}: exit ${code} after ${r.ms} ms; stderr: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      resolve(r);
    });
    p.stdin.on('error', () => {});
    if (input !== null) p.stdin.end(input);
    else p.stdin.end();
  });
}

/** Messages of a `ws` 8 socket as { binary, data }, awaited one at a time. */
class Ws8Queue {
  constructor(ws, label) {
    this.label = label;
    this.items = [];
    this.waiters = [];
    this.closeInfo = null;
    ws.on('message', (data, isBinary) => {
      const item = { binary: isBinary, data: isBinary ? Buffer.from(data) : data.toString('utf8') };
      const w = this.waiters.shift();
      if (w) w.resolve(item);
      else this.items.push(item);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${label} closed (${code}) while a message was awaited`));
        resolve(this.closeInfo);
      }),
    );
    ws.on('error', () => {});
  }

  next(ms) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.closeInfo) return Promise.reject(new Error(`${this.label} is closed (${this.closeInfo.code})`));
    let w;
    const p = new Promise((resolve, reject) => {
      w = { resolve, reject };
      this.waiters.push(w);
    });
    return relay.withTimeout(p, ms, `a message on ${this.label}`).catch((e) => {
      this.waiters = this.waiters.filter((x) => x !== w);
      throw e;
    });
  }
}

/**
 * A `ws` 8 sender handshake to hybrid connection `hc`. token: a SAS token (ServiceBusAuthorization
 * header), or { query: token } to send it as sb-hc-token, or null for none. Resolves with
 * { ok: true, ws, queue, ms } or { ok: false, statusCode, statusMessage, body, ms }.
 */
async function wsSender(ctx, hc, token, { suffix, headers = {}, label = 'ws sender', timeoutMs } = {}) {
  const t = ctx.target;
  const h = { ...headers };
  let query;
  if (token && typeof token === 'object') query = `sb-hc-token=${encodeURIComponent(token.query)}`;
  else if (token) h.ServiceBusAuthorization = token;
  const started = Date.now();
  const r = await relay.handshake(t.wsUrl(hc, 'connect', { suffix, query }), { headers: h, timeoutMs: timeoutMs || ctx.params.handshakeMs });
  r.ms = Date.now() - started;
  if (!r.ok) return r;
  ctx.defer(() => closeWs(r.ws));
  r.queue = new Ws8Queue(r.ws, label);
  return r;
}

/** A raw listen handshake: how the relay answers these credentials. The control channel is closed unless `keep`. */
async function listenHandshake(ctx, hc, token, { keep = false } = {}) {
  const r = await relay.handshake(ctx.target.wsUrl(hc, 'listen'), { headers: token ? { ServiceBusAuthorization: token } : {}, timeoutMs: ctx.params.handshakeMs });
  if (r.ok && !keep) r.ws.terminate();
  if (r.ok && keep) ctx.defer(() => r.ws.terminate());
  return r;
}

function closeWs(ws, code = 1000, reason = '') {
  if (ws.readyState === 3) return Promise.resolve();
  return relay
    .withTimeout(
      new Promise((resolve) => {
        ws.once('close', resolve);
        try {
          ws.close(code, reason);
        } catch {
          resolve();
        }
      }),
      5000,
      'a socket to close',
    )
    .catch(() => ws.terminate());
}

/** Sends one message with ws 8 and resolves when it was written. */
function wsSend(ws, data, binary) {
  return new Promise((resolve, reject) => ws.send(data, { binary }, (e) => (e ? reject(e) : resolve())));
}

/** "handshake refused: 404 There are no..." or "open" — for messages. */
function describeHandshake(r) {
  return r.ok ? 'open (101)' : `${r.statusCode} ${r.statusMessage}`;
}

/** A loopback TCP server; `onConnection(socket)`; resolves with { server, port }. */
async function tcpServer(ctx, onConnection) {
  const server = net.createServer(onConnection);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  ctx.defer(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: server.address().port };
}

/** A loopback port that was free a moment ago (for `azrelay connect --local-port`, which needs one). */
async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Waits until 127.0.0.1:port accepts connections. */
async function waitForPort(port, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing accepts on 127.0.0.1:${port} after ${ms} ms`);
    await relay.sleep(100);
  }
}

/**
 * One TCP client: connects to 127.0.0.1:port, writes `data`, half-closes, and resolves with every
 * byte it read until the server closed (or rejects after `ms`).
 */
function tcpExchange(port, data, ms) {
  return relay.withTimeout(
    new Promise((resolve, reject) => {
      const chunks = [];
      const s = net.connect(port, '127.0.0.1', () => s.end(data));
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    }),
    ms,
    `a TCP exchange through port ${port}`,
  );
}

/** Polls `fn` every 50 ms until it returns something truthy; rejects after `ms` naming `what`. */
async function waitUntil(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await relay.sleep(50);
  }
}

module.exports = {
  keepAliveSets,
  cliArgs,
  waitUntil,
  testListener,
  cli,
  cliListener,
  cliRun,
  wsSender,
  wsSend,
  listenHandshake,
  closeWs,
  describeHandshake,
  Ws8Queue,
  tcpServer,
  freePort,
  waitForPort,
  tcpExchange,
};
