// SPDX-License-Identifier: MIT
// The fault cases run by fault_test.js. Each takes a context whose `procs`/`emus` are dumped when
// it fails, starts its own emulator (plain ws:// on a fixed port) and azr_test_listener, injects the
// fault, and checks that the listener reports it, serves new senders, returns to its descriptor and
// RSS baseline, and exits 0 on SIGTERM.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const L = require('./lib');

const { check, log, sleep, within, poll, Emulator, Listener } = L;

// Fast reconnects, so that a restarted relay is found again within a second or two.
const RECONNECT = ['ReconnectDelayFirstMs=200', 'ReconnectDelayMaxMs=1000'];
const MIB = 1024 * 1024;

async function startEmulator(ctx, opts) {
  const emu = new Emulator(opts);
  ctx.emus.push(emu);
  await emu.start();
  log(`emulator on port ${emu.port}`);
  return emu;
}

async function startListener(ctx, emu, opts) {
  const l = new Listener(emu, opts);
  ctx.procs.push(l);
  await l.online(15000);
  log(`${l.label} online (pid ${l.pid})`);
  return l;
}

/** Every connection the listener opened has been reported closed (bounded wait). */
async function expectAllClosed(l, ms = 8000) {
  const ok = await poll(() => l.openIds().length === 0, ms);
  check(ok, `every connection of ${l.label} reported disconnected (still open: ${l.openIds().join(',') || 'none'})`);
}

/** The emulator must stop with status 0 on SIGTERM. */
async function expectEmulatorClean(emu) {
  const r = await emu.stop();
  check(r.code === 0, `emulator exits 0 after SIGTERM (got ${JSON.stringify(r)})`);
}

/** Resolves with { message } or { close } for a sender, whichever comes first (bounded). */
function messageOrClose(s, ms) {
  const msg = L.nextMessage(s, ms).then((m) => ({ message: m }), () => null);
  const closed = s.ws.closed.then((c) => ({ close: c }));
  return within(Promise.race([msg.then((r) => r || closed), closed]), ms, 'a message or a close on the sender');
}

/** A new sender's bytes come back unchanged and its close handshake ends with 1000. */
async function expectEcho(emu, what, opts) {
  const r = await L.echoRoundTrip(emu, opts);
  check(r.same, `${what}: ${r.text}`);
}

// ---- 1. relay killed with SIGKILL and restarted during traffic ----------------------------------

async function relay_kill_restart(ctx) {
  const emu = await startEmulator(ctx);
  const l = await startListener(ctx, emu, { sets: RECONNECT, args: ['--quiet-data'] });
  await expectEcho(emu, 'a sender echoes before the fault');
  await expectAllClosed(l);
  const base = L.baseline(l);
  log(`baseline: ${base.fds} descriptors, RSS ${base.rss} KiB`);

  const ROUNDS = 5;
  for (let round = 1; round <= ROUNDS; round++) {
    const pumps = await Promise.all([1, 2, 3].map(() => L.startPump(emu)));
    const flowing = await poll(() => pumps.every((p) => p.echoed > 0), 10000);
    check(flowing, `round ${round}: every sender has had an echo before the kill (${pumps.map((p) => p.echoed).join(',')})`);
    await sleep(crypto.randomInt(400)); // then a random moment in the traffic
    const inFlight = pumps.reduce((n, p) => n + p.echoed, 0);
    const mark = l.mark();
    await emu.kill9();
    const killedAt = Date.now();
    const results = await within(Promise.all(pumps.map((p) => p.done)), 10000, 'the senders to see the relay gone');
    check(results.every((r) => r.mismatches === 0),
      `round ${round}: ${inFlight}+ messages echoed before the kill, none corrupted; senders ended with ${results.map((r) => r.close.code).join(',')}`);
    await emu.start();
    await l.online(8000, mark);
    log(`round ${round}: listener online again ${Date.now() - killedAt} ms after the kill`);
    check(l.count(/^control_closed /, mark) >= 1, `round ${round}: listener reported the control channel lost`);
    await expectEcho(emu, `round ${round}: a new sender echoes through the restarted relay`);
    await expectAllClosed(l);
  }
  await L.expectBack(l, base);
  await L.expectCleanExit(l);
  await expectEmulatorClean(emu);
}

// ---- 2. relay paused (SIGSTOP): half-open control channel ---------------------------------------

