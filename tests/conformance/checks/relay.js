// SPDX-License-Identifier: MIT
// WebSocket checks on one hybrid connection: no listener, online and offline, an unknown hybrid
// connection, accept and reject, echo of text and binary messages up to 16 MiB, flow control under
// a flood, and several listeners sharing one hybrid connection (§5, §6).
'use strict';

const crypto = require('node:crypto');
const relay = require('../../interop/lib/relay');
const { stopProcess } = require('../lib/harness');
const { EMULATOR, splitReason } = require('../lib/expect');
const P = require('../lib/peers');

const MiB = 1024 * 1024;
const REJECT_STATUS = 403;
const REJECT_TEXT = 'Rejected by the azrelay conformance check';

/** Records how a refused sender handshake was answered (status and reason without tracking id). */
function observeRefusal(ctx, what, r, status, text) {
  ctx.expect(!r.ok, `${what}: the handshake was accepted (101) but should have been refused`);
  const reason = splitReason(r.statusMessage);
  ctx.observe(`${what}: status`, r.statusCode, status);
  ctx.observe(`${what}: reason`, reason.text, text);
  return reason;
}

/** One text round trip on an open ws 8 sender. */
async function echoOnce(ctx, s, text) {
  await P.wsSend(s.ws, text, false);
  const m = await s.queue.next(ctx.params.messageMs);
  ctx.expect(!m.binary && m.data === text, `the echo of "${text}" came back as ${m.binary ? 'binary' : JSON.stringify(String(m.data).slice(0, 40))}`);
}

/** The accept commands in our listener's debug log ("[3 control] command: {...}"), parsed where whole. */
function acceptCommands(stderr) {
  const out = [];
  for (const line of stderr.split('\n')) {
    const i = line.indexOf('command: {"accept"');
    if (i < 0) continue;
    const text = line.slice(i + 'command: '.length);
    try {
      out.push(JSON.parse(text).accept);
    } catch {
      const m = /"address":"([^"]+)"/.exec(text);
      out.push({ address: m ? m[1] : null, partial: true });
    }
  }
  return out;
}

/** Host (and port) of a rendezvous address. */
function hostOf(address) {
  try {
    const u = new URL(address);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return `(unparsable: ${String(address).slice(0, 60)})`;
  }
}

/** Records what an accept command looked like (gateway host, id form, headers the listener got). */
function observeAccept(ctx, cmd) {
  ctx.expect(cmd && cmd.address, 'no accept command with an address in the listener\'s debug log');
  const t = ctx.target;
  const host = hostOf(cmd.address);
  ctx.observe('accept: rendezvous host', host);
  ctx.observe('accept: rendezvous host is the namespace host', host.split(':')[0] === t.host ? 'yes' : 'no');
  ctx.observe('accept: token in the rendezvous address', /sb-hc-token/i.test(cmd.address) ? 'present' : 'absent', EMULATOR.tokenInAcceptAddress);
  if (cmd.partial) return;
  ctx.observe('accept: id form', /^[0-9a-f-]{36}(_G\d+)+$/i.test(cmd.id || '') ? 'GUID_G<n>[_G<m>]' : cmd.id ? 'other' : '(none)');
  const names = Object.keys(cmd.connectHeaders || {});
  ctx.observe('accept: connectHeaders names', names.join(', '));
  ctx.observe('accept: sender token in connectHeaders', names.some((n) => /^(ServiceBusAuthorization|Authorization)$/i.test(n)) ? 'present' : 'absent', EMULATOR.senderTokenInConnectHeaders);
  ctx.observe('accept: remoteEndpoint', cmd.remoteEndpoint && cmd.remoteEndpoint.address ? 'present' : 'absent', EMULATOR.remoteEndpoint);
}

const noListener = {
  id: 'listener.none',
  title: 'a sender finds no listener: refused, azrelay connect exits 5',
  timeout: { emulator: 30, azure: 90 },
  async run(ctx) {
    const t = ctx.target;
    const r = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'));
    if (r.ok) throw new Error(`a sender was accepted on ${t.cs.AUTH.hc} although this run started no listener: stop other listeners on it`);
    const reason = observeRefusal(ctx, 'sender, no listener', r, EMULATOR.noListenerStatus, EMULATOR.noListenerText);
    ctx.observe('reasons carry TrackingId/SystemTracker/Timestamp', reason.tracking ? 'yes' : 'no', EMULATOR.trackingSuffix);
    const c = await P.cliRun(ctx, t.cs.AUTH.cs, ['connect', '-m', '30'], { input: 'x\n' });
    ctx.expect(c.code === 5, `azrelay connect exited with ${c.code}, expected 5 (no listener online)`);
    ctx.note(`${r.statusCode} in ${r.ms} ms; connect exit 5`);
  },
};

