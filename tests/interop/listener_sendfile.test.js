// SPDX-License-Identifier: MIT
// SendFile from our listener to a hyco-ws sender through the emulator: a 50 MiB file of random bytes
// arrives as one binary message whose SHA-256 matches, and the listener reports completion.
// Run through lib/run-with-emulator.js with `--hc hc1`.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const relay = require('./lib/relay');
const { withListeners, openHycoSender, closeSocket, killAll } = require('./lib/test-listener');

relay.watchdog(85000, 'listener_sendfile');
const emu = relay.emulator();
after(killAll);
const SIZE = 50 * 1024 * 1024;

let dir;
let file;
let digest;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-sendfile-'));
  file = path.join(dir, 'random.bin');
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  for (let left = SIZE; left > 0; ) {
    const chunk = crypto.randomBytes(Math.min(left, 4 * 1024 * 1024));
    hash.update(chunk);
    fs.writeSync(fd, chunk);
    left -= chunk.length;
  }
  fs.closeSync(fd);
  digest = hash.digest('hex');
});
after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('SendFile of 50 MiB reaches the hyco-ws sender as one binary message with the same SHA-256', { timeout: 70000 }, withListeners(emu, async (start) => {
  const L = await start('hc1', { mode: 'sendfile', args: ['--sendfile', file] });
  const from = L.mark();
  const started = Date.now();
  const s = await openHycoSender(emu, 'hc1', { label: 'hyco-ws receiver of the file' });
  try {
    const msg = await s.queue.next(60000);
    const ms = Date.now() - started;
    assert.equal(msg.binary, true, 'SendFile sends a binary message');
    assert.equal(msg.data.length, SIZE, 'the whole file in one message');
    assert.equal(relay.sha256(msg.data), digest, 'SHA-256 of what arrived');
    const st = await L.waitFor((e) => e.kind === 'sendfile_start', 5000, 'the sendfile_start line', from);
    assert.equal(st.rc, 0, st.line);
    assert.equal(st.size, SIZE, st.line);
    const done = await L.waitFor((e) => e.kind === 'sendfile_done', 10000, 'SendFile completion (ready-to-send)', from);
    assert.equal(done.bytes, SIZE, done.line);
    assert.deepEqual(L.list('conn_error'), [], 'no connection errors');
    process.stdout.write(`# 50 MiB SendFile delivered in ${ms} ms\n`);
  } finally {
    await closeSocket(s.ws);
  }
}));