async function relay_sigstop(ctx) {
  const emu = await startEmulator(ctx);
  const l = await startListener(ctx, emu, {
    sets: [...RECONNECT, 'AzureRelayKeepAliveTime=2', 'AzureRelayPingTimeout=2'],
    args: ['--quiet-data'],
  });
  await expectEcho(emu, 'a sender echoes before the stop');
  await expectAllClosed(l);
  const base = L.baseline(l);

  // A sender connected before the stop, which sends while the relay is stopped.
  const s = await L.openSender(emu);
  const first = crypto.randomBytes(1000);
  s.ws.send(first);
  check(Buffer.compare(await L.nextMessage(s), first) === 0, 'sender echoes before the stop');

  const mark = l.mark();
  emu.proc.signal('SIGSTOP');
  const stoppedAt = Date.now();
  log('emulator stopped (SIGSTOP)');
  const stalled = crypto.randomBytes(200 * 1024);
  s.ws.send(stalled);

  await l.waitLine(/^control_closed /, 12000, 'control_closed (keep-alive timeout)', mark);
  const detectMs = Date.now() - stoppedAt;
  // A ping goes out after at most 2 s of send silence; no answer within 2 s more ends the channel.
  check(detectMs >= 1000 && detectMs <= 10000, `listener detected the half-open control channel after ${detectMs} ms (ping every 2 s, reply within 2 s)`);
  await sleep(Math.max(0, 8000 - (Date.now() - stoppedAt)));
  check(l.alive(), 'listener still running while the relay is stopped');
  emu.proc.signal('SIGCONT');
  const contAt = Date.now();
  log('emulator continued (SIGCONT)');

  await l.online(10000, mark);
  log(`listener online again ${Date.now() - contAt} ms after SIGCONT`);
  // Nothing may end the sender's rendezvous: the relay only stalled (its sockets stayed open and the
  // kernel kept the bytes), the control channel is independent of established connections, and no
  // relay or listener timeout is shorter than the 8 s stop. So the message must come back, and the
  // sender's own Close(1000) be answered with 1000 (RFC 6455 5.5.1).
  const r = await messageOrClose(s, 15000);
  check(r.message && Buffer.compare(r.message, stalled) === 0,
    `the message sent during the stop is echoed intact after SIGCONT (got ${r.message ? `${r.message.length} bytes` : `close ${r.close.code} "${r.close.reason}"`})`);
  s.ws.close(1000);
  const closed = await within(s.ws.closed, 5000, 'the stalled sender to close');
  check(closed.code === 1000, `the stalled sender's close handshake ends with 1000 (got ${closed.code} "${closed.reason}")`);
  await expectEcho(emu, 'a new sender echoes after the stop');
  await expectAllClosed(l);
  await L.expectBack(l, base);
  await L.expectCleanExit(l);
  await expectEmulatorClean(emu);
}

// ---- 3. rendezvous dropped in the middle of a 16 MiB message ------------------------------------

/**
 * Opens a sender and writes the header of one 16 MiB binary frame (zero mask key, so the payload
 * goes out as is) followed by `upTo` bytes of it, honouring backpressure. Returns the sender.
 */
async function sendPartialFrame(emu, hc, upTo, total = 16 * MIB) {
  const s = await L.openSender(emu, { hc });
  const sock = s.ws._socket;
  const head = Buffer.alloc(14);
  head[0] = 0x82; // FIN, binary
  head[1] = 0x80 | 127; // masked, 64-bit length
  head.writeBigUInt64BE(BigInt(total), 2);
  // bytes 10..13: mask key 0
  sock.write(head);
  const chunk = L.prng('partial', 256 * 1024);
  let sent = 0;
  while (sent < upTo) {
    if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
    sent += chunk.length;
  }
  return s;
}

