// SPDX-License-Identifier: MIT
// Helpers of the fault tests: the emulator on a fixed loopback port (so that it can be killed and
// restarted under a listener whose connection string stays valid), azr_test_listener with its
// one-event-per-line output, ws 8 senders that check every echoed byte, and the listener's
// descriptor count and RSS read from /proc. Every child is killed by its PID when we exit.
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');

const SKIP = 77;
const SRC = process.env.AZR_SOURCE_DIR || path.resolve(__dirname, '../../..');

function log(...args) {
  const t = (process.uptime()).toFixed(2).padStart(7);
  process.stderr.write(`[${t}s] ${args.join(' ')}\n`);
}

function skip(why) {
  log(`SKIP: ${why}`);
  process.exit(SKIP);
}

/** A failed check: the message says what was expected and what happened. */
class CheckError extends Error {}

function check(cond, what) {
  if (!cond) throw new CheckError(what);
  log(`ok: ${what}`);
}

/** Loads a package installed by `npm ci` in tests/interop (ws 8), or skips. */
function interopRequire(name) {
  const req = createRequire(path.join(SRC, 'tests/interop/package.json'));
  try {
    return req(name);
  } catch {
    return skip(`Node package '${name}' missing: run \`npm ci\` in ${path.join(SRC, 'tests/interop')}`);
  }
}
const WebSocket = interopRequire('ws');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `p`, or rejects after `ms` naming `what`. */
function within(p, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new CheckError(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Polls `fn` (sync or async) every 50 ms until it returns a truthy value; returns it, or null. */
async function poll(fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= end) return v || null;
    await sleep(50);
  }
}

