// SPDX-License-Identifier: MIT
// Runs azr_test_listener (tests/integration/listener/listener_driver.c: our C library as the listener)
// against the emulator of lib/run-with-emulator.js, parses its one-event-per-line stdout, and opens
// hyco-ws / ws 8 senders to it. Every started listener is killed when the process exits.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const relay = require('./relay');
const { connectOutcome } = require('./hyco-sender');
const { MessageQueue } = require('./ws1-queue');

const KEEP_STDOUT_LINES = 20000;
const KEEP_STDERR = 256 * 1024;
const alive = new Set();
process.on('exit', () => {
  for (const p of alive) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** Kills every listener still running (an after() hook for test files; withListeners stops them normally). */
function killAll() {
  for (const p of alive) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Path of the test listener (set by tests/interop/listener.cmake), or a clear error. */
function listenerBin() {
  const bin = process.env.AZR_TEST_LISTENER;
  if (!bin) throw new Error('AZR_TEST_LISTENER is not set (path of azr_test_listener; see tests/interop/listener.cmake)');
  if (!fs.existsSync(bin)) throw new Error(`AZR_TEST_LISTENER=${bin} does not exist`);
  return bin;
}

/** True when azr_test_listener was built with ASan/UBSan (listener.cmake sets AZR_TEST_SANITIZED). */
function sanitized() {
  return process.env.AZR_TEST_SANITIZED === '1';
}

/** True when `valgrind` can be run. */
function haveValgrind() {
  const r = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * One event line: "kind k=v k=v ... reason=free text". `reason` always comes last and keeps spaces;
 * "rss_kb=123" lines become { kind: 'rss_kb', rss_kb: 123 }. Numeric values become numbers.
 */
function parseLine(line) {
  let head = line;
  let reason;
  const r = line.indexOf(' reason=');
  if (r >= 0) {
    head = line.slice(0, r);
    reason = line.slice(r + ' reason='.length);
  }
  const parts = head.split(' ').filter(Boolean);
  const ev = { line };
  const first = parts.shift() || '';
  const eq = first.indexOf('=');
  ev.kind = eq >= 0 ? first.slice(0, eq) : first;
  if (eq >= 0) parts.unshift(first);
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    const k = p.slice(0, i);
    const v = p.slice(i + 1);
    ev[k] = /^-?\d+$/.test(v) && v.length < 16 ? Number(v) : v;
  }
  if (reason !== undefined) ev.reason = reason;
  return ev;
}

class TestListener {
  /**
   * Starts the listener on hybrid connection `hc` and waits for its "listening" line.
   * opts: mode, sets (["Name=Value"]), args (extra command-line arguments), logLevel, valgrind,
   * readyMs, label, env (extra environment variables).
   */
  static async start(emu, hc, opts = {}) {
    // AZR_TEST_VALGRIND=1 runs every listener of a test file under valgrind memcheck.
    if (opts.valgrind === undefined && process.env.AZR_TEST_VALGRIND === '1') opts = { ...opts, valgrind: true };
    const L = new TestListener(emu, hc, opts);
    try {
      await L.waitFor((e) => e.kind === 'listening', opts.readyMs || (opts.valgrind ? 60000 : 15000), `${L.label} to listen`);
    } catch (e) {
      L.printOutput(`${L.label} did not come online`);
      L.kill();
      throw e;
    }
    return L;
  }

  constructor(emu, hc, opts) {
    const cs = emu.connectionString(hc);
    if (!cs) throw new Error(`the emulator has no connection string for ${hc} (start it with --hc ${hc})`);
    this.label = opts.label || `listener ${hc}${opts.mode ? ' (' + opts.mode + ')' : ''}`;
    const args = ['-c', cs];
    if (emu.cert) args.push('--cacert', emu.cert);
    if (opts.mode) args.push('--mode', opts.mode);
    for (const s of opts.sets || []) args.push('--set', s);
    if (opts.logLevel !== undefined) args.push('--log-level', String(opts.logLevel));
    args.push(...(opts.args || []));
    let cmd = listenerBin();
    if (opts.valgrind) {
      args.unshift('--error-exitcode=99', '--leak-check=full', '--errors-for-leak-kinds=definite', '--show-leak-kinds=definite', '--num-callers=30', cmd);
      cmd = 'valgrind';
    }
    this.command = [cmd, ...args.map((a) => (a === cs ? '<connection string>' : a))].join(' ');
    this.events = [];
    this.dropped = 0;
    this.stderrText = '';
    this.waiters = [];
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env || {}) } });
    alive.add(this.proc);
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        alive.delete(this.proc);
        this.exitInfo = { code, signal };
        this._check();
        resolve(this.exitInfo);
      }),
    );
    let buf = '';
    this.proc.stdout.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.events.push(parseLine(line));
        if (this.events.length > KEEP_STDOUT_LINES * 2) {
          // Keep memory bounded on floods: forget the oldest half (waiters see lines as they come).
          this.dropped += KEEP_STDOUT_LINES;
          for (const w of this.waiters) w.from = Math.max(0, w.from - KEEP_STDOUT_LINES);
          this.events.splice(0, KEEP_STDOUT_LINES);
        }
      }
      this._check();
    });
    this.proc.stderr.on('data', (d) => {
      this.stderrText += d.toString('utf8');
      if (this.stderrText.length > KEEP_STDERR * 2) this.stderrText = this.stderrText.slice(-KEEP_STDERR);
    });
  }

  /** Events so far of one kind (all when kind is omitted), optionally filtered by conn id. */
  list(kind, id) {
    return this.events.filter((e) => (!kind || e.kind === kind) && (id === undefined || e.id === id));
  }

  /** Index to pass as `from` so that waitFor only looks at later lines. */
  mark() {
    return this.events.length;
  }

  /** Resolves with the first event (from index `from`) matching `pred`; rejects on timeout or exit. */
  waitFor(pred, ms, what, from = 0) {
    let w;
    const p = new Promise((resolve, reject) => {
      w = { pred, from, resolve, reject, what };
      this.waiters.push(w);
      this._check();
    });
    return relay.withTimeout(p, ms, `${what} (${this.label})`).finally(() => {
      this.waiters = this.waiters.filter((x) => x !== w);
    });
  }

  _check() {
    for (const w of this.waiters.slice()) {
      for (let i = w.from; i < this.events.length; i++) {
        if (w.pred(this.events[i])) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(this.events[i]);
          break;
        }
      }
      if (this.exitInfo && this.waiters.includes(w)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.reject(new Error(`${this.label} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}) while waiting for ${w.what}`));
      }
    }
  }

  /** Ids of the connections that opened, in the order of their `connected` lines. */
  connectedIds() {
    return this.list('connected').filter((e) => e.code === 0).map((e) => e.id);
  }

  /** Stops with SIGTERM (SIGKILL after `ms`) and resolves with { code, signal }. */
  async stop(ms = 15000) {
    if (this.exitInfo) return this.exitInfo;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`${this.label}: ignored SIGTERM for ${ms} ms; killing it\n`);
      this.proc.kill('SIGKILL');
    }, ms);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  kill() {
    if (!this.exitInfo) this.proc.kill('SIGKILL');
  }

  /** SIGKILL as part of the test (a crash to survive): withListeners then expects no clean exit. */
  killOnPurpose() {
    this.killedOnPurpose = true;
    this.kill();
  }

  /** Prints the command, the stdout events (last 300 lines) and stderr to the test's stderr. */
  printOutput(why) {
    const lines = this.events.map((e) => e.line);
    const shown = lines.slice(-300);
    const skipped = this.dropped + lines.length - shown.length;
    process.stderr.write(
      `\n===== ${this.label} (${why}): ${this.command} =====\n` +
        (skipped ? `[... ${skipped} earlier stdout lines not shown ...]\n` : '') +
        shown.join('\n') +
        `\n----- stderr -----\n${this.stderrText.slice(-KEEP_STDERR)}\n===== end of ${this.label} =====\n`,
    );
  }
}