async function dropMidMessage(ctx, emu, bufferMessage) {
  const hc = bufferMessage ? 'hc1' : 'hc2';
  const l = await startListener(ctx, emu, {
    hc, sets: [...RECONNECT, `BufferMessage=${bufferMessage}`], label: `listener(BufferMessage=${bufferMessage})`,
  });
  await expectEcho(emu, `BufferMessage=${bufferMessage}: a sender echoes before the faults`, { hc });
  await expectAllClosed(l);
  const base = L.baseline(l);
  const tag = `BufferMessage=${bufferMessage}`;

  const checkConn = (mark, what) => {
    const conns = l.grep(/^connected id=\d+ code=0/, mark).map((x) => Listener.field(x, 'id'));
    check(conns.length === 1, `${tag}, ${what}: one connection accepted`);
    const id = conns[0];
    const data = l.grep(new RegExp(`^data id=${id} `), mark);
    const bytes = data.reduce((n, x) => n + Listener.field(x, 'len'), 0);
    const eom = data.filter((x) => Listener.field(x, 'eom') === 1).length;
    if (bufferMessage) check(data.length === 0, `${tag}, ${what}: no data event for the partial message`);
    else check(eom === 0, `${tag}, ${what}: ${data.length} fragments (${bytes} bytes) delivered, none with eom`);
    const disc = l.grep(new RegExp(`^disconnected id=${id} `), mark);
    check(disc.length === 1 && Listener.field(disc[0], 'code') === 1006,
      `${tag}, ${what}: connection reported disconnected with 1006 (${disc[0] || 'no disconnected line'})`);
  };

  // a) the sender's socket is reset after 4 MiB of the 16 MiB frame.
  let mark = l.mark();
  let s = await sendPartialFrame(emu, hc, 4 * MIB);
  // The fault must hit the listener mid-message: unbuffered, once a fragment was delivered; buffered
  // (no event until the message ends), once the 4 MiB have reached the listener.
  if (!bufferMessage) await l.waitLine(/^data id=/, 5000, 'first fragment', mark);
  else await L.waitDelivered(emu, s, 10000, 'the 4 MiB to reach the listener');
  s.ws._socket.resetAndDestroy();
  await l.waitLine(/^disconnected id=/, 10000, 'disconnected after the sender reset', mark);
  checkConn(mark, 'sender reset mid-message');
  await expectEcho(emu, `${tag}: a new sender echoes after the reset`, { hc });

  // b) the relay is killed after 4 MiB, then restarted on the same port.
  mark = l.mark();
  s = await sendPartialFrame(emu, hc, 4 * MIB);
  if (!bufferMessage) await l.waitLine(/^data id=/, 5000, 'first fragment', mark);
  else await L.waitDelivered(emu, s, 10000, 'the 4 MiB to reach the listener');
  await emu.kill9();
  await l.waitLine(/^disconnected id=/, 10000, 'disconnected after the relay was killed', mark);
  s.ws.terminate();
  checkConn(mark, 'relay killed mid-message');
  await emu.start();
  await l.online(8000, mark);
  await expectEcho(emu, `${tag}: a new sender echoes through the restarted relay`, { hc });
  await expectAllClosed(l);
  await L.expectBack(l, base);
  await L.expectCleanExit(l);
}

async function rendezvous_dropped_mid_message(ctx) {
  const emu = await startEmulator(ctx, { hcs: ['hc1', 'hc2'] });
  await dropMidMessage(ctx, emu, true);
  await dropMidMessage(ctx, emu, false);
  await expectEmulatorClean(emu);
}

// ---- 4. forwarded-to service refusing connections -----------------------------------------------

/** A sender whose connection must end with 1011 within `ms` of the handshake's start. */
async function expectForwardRefused(l, emu, what, ms = 2000) {
  const mark = l.mark();
  const t0 = Date.now();
  let s;
  try {
    s = await L.openSender(emu);
  } catch (e) {
    throw new L.CheckError(`${what}: expected an accept then close 1011, got a refused handshake: ${e.message}`);
  }
  s.ws.send(Buffer.from('hello'));
  const r = await messageOrClose(s, 10000);
  const close = r.close || (await within(s.ws.closed, 10000, 'close'));
  const took = Date.now() - t0;
  check(!r.message && close.code === 1011 && took < ms,
    `${what}: sender closed with ${close.code} "${close.reason}" after ${took} ms (want 1011 within ${ms} ms, no data)`);
  // The sender answered the Close at once, so the listener's connection should end as promptly.
  const disc = await l.waitLine(/^disconnected id=/, 10000, 'disconnected', mark);
  const discMs = Date.now() - t0;
  check(discMs < ms && Listener.field(disc, 'code') === 1011 && Listener.field(disc, 'error') === 0,
    `${what}: listener reports the refused connection closed (1011, error 0) within ${ms} ms: after ${discMs} ms: ${disc}`);
}

