// SPDX-License-Identifier: MIT
// Flow control of our listener against a flooding hyco-ws sender through the emulator: the listener
// (azr_test_listener --mode flood-sink) pauses the connection after every PAUSE_BYTES for PAUSE_MS;
// while paused no data is delivered, the sender is held back by TCP flow control, the listener's RSS
// stays within a fixed bound, and every byte arrives in the end.
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, closeSocket, sanitized, killAll } = require('./lib/test-listener');

relay.watchdog(85000, 'listener_flood');
const emu = relay.emulator();
after(killAll);
const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
const CHUNK = MiB; // one binary message per send
const IN_FLIGHT = 8; // sends not yet handed to the socket
const PAUSE_BYTES = 8 * MiB;
const PAUSE_MS = 250;
const RSS_SLACK_KB = 64 * 1024; // the bound: RSS before the flood + 64 MiB
// ASan keeps freed blocks in a quarantine (256 MiB by default), which would look like growth: keep
// it small so that RSS still measures what the listener holds.
const ASAN_ENV = sanitized() ? { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=8'].filter(Boolean).join(':') } : {};

test('a flooding sender is held back while the listener pauses; RSS stays bounded and every byte arrives', { timeout: 80000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', {
    mode: 'flood-sink',
    args: ['--pause-after-bytes', String(PAUSE_BYTES), '--resume-after-ms', String(PAUSE_MS), '--report-rss-ms', '100', '--quiet-data'],
    env: ASAN_ENV,
  });
  const baseline = await L.waitFor((e) => e.kind === 'rss_kb' && e.rss_kb > 0, 5000, 'a first RSS report');
  const from = L.mark();
  const s = await openHycoSender(emu, 'hc1', { label: 'flooding hyco-ws sender' });
  const c = await L.waitFor((e) => e.kind === 'connected', 10000, 'the flood connection', from);
  const id = c.id;
  const started = Date.now();
  const chunk = crypto.randomBytes(CHUNK);
  let sent = 0;
  let inFlight = 0;
  let wake = null;
  let sendError = null;
  while (sent < TOTAL && !sendError) {
    if (inFlight >= IN_FLIGHT) {
      await new Promise((r) => (wake = r));
      continue;
    }
    inFlight++;
    sent += CHUNK;
    s.ws.send(chunk, { binary: true }, (err) => {
      if (err) sendError = err;
      inFlight--;
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
    });
  }
  while (inFlight > 0 && !sendError) await new Promise((r) => (wake = r));
  assert.equal(sendError, null, `send failed: ${sendError}`);
  const sendMs = Date.now() - started;
  await closeSocket(s.ws, 1000, 'flood done', 60000);
  const d = await L.waitFor((e) => e.kind === 'disconnected' && e.id === id, 60000, 'the listener to receive everything and the close');
  const totalMs = Date.now() - started;

  assert.equal(d.bytes_in, TOTAL, `every byte arrives: ${d.line}`);
  assert.equal(d.messages_in, TOTAL / CHUNK, d.line);
  assert.equal(d.code, 1000, d.line);
  // While paused nothing is delivered: each pause ends at the byte count it started with.
  const paused = L.list('paused', id);
  const resumed = L.list('resumed', id);
  assert.ok(paused.length >= Math.floor(TOTAL / PAUSE_BYTES) - 1, `expected about ${TOTAL / PAUSE_BYTES} pauses, got ${paused.length}`);
  for (const [i, r] of resumed.entries()) {
    assert.equal(paused[i].rc, 0, paused[i].line);
    assert.equal(r.bytes, paused[i].bytes, `no data may be delivered while paused (pause #${i})`);
  }
  // Backpressure reached the sender: it could not finish faster than the pauses allow, minus what
  // the buffers between (socket buffers, the emulator, the listener's read) can hold.
  const pauseFloorMs = (paused.length - 4) * PAUSE_MS;
  assert.ok(totalMs >= pauseFloorMs, `the flood took ${totalMs} ms, less than the ${pauseFloorMs} ms of pauses`);
  const rss = L.list('rss_kb').map((e) => e.rss_kb);
  const max = Math.max(...rss);
  process.stdout.write(`# ${TOTAL / MiB} MiB: sender done after ${sendMs} ms, listener after ${totalMs} ms; ` +
    `${paused.length} pauses; RSS ${baseline.rss_kb} kB before, max ${max} kB (${rss.length} samples)\n`);
  assert.ok(max <= baseline.rss_kb + RSS_SLACK_KB, `listener RSS ${max} kB exceeds ${baseline.rss_kb} + ${RSS_SLACK_KB} kB`);
}));