/**
 * A node:test body with listeners: `fn(start)` where `start(hc, opts)` starts a TestListener. On
 * failure every listener's output is printed; afterwards each is stopped with SIGTERM and must exit
 * with status 0 (a clean shutdown; under ASan or valgrind this also means no leaks or errors).
 */
function withListeners(emu, fn) {
  return async () => {
    const started = [];
    const start = async (hc, opts) => {
      const L = await TestListener.start(emu, hc, opts);
      started.push(L);
      return L;
    };
    try {
      await fn(start);
    } catch (e) {
      for (const L of started) L.printOutput('test failed');
      for (const L of started) L.kill();
      throw e;
    }
    const bad = [];
    for (const L of started) {
      if (L.killedOnPurpose) continue;
      const r = await L.stop();
      if (r.code !== 0) {
        L.printOutput(`unclean exit: code ${r.code}, signal ${r.signal}`);
        bad.push(`${L.label} exited with code ${r.code}, signal ${r.signal} after SIGTERM`);
      }
    }
    if (bad.length) throw new Error(bad.join('; '));
  };
}

/** A token for a sender on `hc` (Send right via the emulator's root rule). */
function senderToken(emu, hc) {
  return relay.tokenFor(emu, hc);
}

/** Opens a hyco-ws (ws 1.x) sender; resolves with { ws, queue } or throws with the refusal. */
async function openHycoSender(emu, hc, { label, timeoutMs = 15000, suffix } = {}) {
  const r = await connectOutcome(relay.connectUrl(emu, hc, { suffix }), senderToken(emu, hc), timeoutMs);
  if (!r.ok) throw new Error(`${label || 'sender'}: handshake refused: ${r.statusCode} ${r.statusMessage}`);
  return { ws: r.ws, queue: new MessageQueue(r.ws, label || `sender on ${hc}`) };
}

/** Closes a ws 1.x or ws 8 socket and waits (bounded) until it is closed. */
async function closeSocket(ws, code, reason, ms = 5000) {
  if (ws.readyState === 3) return;
  const done = new Promise((resolve) => ws.once('close', resolve));
  try {
    if (code) ws.close(code, reason);
    else ws.close();
  } catch {
    /* already closing */
  }
  await relay.withTimeout(done, ms, 'a socket to close').catch(() => ws.terminate());
}

module.exports = { TestListener, withListeners, killAll, parseLine, haveValgrind, sanitized, openHycoSender, senderToken, closeSocket };