async function forward_refused(ctx) {
  const port = await L.freePort(); // nobody listens there (yet)
  const emu = await startEmulator(ctx);
  const l = await startListener(ctx, emu, {
    sets: [...RECONNECT, 'ForwardingHost=127.0.0.1', `ForwardingPort=${port}`],
  });
  await expectForwardRefused(l, emu, 'refused target, sender 1');
  await expectAllClosed(l);
  const base = L.baseline(l);
  for (let i = 2; i <= 3; i++) await expectForwardRefused(l, emu, `refused target, sender ${i}`);
  await expectAllClosed(l);
  check(l.count(/^control_closed /) === 0, 'the control channel stayed up');

  // The service comes up: a TCP echo server on that port.
  const sockets = new Set();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    c.pipe(c);
  });
  await new Promise((r, j) => server.listen(port, '127.0.0.1', r).on('error', j));
  const s = await L.openSender(emu);
  const data = crypto.randomBytes(300 * 1024);
  s.ws.send(data);
  const got = [];
  let n = 0;
  while (n < data.length) {
    const m = await L.nextMessage(s, 10000);
    got.push(m);
    n += m.length;
  }
  check(Buffer.compare(Buffer.concat(got), data) === 0, `forwarded to the service once it listens: ${n} bytes echoed intact`);
  s.ws.close(1000);
  await within(s.ws.closed, 5000, 'the forwarded sender to close');

  // The service goes away again.
  await expectAllClosed(l);
  for (const c of sockets) c.destroy();
  await new Promise((r) => server.close(r));
  await expectForwardRefused(l, emu, 'service stopped again');
  await expectAllClosed(l);
  await L.expectBack(l, base);
  await L.expectCleanExit(l);
  await expectEmulatorClean(emu);
}

// ---- 5. SendFile of an unreadable file ----------------------------------------------------------

/**
 * One sender against a sendfile-mode listener: resolves { message, close } where message is the
 * complete message received (or null).
 */
async function fetchFile(emu, ms = 15000) {
  const s = await L.openSender(emu);
  const r = await messageOrClose(s, ms);
  if (r.message) {
    s.ws.close(1000);
    const close = await within(s.ws.closed, 5000, 'the file sender to close');
    return { message: r.message, close };
  }
  return { message: null, close: r.close };
}

async function expectFileFailure(l, emu, what) {
  const mark = l.mark();
  const r = await fetchFile(emu);
  check(!r.message, `${what}: no message reached the sender as complete (it saw close ${r.close.code} "${r.close.reason}")`);
  const disc = await l.waitLine(/^disconnected id=/, 10000, 'disconnected', mark);
  check(Listener.field(disc, 'code') === 1011 && Listener.field(disc, 'error') === 18,
    `${what}: listener closed the connection with 1011 on AZR_E_FILE: ${disc}`);
  const lines = l.lines.slice(mark);
  const errs = lines.filter((x) => /^conn_error /.test(x));
  check(errs.length >= 1 && errs.every((x) => Listener.field(x, 'code') === 18),
    `${what}: listener reported AZR_E_FILE (18): ${errs[0]}`);
  // The sender learns why (a 1011 Close, not a reset); the application hears of the failure once,
  // and from the loop (listener.h: callbacks never run inside the call that caused them).
  check(r.close.code === 1011,
    `${what}: the sender receives the 1011 Close (connection.h: "closed with 1011"); got ${r.close.code}`);
  check(errs.length === 1, `${what}: one on_connection_error per failure; got ${errs.length}: ${errs.join(' | ')}`);
  const started = lines.findIndex((x) => /^sendfile_start /.test(x));
  const firstErr = lines.findIndex((x) => /^conn_error /.test(x));
  check(started >= 0 && started < firstErr,
    `${what}: on_connection_error fires from the loop, after azr_conn_send_file() returned (sendfile_start line ${started}, first conn_error line ${firstErr})`);
}

