// SPDX-License-Identifier: MIT
// Our listener (azr_test_listener --mode echo) against Microsoft's hyco-ws senders through the
// emulator: text and binary messages of every frame-length boundary up to 4 MiB come back byte for
// byte, with BufferMessage off (echoed fragment by fragment) and on (echoed as whole messages), and a
// fragmented message from a ws 8 sender keeps its boundaries. With `--valgrind` the listeners run
// under valgrind with fewer sizes. Run through lib/run-with-emulator.js with `--hc hc1,hc2`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, closeSocket, haveValgrind, senderToken, killAll, parseLine } = require('./lib/test-listener');
const { send, describe, same } = require('./lib/ws1-queue');

const VALGRIND = process.argv.includes('--valgrind');
relay.watchdog(VALGRIND ? 170000 : 85000, 'listener_echo');
const emu = relay.emulator();
after(killAll);
const MiB = 1024 * 1024;
// RFC 6455 length boundaries (7-bit, 16-bit, 64-bit) and large messages.
const SIZES = VALGRIND ? [1, 125, 126, 65535, 65536, 65537, MiB] : [1, 125, 126, 65535, 65536, 65537, MiB, 4 * MiB];
const skipValgrind = VALGRIND && !haveValgrind() ? 'valgrind is not installed' : false;

/** Valid UTF-8 text of exactly `n` bytes with 2-, 3- and 4-byte characters (ASCII fills the rest). */
function utf8Text(n) {
  const chars = ['\u00e9', '\u20ac', '\u{1F680}', 'a', 'Z', ' '];
  const rnd = crypto.randomBytes(n);
  const parts = [];
  let bytes = 0;
  for (let i = 0; bytes < n; i++) {
    let c = chars[rnd[i % n] % chars.length];
    let len = Buffer.byteLength(c);
    if (bytes + len > n) {
      c = 'x';
      len = 1;
    }
    parts.push(c);
    bytes += len;
  }
  const s = parts.join('');
  assert.equal(Buffer.byteLength(s), n);
  return s;
}

/** Data lines of connection `id` after `from`, up to and including the first one with eom=1. */
async function messageLines(L, id, from, what) {
  const end = await L.waitFor((e) => e.kind === 'data' && e.id === id && e.eom === 1, 20000, `the listener's last data line of ${what}`, from);
  const lines = L.events.slice(from).filter((e) => e.kind === 'data' && e.id === id);
  return lines.slice(0, lines.indexOf(end) + 1);
}

/** The listener's data events for one message: one event (buffered) or fragments with eom only last. */
function checkDataLines(lines, { bytes, binary, buffered, what }) {
  assert.ok(lines.length >= 1, `${what}: no data lines`);
  assert.equal(lines[0].format, binary ? 2 : 1, `${what}: first fragment format`);
  for (const l of lines.slice(1)) assert.equal(l.format, 0, `${what}: continuation fragments have format 0: ${l.line}`);
  for (const l of lines.slice(0, -1)) assert.equal(l.eom, 0, `${what}: eom only on the last fragment: ${l.line}`);
  assert.equal(lines.reduce((s, l) => s + l.len, 0), bytes, `${what}: fragment lengths add up to the message`);
  if (buffered) assert.equal(lines.length, 1, `${what}: BufferMessage=true delivers one event per message`);
}

async function connectedId(L, from, what) {
  const ev = await L.waitFor((e) => e.kind === 'connected', 15000, `${what} to be connected`, from);
  assert.equal(ev.code, 0, `${what}: rendezvous failed: ${ev.line}`);
  return ev.id;
}

/** One hyco-ws sender sends every size in both formats; the echo and the listener's events are checked. */
async function echoSizes(L, hc, buffered) {
  const from = L.mark();
  const s = await openHycoSender(emu, hc, { label: `hyco-ws sender on ${hc}` });
  try {
    const id = await connectedId(L, from, `sender on ${hc}`);
    const messages = [];
    for (const size of SIZES) {
      messages.push({ binary: true, data: crypto.randomBytes(size) });
      messages.push({ binary: false, data: size <= 65537 ? utf8Text(size) : relay.asciiText(size) });
    }
    if (!VALGRIND) messages.push({ binary: false, data: utf8Text(4 * MiB) }); // multi-byte characters across reads
    for (const m of messages) {
      const bytes = Buffer.byteLength(m.data);
      const what = `${describe(m)} with BufferMessage=${buffered}`;
      const mark = L.mark();
      await send(s.ws, m.data, m.binary);
      const echo = await s.queue.next(30000);
      assert.ok(same(echo, m), `${what}: echo is ${describe(echo)}`);
      checkDataLines(await messageLines(L, id, mark, what), { bytes, binary: m.binary, buffered, what });
    }
    await closeSocket(s.ws);
    const d = await L.waitFor((e) => e.kind === 'disconnected' && e.id === id, 10000, 'the disconnected line', from);
    assert.equal(d.code, 1000, d.line);
    assert.equal(d.messages_in, messages.length, d.line);
    assert.deepEqual(L.list('error'), [], 'the listener reported errors');
  } finally {
    s.ws.terminate();
  }
}