/** A loopback port nobody listens on right now (bind 0, read, close). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (AES-128-CTR keystream of a seed). */
function prng(seed, len) {
  const key = crypto.createHash('sha256').update(`azr-fault-${seed}`).digest().subarray(0, 16);
  const c = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return c.update(Buffer.alloc(len));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-fault-'));
const children = new Set();
let keepTmp = false;
process.on('exit', () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) {
    try {
      process.kill(p.pid, 'SIGCONT'); // a stopped emulator would not die before its parent is gone
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (!keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A child process whose stdout/stderr lines are kept (bounded) and can be waited for. */
class Proc {
  constructor(label, cmd, args, { env } = {}) {
    this.label = label;
    this.cmd = cmd;
    this.args = args;
    this.lines = [];   // stdout lines
    this.errText = ''; // stderr, last 256 KiB
    this.waiters = [];
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(env || {}) } });
    this.pid = this.proc.pid;
    children.add(this.proc);
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        children.delete(this.proc);
        this.exitInfo = { code, signal };
        this._wake();
        resolve(this.exitInfo);
      }),
    );
    let buf = '';
    this.proc.stdout.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      if (this.lines.length > 100000) this.lines.splice(0, 50000);
      this._wake();
    });
    this.proc.stderr.on('data', (d) => {
      this.errText += d.toString('utf8');
      if (this.errText.length > 512 * 1024) this.errText = this.errText.slice(-256 * 1024);
    });
  }

  alive() {
    return !this.exitInfo;
  }

  _wake() {
    for (const w of this.waiters.slice()) {
      for (let i = w.from; i < this.lines.length; i++) {
        if (w.pred(this.lines[i])) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(this.lines[i]);
          break;
        }
      }
      if (this.exitInfo && this.waiters.includes(w)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.reject(new CheckError(`${this.label} exited (${JSON.stringify(this.exitInfo)}) while waiting for ${w.what}`));
      }
    }
  }

  /** Index of the next line, for waitLine(..., from). */
  mark() {
    return this.lines.length;
  }

  /** Resolves with the first stdout line from index `from` matching `re` (RegExp or predicate). */
  waitLine(re, ms, what, from = 0) {
    const pred = typeof re === 'function' ? re : (l) => re.test(l);
    let w;
    const p = new Promise((resolve, reject) => {
      w = { pred, from, resolve, reject, what: what || String(re) };
      this.waiters.push(w);
      this._wake();
    });
    return within(p, ms, `${w.what} from ${this.label}`).finally(() => {
      const i = this.waiters.indexOf(w);
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }

  grep(re, from = 0) {
    return this.lines.slice(from).filter((l) => re.test(l));
  }

  signal(sig) {
    if (this.alive()) process.kill(this.pid, sig);
  }

  /** SIGTERM, SIGKILL after `ms`; resolves with { code, signal }. */
  async stop(ms = 10000) {
    if (!this.alive()) return this.exitInfo;
    this.signal('SIGTERM');
    const t = setTimeout(() => {
      log(`${this.label} ignored SIGTERM for ${ms} ms: SIGKILL`);
      this.signal('SIGKILL');
    }, ms);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  /** Open descriptors (/proc/PID/fd entries). */
  fdCount() {
    return fs.readdirSync(`/proc/${this.pid}/fd`).length;
  }

  fdList() {
    return fs.readdirSync(`/proc/${this.pid}/fd`).map((n) => {
      try {
        return `${n}->${fs.readlinkSync(`/proc/${this.pid}/fd/${n}`)}`;
      } catch {
        return `${n}->?`;
      }
    });
  }

  /** VmRSS in KiB. */
  rssKb() {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : -1;
  }

  /** utime + stime in seconds. */
  cpuSeconds() {
    const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  }

  dump(why) {
    const shown = this.lines.slice(-200);
    process.stderr.write(
      `\n===== ${this.label} (${why}) pid ${this.pid}: ${this.cmd} ${this.args.join(' ')} =====\n` +
        `${shown.join('\n')}\n----- stderr (tail) -----\n${this.errText.slice(-16384)}\n===== end of ${this.label} =====\n`,
    );
  }
}

/**
 * The emulator in plain mode (ws://, UseDevelopmentEmulator=true connection strings) on a fixed
 * port with a fixed key: a restarted one accepts the same connection string.
 */
class Emulator {
  constructor({ hcs = ['hc1'], sets = [], args = [] } = {}) {
    this.bin = process.env.AZRELAY_BIN;
    if (!this.bin || !fs.existsSync(this.bin)) throw new Error(`AZRELAY_BIN (${this.bin}) is not an executable`);
    this.hcs = hcs;
    this.sets = sets;
    this.extraArgs = process.env.AZR_FAULT_EMULATOR_LOG ? [...args, '--log-level', process.env.AZR_FAULT_EMULATOR_LOG] : args;
    this.keyName = 'RootManageSharedAccessKey';
    this.key = crypto.randomBytes(32).toString('base64');
    this.host = 'localhost';
    this.plain = true;
    this.wsScheme = 'ws';
    this.port = 0;
    this.starts = 0;
    this.proc = null;
    this.past = []; // earlier (killed) processes, for post-mortems
  }

  /** Starts on this.port (a fresh free port the first time; retried while the port is taken). */
  async start() {
    const first = !this.port;
    for (let attempt = 0; ; attempt++) {
      if (first) this.port = await freePort();
      const args = ['emulator', '--plain', '--port', String(this.port), '--hc', this.hcs.join(','),
        '--key-name', this.keyName, '--key', this.key];
      for (const s of this.sets) args.push('--set', s);
      args.push(...this.extraArgs);
      const p = new Proc(`emulator#${++this.starts}`, this.bin, args);
      if (this.proc) this.past.push(this.proc);
      this.proc = p;
      try {
        await p.waitLine(/^ready$/, 15000, 'ready');
        this.connStr = {};
        for (const l of p.lines) {
          const m = /^connection string ([^:]+): (.*)$/.exec(l);
          if (m) this.connStr[m[1]] = m[2];
        }
        return this;
      } catch (e) {
        await p.exited.catch(() => {});
        if (attempt >= 20) throw e;
        log(`emulator start on port ${this.port} failed (${p.errText.trim().split('\n').pop()}); retrying`);
        await sleep(250);
      }
    }
  }

  /** Kills with SIGKILL and waits until it is gone. */
  async kill9() {
    const p = this.proc;
    p.signal('SIGKILL');
    await p.exited;
  }

  async restart() {
    await this.kill9();
    return this.start();
  }

  /** SIGTERM: must exit with 0 (so that a sanitized emulator also proves it leaked nothing). */
  async stop() {
    if (!this.proc) return { code: 0 };
    return this.proc.stop();
  }

  connectionString(hc = 'hc1') {
    return this.connStr[hc];
  }

  /** A SAS token with Send rights for `hc` (audience http://localhost/hc/). */
  token(hc = 'hc1') {
    const sr = encodeURIComponent(`http://${this.host}/${hc}/`);
    const se = Math.floor(Date.now() / 1000) + 3600;
    const sig = crypto.createHmac('sha256', this.key).update(`${sr}\n${se}`).digest('base64');
    return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${this.keyName}`;
  }

  connectUrl(hc = 'hc1') {
    return `ws://${this.host}:${this.port}/$hc/${hc}?sb-hc-action=connect&sb-hc-token=${encodeURIComponent(this.token(hc))}`;
  }
}

/** azr_test_listener (path in AZR_TEST_LISTENER), one event per stdout line. */
class Listener extends Proc {
  constructor(emu, { hc = 'hc1', mode = 'echo', sets = [], args = [], env, label } = {}) {
    const bin = process.env.AZR_TEST_LISTENER;
    if (!bin || !fs.existsSync(bin)) throw new Error(`AZR_TEST_LISTENER (${bin}) is not an executable`);
    const a = ['-c', emu.connectionString(hc), '--mode', mode, '--log-level', '2'];
    for (const s of sets) a.push('--set', s);
    a.push(...args);
    super(label || `listener(${mode})`, bin, a, { env: Listener.sanitizerEnv(env) });
  }

  /**
   * Under ASan the freed-memory quarantine (256 MB by default) would show up as RSS growth: keep it
   * small so that the RSS check still means something (leaks are LeakSanitizer's job at exit).
   */
  static sanitizerEnv(env = {}) {
    if (process.env.AZR_TEST_SANITIZED !== '1') return env;
    const opts = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=16', env.ASAN_OPTIONS].filter(Boolean).join(':');
    return { ...env, ASAN_OPTIONS: opts };
  }

  count(re, from = 0) {
    return this.grep(re, from).length;
  }

  /** Waits for a `listening` line after index `from`. */
  online(ms, from = 0) {
    return this.waitLine(/^listening$/, ms, 'listening', from);
  }

  /** The value of key `k` in an event line ("connected id=3 code=0 ..."), as a number when numeric. */
  static field(line, k) {
    const m = new RegExp(`(?:^| )${k}=(\\S*)`).exec(line.split(' reason=')[0]);
    if (!m) return undefined;
    return /^-?\d+$/.test(m[1]) ? Number(m[1]) : m[1];
  }

  /** Ids of connections with a `connected ... code=0` line and no `disconnected` line yet. */
  openIds() {
    const open = new Set();
    for (const l of this.lines) {
      if (/^connected id=\d+ code=0/.test(l)) open.add(Listener.field(l, 'id'));
      else if (/^disconnected id=/.test(l)) open.delete(Listener.field(l, 'id'));
    }
    return [...open];
  }
}

/**
 * Opens a ws 8 sender; resolves with { ws, messages } (messages: received Buffers, in order), or
 * rejects with the relay's refusal. `ws.closeInfo` is set to { code, reason } once closed.
 */
function openSender(emu, { hc = 'hc1', ms = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(emu.connectUrl(hc), { perMessageDeflate: false, handshakeTimeout: ms, maxPayload: 0 });
    const s = { ws, messages: [], waiters: [] };
    ws.closed = new Promise((res) =>
      ws.on('close', (code, reason) => {
        ws.closeInfo = { code, reason: reason.toString() };
        for (const w of s.waiters.splice(0)) w.reject(new CheckError(`sender closed (${code} ${reason}) while waiting for a message`));
        res(ws.closeInfo);
      }),
    );
    ws.on('message', (data) => {
      s.messages.push(data);
      const w = s.waiters.shift();
      if (w) w.resolve(s.messages.shift());
    });
    ws.on('open', () => resolve(s));
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      reject(new CheckError(`sender refused: ${res.statusCode} ${res.statusMessage}`));
    });
    ws.on('error', (e) => {
      ws.lastError = e;
      reject(e);
    });
  });
}

