// SPDX-License-Identifier: MIT
// Runs conformance checks one at a time (or a group side by side), each with a hard timeout and its
// own processes, which are stopped when it ends; collects PASS/FAIL/DIFF/SKIP, timings, details and
// what the relay was seen to do where the service and the emulator may differ.
'use strict';

const RESULTS = ['PASS', 'FAIL', 'DIFF', 'SKIP'];

// Every process a check started, killed at exit whatever happened (a check that timed out may
// still be starting processes after its clean-up ran).
const everyProcess = new Set();
process.on('exit', () => {
  for (const p of everyProcess) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** Thrown by a check that cannot run here (for example an emulator without a setting it needs). */
class Skip extends Error {}

/** What a check gets: the target, the run's parameters, and helpers that clean up after it. */
class CheckContext {
  constructor(run, check) {
    this.run = run;
    this.check = check;
    this.target = run.target;
    this.params = run.params;
    this.profile = run.target.profile;
    this.notes = [];
    this.observations = [];
    this.logs = [];
    this.cleanups = [];
    this.processes = [];
    this.differs = false;
    this.ended = false;
  }

  /** A short fact for the detail column ("16 MiB in 2.1 s"). */
  note(text) {
    this.notes.push(text);
  }

  /** A longer line kept for the report when the check fails. */
  log(text) {
    this.logs.push(text);
  }

  /** Runs `fn` when the check ends, whatever the outcome (last registered, first run). */
  defer(fn) {
    this.cleanups.push(fn);
  }

  /** A process the check started: stopped at the end; `expectCleanExit` makes a non-zero exit fail the check. */
  track(proc, { label, expectCleanExit = true, output }) {
    everyProcess.add(proc);
    proc.once('exit', () => everyProcess.delete(proc));
    if (this.ended) proc.kill('SIGKILL'); // started after the check timed out and was cleaned up
    const entry = { proc, label, expectCleanExit, output };
    this.processes.push(entry);
    return entry;
  }

  /** Fails the check with `message` unless `cond` holds. */
  expect(cond, message) {
    if (!cond) throw new Error(message);
  }

  /**
   * Records what the relay did where the service may differ from the emulator. `expected` is the
   * emulator's documented answer (a string, a RegExp, or null for "no expectation, just record it").
   * Against the emulator a mismatch fails the check; against Azure it marks the check DIFF: the
   * emulator, not our code, should change.
   */
  observe(what, seen, expected = null) {
    const seenText = seen === undefined || seen === null ? '(none)' : String(seen);
    let same = null;
    if (expected instanceof RegExp) same = expected.test(seenText);
    else if (expected !== null) same = seenText === String(expected);
    const expectedText = expected === null ? '' : expected instanceof RegExp ? `matches ${expected}` : String(expected);
    this.observations.push({ check: this.check.id, what, seen: seenText, emulator: expectedText, same });
    if (same === false) {
      if (this.profile === 'emulator') throw new Error(`${what}: saw "${seenText}", the emulator documents ${expectedText}`);
      this.differs = true;
    }
  }

  /** True once the check has ended (timed out): long loops should stop. */
  get aborted() {
    return this.ended;
  }
}

class Run {
  constructor({ target, params, out, redact }) {
    this.target = target;
    this.params = params;
    this.out = out;
    this.redact = redact;
    this.results = [];
  }

  /** Runs checks one after the other. */
  async sequential(checks) {
    for (const c of checks) await this.runOne(c);
  }

  /** Runs checks side by side (they must use different hybrid connections). */
  async parallel(checks) {
    await Promise.all(checks.map((c) => this.runOne(c)));
  }

  async runOne(check) {
    const ctx = new CheckContext(this, check);
    const limitS = check.timeout[this.target.profile];
    const started = process.hrtime.bigint();
    let result = 'PASS';
    let error = null;
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limitS * 1000);
    });
    if (this.params.verbose) this.out.progress(`${check.id}: started (limit ${limitS} s)`);
    try {
      const body = Promise.resolve().then(() => check.run(ctx));
      body.catch(() => {}); // a check that lost the race may still reject later
      const outcome = await Promise.race([body.then(() => 'done'), timeout]);
      if (outcome === 'timeout') throw new Error(`timed out after ${limitS} s (hard limit of this check)`);
    } catch (e) {
      error = e;
      result = e instanceof Skip ? 'SKIP' : 'FAIL';
    } finally {
      clearTimeout(timer);
      ctx.ended = true;
    }
    const stopProblems = await this.cleanUp(ctx, result === 'PASS');
    if (result === 'PASS' && stopProblems.length) {
      result = 'FAIL';
      error = new Error(stopProblems.join('; '));
    }
    if (result === 'PASS' && ctx.differs) result = 'DIFF';
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const detail = error ? [error.message, ...ctx.notes].join('; ') : ctx.notes.join('; ');
    const r = {
      id: check.id,
      title: check.title,
      result,
      seconds,
      detail: this.redact(detail),
      observations: ctx.observations.map((o) => ({ ...o, seen: this.redact(o.seen) })),
      log: result === 'FAIL' ? this.redact(this.failureLog(ctx, error)) : '',
    };
    this.results.push(r);
    this.out.row(r);
    return r;
  }

  /** Runs the check's cleanups and stops its processes; returns problems a passing check must report. */
  async cleanUp(ctx, passed) {
    const problems = [];
    for (const fn of ctx.cleanups.reverse()) {
      try {
        await withDeadline(Promise.resolve().then(fn), 15000);
      } catch (e) {
        if (passed) problems.push(`clean-up failed: ${e.message}`);
      }
    }
    for (const p of ctx.processes.reverse()) {
      const r = await stopProcess(p.proc);
      p.exit = r;
      if (passed && p.expectCleanExit && !(r.code === 0 || (r.code === null && r.signal === null))) {
        problems.push(`${p.label} exited with code ${r.code}${r.signal ? `, signal ${r.signal}` : ''} when stopped`);
      }
    }
    return problems;
  }

  failureLog(ctx, error) {
    const parts = [];
    if (error && error.stack && !(error instanceof Skip)) parts.push(String(error.stack).split('\n').slice(0, 6).join('\n'));
    parts.push(...ctx.logs);
    for (const p of ctx.processes) {
      if (!p.output) continue;
      const text = p.output();
      if (!text) continue;
      const lines = text.split('\n');
      parts.push(`--- ${p.label}${p.exit ? ` (exit ${p.exit.code}${p.exit.signal ? ' ' + p.exit.signal : ''})` : ''}, last lines ---\n` + lines.slice(-60).join('\n'));
    }
    return parts.join('\n');
  }
}

/** SIGTERM, SIGKILL after 8 s; resolves with { code, signal } (at once when it already exited). */
function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
    proc.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
    proc.kill('SIGTERM');
  });
}

function withDeadline(promise, ms) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

module.exports = { Run, CheckContext, Skip, RESULTS, stopProcess };