/** A ws 8 sender sends fragmented messages (fin=false frames); echoes and events are checked. */
async function echoFragmented(L, hc, buffered) {
  const from = L.mark();
  const r = await relay.handshake(relay.connectUrl(emu, hc), { headers: { ServiceBusAuthorization: senderToken(emu, hc) } });
  assert.ok(r.ok, `ws 8 sender refused: ${r.statusCode} ${r.statusMessage}`);
  const ws = r.ws;
  const echoes = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const item = { binary: isBinary, data: isBinary ? Buffer.from(data) : data.toString('utf8') };
    const w = waiters.shift();
    if (w) w(item);
    else echoes.push(item);
  });
  const nextEcho = () => relay.withTimeout(echoes.length ? Promise.resolve(echoes.shift()) : new Promise((res) => waiters.push(res)), 20000, 'a ws 8 echo');
  const sendFrame = (data, opts) => new Promise((res, rej) => ws.send(data, opts, (e) => (e ? rej(e) : res())));
  try {
    const id = await connectedId(L, from, `ws 8 sender on ${hc}`);
    // A rocket (4 bytes of UTF-8) split across three fragments, and frames around the 64 KiB boundary.
    const rocket = Buffer.from('\u{1F680}');
    const cases = [
      { binary: true, parts: [crypto.randomBytes(1000), crypto.randomBytes(70000), crypto.randomBytes(5)] },
      { binary: false, parts: [Buffer.from('start '), rocket.subarray(0, 1), rocket.subarray(1, 3), Buffer.concat([rocket.subarray(3), Buffer.from(utf8Text(65536))])] },
      { binary: true, parts: [crypto.randomBytes(65536), Buffer.alloc(0), crypto.randomBytes(1)] },
    ];
    for (const [i, c] of cases.entries()) {
      const what = `fragmented ${c.binary ? 'binary' : 'text'} message #${i} (${c.parts.map((p) => p.length).join('+')} B) with BufferMessage=${buffered}`;
      const whole = Buffer.concat(c.parts);
      const mark = L.mark();
      for (const [j, p] of c.parts.entries()) await sendFrame(p, { binary: c.binary, fin: j === c.parts.length - 1 });
      const echo = await nextEcho();
      const want = { binary: c.binary, data: c.binary ? whole : whole.toString('utf8') };
      assert.ok(same(echo, want), `${what}: echo is ${describe(echo)}, expected ${describe(want)}`);
      checkDataLines(await messageLines(L, id, mark, what), { bytes: whole.length, binary: c.binary, buffered, what });
    }
  } finally {
    await closeSocket(ws);
  }
}

for (const buffered of [false, true]) {
  const hc = buffered ? 'hc2' : 'hc1';
  const sets = [`BufferMessage=${buffered}`];
  test(`echo of text and binary messages, BufferMessage=${buffered}${VALGRIND ? ' (valgrind)' : ''}`, { timeout: VALGRIND ? 150000 : 70000, skip: skipValgrind }, withListeners(emu, async (start) => {
    const L = await start(hc, { mode: 'echo', sets, valgrind: VALGRIND });
    await echoSizes(L, hc, buffered);
    await echoFragmented(L, hc, buffered);
    if (VALGRIND) {
      // Shut down here to look at valgrind's verdict (withListeners then finds it already exited).
      const r = await L.stop(30000);
      assert.equal(r.code, 0, `the listener under valgrind exited with ${r.code} (99 = valgrind found errors)`);
      assert.match(L.stderrText, /ERROR SUMMARY: 0 errors from 0 contexts/, 'valgrind must have run and found nothing');
      assert.match(L.stderrText, /definitely lost: 0 bytes|All heap blocks were freed/, 'no definite leaks');
    }
  }));
}

// The helper itself: the event-line format the tests rely on.
test('event lines parse into kind, numbers and a trailing reason', () => {
  const e = parseLine('disconnected id=3 code=4001 error=0 bytes_in=5 messages_in=1 reason=bye now');
  assert.equal(e.kind, 'disconnected');
  assert.equal(e.id, 3);
  assert.equal(e.code, 4001);
  assert.equal(e.reason, 'bye now');
  assert.equal(parseLine('rss_kb=12345').rss_kb, 12345);
  assert.equal(parseLine('listening').kind, 'listening');
});