/** The next message of sender `s` (rejects when it closes first or after `ms`). */
function nextMessage(s, ms = 10000) {
  if (s.messages.length) return Promise.resolve(s.messages.shift());
  const p = new Promise((resolve, reject) => s.waiters.push({ resolve, reject }));
  return within(p, ms, 'a message on the sender');
}

/**
 * A new sender sends `size` random bytes, reads the next message, then closes (1000). Resolves
 * { same, size, back, close, text }: `same` when exactly the sent bytes came back and the close
 * handshake ended with 1000 (the listener answers a Close with the code it received, RFC 6455
 * 5.5.1); `text` says what happened. The caller checks `same`.
 */
async function echoRoundTrip(emu, { size = 64 * 1024, hc = 'hc1', ms = 10000 } = {}) {
  const s = await within(openSender(emu, { hc, ms }), ms, 'a sender to open');
  const data = crypto.randomBytes(size);
  s.ws.send(data);
  const back = await nextMessage(s, ms);
  s.ws.close(1000);
  const close = await within(s.ws.closed, ms, 'the sender to close');
  const same = Buffer.compare(back, data) === 0 && close.code === 1000;
  const text = `sent ${size} bytes sha ${sha256(data).slice(0, 16)}, got ${back.length} sha ${sha256(back).slice(0, 16)}, ` +
    `close ${close.code}`;
  return { same, size, back, close, text };
}