const online = {
  id: 'listener.online',
  title: 'our listener comes online and accepts; the accept command as the relay sends it',
  timeout: { emulator: 30, azure: 90 },
  async run(ctx) {
    const t = ctx.target;
    const started = Date.now();
    const L = await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo', logLevel: 3 });
    const onlineMs = Date.now() - started;
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'), { headers: { 'X-Conformance': 'accept-check' } });
    ctx.expect(s.ok, `the sender was refused: ${P.describeHandshake(s)}`);
    await echoOnce(ctx, s, 'hello through the relay');
    await P.closeWs(s.ws, 1000, 'done');
    const d = await L.waitFor((e) => e.kind === 'disconnected', ctx.params.messageMs, 'the connection to close');
    ctx.expect(d.code === 0 || d.code === 1000 || /1000/.test(d.line), `the listener saw the close as ${d.line}`);
    const cmds = await P.waitUntil(() => (acceptCommands(L.stderrText).length ? acceptCommands(L.stderrText) : null), 5000, 'the accept command in the listener\'s log');
    observeAccept(ctx, cmds[0]);
    const forwarded = cmds[0] && cmds[0].connectHeaders && Object.keys(cmds[0].connectHeaders).some((n) => n.toLowerCase() === 'x-conformance');
    ctx.expect(forwarded, 'the sender\'s own header X-Conformance did not reach the listener in connectHeaders');
    ctx.note(`online in ${onlineMs} ms; accepted in ${s.ms} ms; rendezvous on ${hostOf(cmds[0].address)}`);
  },
};

const offline = {
  id: 'listener.offline',
  title: 'a stopped listener exits 0 and senders are refused again at once',
  timeout: { emulator: 30, azure: 90 },
  async run(ctx) {
    const t = ctx.target;
    const L = await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo' });
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'));
    ctx.expect(s.ok, `the sender was refused while the listener was online: ${P.describeHandshake(s)}`);
    await P.closeWs(s.ws);
    const stopping = Date.now();
    const exit = await stopProcess(L.proc);
    ctx.expect(exit.code === 0, `the listener exited with ${exit.code} (signal ${exit.signal}) on SIGTERM`);
    const stoppedAt = Date.now();
    let r;
    let accepted = 0;
    for (;;) {
      r = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'));
      if (!r.ok) break;
      accepted++;
      await P.closeWs(r.ws);
      ctx.expect(Date.now() - stoppedAt < 10000, 'senders were still accepted 10 s after the listener stopped');
      await relay.sleep(250);
    }
    observeRefusal(ctx, 'sender after the listener stopped', r, EMULATOR.noListenerStatus, EMULATOR.noListenerText);
    ctx.observe('senders accepted after the listener stopped', accepted, '0');
    ctx.note(`listener stopped in ${stoppedAt - stopping} ms; next sender refused ${Date.now() - stoppedAt} ms after its exit`);
  },
};

const unknownHc = {
  id: 'hc.unknown',
  title: 'an unknown hybrid connection: 404 for listener and sender; listen and connect exit 4',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const hc = t.missingHc();
    const s = await P.wsSender(ctx, hc, t.token('AUTH', { hc }));
    observeRefusal(ctx, 'sender, unknown hybrid connection', s, EMULATOR.unknownEntityStatus, EMULATOR.unknownEntityText);
    const l = await P.listenHandshake(ctx, hc, t.token('AUTH', { hc }));
    observeRefusal(ctx, 'listener, unknown hybrid connection', l, EMULATOR.unknownEntityStatus, EMULATOR.unknownEntityText);
    const cs = t.variant('AUTH', { entity: hc });
    const listen = await P.cliRun(ctx, cs, ['listen', '--echo'], { timeoutMs: 30000 });
    ctx.expect(listen.code === 4, `azrelay listen exited with ${listen.code}, expected 4 (no such hybrid connection)`);
    const connect = await P.cliRun(ctx, cs, ['connect', '-m', '30'], { input: 'x\n' });
    ctx.expect(connect.code === 4, `azrelay connect exited with ${connect.code}, expected 4`);
    ctx.note(`sender ${s.statusCode}, listener ${l.statusCode}; listen and connect exit 4`);
  },
};