async function sendfile_unreadable(ctx) {
  const emu = await startEmulator(ctx);

  // a) files whose first read fails: /proc/self/mem (EIO at offset 0) and a directory (EISDIR).
  for (const file of ['/proc/self/mem', L.tmp]) {
    const l = await startListener(ctx, emu, { mode: 'sendfile', sets: RECONNECT, args: ['--sendfile', file] });
    await expectFileFailure(l, emu, `${file}, sender 1`);
    await expectAllClosed(l);
    const base = L.baseline(l);
    for (let i = 2; i <= 4; i++) await expectFileFailure(l, emu, `${file}, sender ${i}`);
    await expectAllClosed(l);
    await L.expectBack(l, base);
    await L.expectCleanExit(l);
  }

  // b) a read error in the middle of the file (EIO after 3 MiB, once), injected with the
  //    LD_PRELOAD shim fault/eio_preload.c; the next sender gets the whole file.
  //    fault.cmake builds the shim with the test, so a missing one is a broken set-up: fail.
  const shim = process.env.AZR_FAULT_EIO_PRELOAD;
  check(shim && fs.existsSync(shim), `the read-error shim is built (AZR_FAULT_EIO_PRELOAD=${shim})`);
  const file = path.join(L.tmp, 'eio.bin');
  const content = L.prng('eio', 8 * MIB);
  fs.writeFileSync(file, content);
  const env = {
    LD_PRELOAD: shim, AZR_FAULT_EIO_FILE: file, AZR_FAULT_EIO_AFTER: String(3 * MIB), AZR_FAULT_EIO_TIMES: '1',
    // gcc's ASan wants to be first in the library list; the shim only wraps read().
    ASAN_OPTIONS: 'verify_asan_link_order=0',
  };
  const l = await startListener(ctx, emu, { mode: 'sendfile', sets: RECONNECT, args: ['--sendfile', file], env });
  await expectFileFailure(l, emu, 'EIO after 3 MiB');
  const errs = l.grep(/^conn_error /);
  check(errs.some((x) => /after 3145728 bytes: Input\/output error/.test(x)), `the error names the bytes read before it: ${errs[0]}`);
  await expectAllClosed(l);
  const base = L.baseline(l);
  const mark = l.mark();
  const r = await fetchFile(emu);
  check(r.message && L.sha256(r.message) === L.sha256(content),
    `the next sender gets the whole file intact (${r.message ? r.message.length : 0} of ${content.length} bytes)`);
  await l.waitLine(/^sendfile_done /, 5000, 'sendfile_done', mark);
  await expectAllClosed(l);
  await L.expectBack(l, base);
  await L.expectCleanExit(l);
  await expectEmulatorClean(emu);
}

// ---- 5b. SendFile of a file truncated while it is sent ------------------------------------------

async function sendfile_truncated(ctx) {
  const emu = await startEmulator(ctx);
  const file = path.join(L.tmp, 'shrinks.bin');
  const SIZE = 64 * MIB;
  fs.writeFileSync(file, L.prng('shrinks', SIZE));
  const l = await startListener(ctx, emu, { mode: 'sendfile', sets: RECONNECT, args: ['--sendfile', file] });

  // The sender reads nothing until the file has been truncated below what was already sent.
  const mark = l.mark();
  const s = await L.openSender(emu);
  s.ws._socket.pause();
  await l.waitLine(/^sendfile_start .* rc=0/, 5000, 'sendfile_start', mark);
  // Truncate once more than 1 MiB is in flight towards the sender and the flow has stopped there.
  await L.waitStalled(emu, 2 * MIB, 10000, 'the file to fill the way to the paused sender');
  fs.truncateSync(file, 1 * MIB);
  log('file truncated to 1 MiB while the sender was paused');
  s.ws._socket.resume();
  const r = await messageOrClose(s, 20000);
  const error = await l.waitLine(/^conn_error /, 3000, 'conn_error', mark).catch(() => null);
  if (r.message) {
    s.ws.close(1000);
    await within(s.ws.closed, 5000, 'close');
  }
  log(`outcome: ${r.message ? `a complete message of ${r.message.length} bytes` : `close ${r.close.code}`}; ` +
    `listener: ${error || 'no conn_error'}; ${l.grep(/^sendfile_done /, mark).length ? 'sendfile_done' : 'no sendfile_done'}`);
  // A regular file that ends before the size it had when opened is a read failure (AZR_E_FILE,
  // close 1011): the sender must not take a shorter file for a complete message.
  check(!r.message || r.message.length < SIZE, 'the sender did not get more than the file had');
  check(!r.message && error !== null && Listener.field(error, 'code') === 18,
    `a file that shrinks during SendFile is reported (AZR_E_FILE, close 1011), not delivered as a complete message: got ${r.message ? `a complete message of ${r.message.length} of ${SIZE} bytes` : `close ${r.close.code}`}, ${error || 'no conn_error'}`);
  await expectAllClosed(l);

  // The listener serves the next sender (the file is 1 MiB now).
  const r2 = await fetchFile(emu);
  check(r2.message && r2.message.length === 1 * MIB, 'the next sender gets the (now 1 MiB) file');
  await expectAllClosed(l);
  await L.expectCleanExit(l);
  await expectEmulatorClean(emu);
}

module.exports = {
  relay_kill_restart,
  relay_sigstop,
  rendezvous_dropped_mid_message,
  forward_refused,
  sendfile_unreadable,
  sendfile_truncated,
};