/**
 * A sender that keeps sending random-size messages and checks each echo (order and content) until
 * stop() or until the connection closes. Resolves { sent, echoed, mismatches, close } on end.
 */
async function startPump(emu, { hc = 'hc1', maxSize = 256 * 1024 } = {}) {
  const s = await within(openSender(emu, { hc }), 10000, 'a pump sender to open');
  const st = { sent: 0, echoed: 0, mismatches: 0, stopped: false, close: null, bytes: 0 };
  const run = (async () => {
    let seq = 0;
    while (!st.stopped && !s.ws.closeInfo) {
      const data = prng(`${process.pid}-${seq++}`, 1 + crypto.randomInt(maxSize));
      try {
        s.ws.send(data);
      } catch {
        break;
      }
      st.sent++;
      let back;
      try {
        back = await nextMessage(s, 15000);
      } catch {
        break;
      }
      if (Buffer.compare(back, data) === 0) {
        st.echoed++;
        st.bytes += data.length;
      } else st.mismatches++;
    }
    if (!s.ws.closeInfo) {
      s.ws.close(1000);
      await within(s.ws.closed, 10000, 'a pump sender to close').catch(() => s.ws.terminate());
    }
    st.close = s.ws.closeInfo || { code: 'terminated' };
    return st;
  })();
  st.stop = () => {
    st.stopped = true;
    return run;
  };
  st.done = run;
  return st;
}

/**
 * Bytes waiting in the kernel on the TCP connections with an end on loopback `port` (/proc/net/tcp
 * and tcp6: tx_queue = written, not yet acknowledged; rx_queue = received, not yet read). Every
 * connection through the emulator has one end on its port, so 0 means the kernel holds nothing in
 * flight between the senders, the emulator and the listener.
 */