const reject = {
  id: 'accept.reject',
  title: `a listener rejects with ${REJECT_STATUS} and a text: the sender sees both; connect exits 6`,
  timeout: { emulator: 30, azure: 90 },
  async run(ctx) {
    const t = ctx.target;
    const L = await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'reject', args: ['--reject-status', String(REJECT_STATUS), '--reject-description', REJECT_TEXT] });
    const r = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'));
    ctx.expect(!r.ok, 'the sender was accepted although the listener rejects');
    ctx.expect(r.statusCode === REJECT_STATUS, `the sender got ${r.statusCode}, the listener rejected with ${REJECT_STATUS}`);
    ctx.expect(r.statusMessage === REJECT_TEXT, `the sender's reason was "${r.statusMessage}", the listener's "${REJECT_TEXT}"`);
    const req = await L.waitFor((e) => e.kind === 'request', ctx.params.messageMs, 'the connection request');
    ctx.expect(req.accept === 0 && req.status === REJECT_STATUS, `the listener's request line: ${req.line}`);
    const c = await P.cliRun(ctx, t.cs.AUTH.cs, ['connect', '-m', '30'], { input: 'x\n' });
    ctx.expect(c.code === 6, `azrelay connect exited with ${c.code}, expected 6 (refused by the listener)`);
    ctx.note(`sender got ${r.statusCode} "${r.statusMessage}"; connect exit 6`);
  },
};

