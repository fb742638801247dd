#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Fault tests of the listener (issue "Resilience and security"): the relay killed and restarted
// during traffic, the relay paused (half-open control channel), a rendezvous dropped mid-message, a
// forwarded-to service refusing connections, and SendFile of an unreadable or shrinking file. After
// each fault the listener must serve new senders, its descriptors and RSS must return to their
// baseline, and it must exit cleanly on SIGTERM.
//
// Usage: fault_test.js CASE   (env AZRELAY_BIN, AZR_TEST_LISTENER; AZR_FAULT_EIO_PRELOAD for
// sendfile_unreadable; AZR_TEST_SANITIZED=1 for an ASan listener; AZR_FAULT_VERBOSE=1 prints every
// listener's output at the end). Exit 0 pass, 1 fail, 77 skip.
'use strict';

const lib = require('./lib');
const cases = require('./cases');

const WATCHDOG_MS = 150000;

async function main() {
  const name = process.argv[2];
  const fn = cases[name];
  if (!fn) {
    process.stderr.write(`usage: fault_test.js CASE\ncases: ${Object.keys(cases).join(' ')}\n`);
    process.exit(2);
  }
  for (const v of ['AZRELAY_BIN', 'AZR_TEST_LISTENER']) if (!process.env[v]) lib.skip(`${v} is not set`);
  setTimeout(() => {
    lib.log(`watchdog: ${name} still running after ${WATCHDOG_MS} ms`);
    lib.keep();
    process.exit(1);
  }, WATCHDOG_MS).unref();
  // Every Proc and Emulator a case registers here is dumped when it fails.
  const ctx = { procs: [], emus: [] };
  const t0 = Date.now();
  try {
    await fn(ctx);
  } catch (e) {
    lib.log(`FAIL: ${name}: ${e instanceof lib.CheckError ? e.message : e.stack || e}`);
    for (const p of ctx.procs) p.dump('test failed');
    for (const e of ctx.emus) for (const p of [...e.past.slice(-2), e.proc]) if (p) p.dump('test failed');
    process.exitCode = 1;
  } finally {
    for (const p of ctx.procs) if (p.alive()) p.signal('SIGKILL');
    for (const e of ctx.emus) if (e.proc && e.proc.alive()) e.proc.signal('SIGKILL');
  }
  if (process.env.AZR_FAULT_VERBOSE) for (const p of ctx.procs) p.dump('AZR_FAULT_VERBOSE');
  if (!process.exitCode) lib.log(`PASS: ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(process.exitCode || 0);
}

main();