function loopbackQueued(port) {
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 5 || c[3] === '0A') continue; // 0A: LISTEN (its queues count connections)
      const ports = [c[1], c[2]].map((a) => parseInt(a.split(':').pop(), 16));
      if (!ports.includes(port)) continue;
      const [tx, rx] = c[4].split(':').map((x) => parseInt(x, 16));
      n += tx + rx;
    }
  }
  return n;
}

/**
 * Waits until everything sender `s` wrote has left it and nothing is queued in the kernel on the
 * emulator's connections (twice in a row, 50 ms apart): the bytes have reached the listener.
 */
async function waitDelivered(emu, s, ms, what) {
  const t0 = Date.now();
  const first = s.ws._socket.writableLength + loopbackQueued(emu.port);
  let quiet = 0;
  const ok = await poll(() => {
    quiet = s.ws._socket.writableLength === 0 && loopbackQueued(emu.port) === 0 ? quiet + 1 : 0;
    return quiet >= 2;
  }, ms);
  if (!ok) throw new CheckError(`timed out after ${ms} ms waiting for ${what} (${loopbackQueued(emu.port)} bytes still queued)`);
  log(`${what}: ${first} bytes in flight at first, none after ${Date.now() - t0} ms`);
}

/**
 * Waits until at least `min` bytes sit in the kernel on the emulator's connections and that amount
 * stays the same for 150 ms: a peer has stopped reading and the data it was sent piled up.
 */
async function waitStalled(emu, min, ms, what) {
  const t0 = Date.now();
  let last = -1;
  let same = 0;
  const ok = await poll(() => {
    const n = loopbackQueued(emu.port);
    same = n >= min && n === last ? same + 1 : 0;
    last = n;
    return same >= 3;
  }, ms);
  if (!ok) throw new CheckError(`timed out after ${ms} ms waiting for ${what} (${last} bytes queued, want ${min}+ and steady)`);
  log(`${what}: ${last} bytes queued, steady, after ${Date.now() - t0} ms`);
}

/**
 * Baseline of a listener's descriptors and RSS; later `expectBack` waits (bounded) until the fd
 * count is back within `fdSlack` and checks the RSS growth (slack in KiB).
 */
function baseline(L) {
  return { fds: L.fdCount(), rss: L.rssKb(), fdList: L.fdList() };
}

async function expectBack(L, base, { fdSlack = 2, rssSlackKb = 8 * 1024, ms = 8000 } = {}) {
  // ASan: a 16 MB quarantine (Listener.sanitizerEnv), shadow memory and allocator caches.
  if (process.env.AZR_TEST_SANITIZED === '1') rssSlackKb = Math.max(rssSlackKb, 48 * 1024);
  const fdsOk = await poll(() => Math.abs(L.fdCount() - base.fds) <= fdSlack, ms);
  const fds = L.fdCount();
  if (!fdsOk) {
    const now = L.fdList();
    log(`descriptors now: ${now.filter((x) => !base.fdList.includes(x)).join(' ')} (new since baseline)`);
  }
  check(fdsOk, `listener descriptors back to baseline: ${fds} (baseline ${base.fds}, slack ${fdSlack})`);
  const rss = L.rssKb();
  check(rss <= base.rss + rssSlackKb, `listener RSS ${rss} KiB within ${rssSlackKb} KiB of baseline ${base.rss} KiB`);
  return { fds, rss };
}

/** Stops the listener with SIGTERM: it must exit 0 (sanitized builds also report leaks here). */
async function expectCleanExit(L) {
  check(L.alive(), `${L.label} still running (no crash)`);
  const r = await L.stop();
  check(r.code === 0, `${L.label} exits 0 after SIGTERM (got ${JSON.stringify(r)})`);
}

module.exports = {
  SKIP, SRC, tmp, log, skip, check, CheckError, within, poll, sleep, freePort, sha256, prng,
  Proc, Emulator, Listener, WebSocket, openSender, nextMessage, echoRoundTrip, startPump, baseline,
  loopbackQueued, waitDelivered, waitStalled,
  expectBack, expectCleanExit, keep() { keepTmp = true; },
};