/** Printable ASCII of n bytes (fast for 16 MiB; random so a corrupted byte cannot go unnoticed). */
function asciiText(n) {
  const b = crypto.randomBytes(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + (b[i] % 95);
  return b.toString('latin1');
}

const echo = {
  id: 'echo.sizes',
  title: 'text and binary messages of 0 B to 16 MiB echo back unchanged through our listener',
  timeout: { emulator: 90, azure: 600 },
  async run(ctx) {
    const t = ctx.target;
    const L = await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo', args: ['--quiet-data'] });
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'), { label: 'echo sender' });
    ctx.expect(s.ok, `the sender was refused: ${P.describeHandshake(s)}`);
    const sizes = [0, 1, 125, 126, 65535, 65536, 65537, MiB, ctx.params.echoMaxMiB * MiB];
    const cases = [];
    for (const n of sizes) cases.push({ binary: true, n }, { binary: false, n });
    cases.push({ binary: false, utf8: true });
    let big = null;
    for (const c of cases) {
      const data = c.utf8 ? 'größer als 🙂 — '.repeat(4096) : c.binary ? crypto.randomBytes(c.n) : asciiText(c.n);
      const len = Buffer.byteLength(data);
      const started = Date.now();
      await P.wsSend(s.ws, data, c.binary);
      const m = await s.queue.next(ctx.params.messageMs + len / 50000);
      const what = `${c.binary ? 'binary' : 'text'} ${len} B`;
      ctx.expect(m.binary === c.binary, `${what} came back as ${m.binary ? 'binary' : 'text'}`);
      const same = c.binary ? Buffer.compare(m.data, data) === 0 : m.data === data;
      ctx.expect(same, `${what} came back different (${Buffer.byteLength(m.data)} B)`);
      if (c.binary && c.n === ctx.params.echoMaxMiB * MiB) big = Date.now() - started;
    }
    await P.closeWs(s.ws, 1000, 'echo done');
    const d = await L.waitFor((e) => e.kind === 'disconnected', ctx.params.messageMs, 'the close');
    ctx.expect(d.messages_in === cases.length, `the listener counted ${d.messages_in} messages, ${cases.length} were sent`);
    ctx.note(`${cases.length} messages; ${ctx.params.echoMaxMiB} MiB binary round trip in ${(big / 1000).toFixed(2)} s`);
  },
};

const flood = {
  id: 'flow.flood',
  title: 'a flooding sender is held back while our listener pauses; nothing arrives while paused, all in the end',
  timeout: { emulator: 90, azure: 600 },
  async run(ctx) {
    const t = ctx.target;
    const TOTAL = ctx.params.floodMiB * MiB;
    const PAUSE_BYTES = 4 * MiB;
    const L = await P.testListener(ctx, t.cs.AUTH.cs, {
      mode: 'flood-sink',
      args: ['--pause-after-bytes', String(PAUSE_BYTES), '--resume-after-ms', '250', '--report-rss-ms', '200', '--quiet-data'],
    });
    const baseline = await L.waitFor((e) => e.kind === 'rss_kb' && e.rss_kb > 0, 5000, 'a first RSS report');
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'), { label: 'flooding sender' });
    ctx.expect(s.ok, `the sender was refused: ${P.describeHandshake(s)}`);
    const c = await L.waitFor((e) => e.kind === 'connected', ctx.params.messageMs, 'the flood connection');
    const chunk = crypto.randomBytes(MiB);
    const started = Date.now();
    let inFlight = 0;
    let wake = null;
    let failed = null;
    for (let sent = 0; sent < TOTAL && !failed && !ctx.aborted; sent += MiB) {
      while (inFlight >= 8) await new Promise((r) => (wake = r));
      inFlight++;
      s.ws.send(chunk, { binary: true }, (e) => {
        if (e) failed = e;
        inFlight--;
        if (wake) wake();
      });
    }
    while (inFlight > 0 && !failed) await new Promise((r) => (wake = r));
    ctx.expect(!failed, `sending failed: ${failed && failed.message}`);
    const sentMs = Date.now() - started;
    await P.closeWs(s.ws, 1000, 'flood done');
    const d = await L.waitFor((e) => e.kind === 'disconnected' && e.id === c.id, 60000 + TOTAL / 20000, 'every byte and the close');
    const doneMs = Date.now() - started;
    ctx.expect(d.bytes_in === TOTAL, `the listener received ${d.bytes_in} of ${TOTAL} bytes`);
    ctx.expect(d.messages_in === TOTAL / MiB, `the listener counted ${d.messages_in} of ${TOTAL / MiB} messages`);
    const paused = L.list('paused', c.id);
    const resumed = L.list('resumed', c.id);
    ctx.expect(paused.length >= TOTAL / PAUSE_BYTES - 1, `${paused.length} pauses, expected about ${TOTAL / PAUSE_BYTES}`);
    for (const [i, r] of resumed.entries()) {
      ctx.expect(r.bytes === paused[i].bytes, `data arrived while paused (pause ${i}: ${paused[i].bytes} -> ${r.bytes})`);
    }
    const maxRss = Math.max(...L.list('rss_kb').map((e) => e.rss_kb));
    const slackKb = 32 * 1024;
    ctx.expect(maxRss <= baseline.rss_kb + slackKb, `listener RSS grew from ${baseline.rss_kb} to ${maxRss} kB (bound +${slackKb} kB)`);
    ctx.note(`${TOTAL / MiB} MiB, ${paused.length} pauses; sender done after ${(sentMs / 1000).toFixed(1)} s, listener after ${(doneMs / 1000).toFixed(1)} s; RSS +${maxRss - baseline.rss_kb} kB`);
  },
};

const shared = {
  id: 'listeners.shared',
  title: 'several listeners on one hybrid connection: every sender is served, by more than one listener',
  timeout: { emulator: 60, azure: 240 },
  async run(ctx) {
    const t = ctx.target;
    const n = ctx.params.sharedListeners;
    const listeners = await Promise.all(
      Array.from({ length: n }, (_, i) => P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo', args: ['--quiet-data'], label: `listener ${i + 1} of ${n}` })),
    );
    const senders = ctx.params.sharedSenders;
    await relay.mapLimit(Array.from({ length: senders }, (_, i) => i), 4, async (i) => {
      const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'), { label: `sender ${i}` });
      ctx.expect(s.ok, `sender ${i} was refused: ${P.describeHandshake(s)}`);
      await echoOnce(ctx, s, `sender ${i}`);
      await P.closeWs(s.ws);
    });
    const served = listeners.map((L) => L.list('connected').filter((e) => e.code === 0).length);
    const total = served.reduce((a, b) => a + b, 0);
    ctx.expect(total === senders, `the listeners counted ${total} connections, ${senders} senders were served`);
    ctx.observe('connections per listener', served.join('/'));
    ctx.expect(served.filter((x) => x > 0).length >= 2, `one listener served every sender (${served.join('/')}): the relay did not spread them`);
    ctx.note(`${senders} senders over ${n} listeners: ${served.join('/')}`);
  },
};

module.exports = { checks: [noListener, online, offline, unknownHc, reject, echo, flood, shared], observeRefusal, echoOnce, acceptCommands, hostOf };
