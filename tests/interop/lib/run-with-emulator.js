#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Starts `$AZRELAY_BIN emulator` in a temporary directory, waits for its "ready" line, then runs one
// test file in a new Node process that trusts the emulator's certificate (NODE_EXTRA_CA_CERTS is
// read only at process start, hence the second process) and always stops both processes.
//
// Usage: run-with-emulator.js [--timeout SECONDS] [--ulimit-n N] [emulator options...] -- TEST_FILE [test args...]
//
// --ulimit-n N starts the emulator with at most N open descriptors (RLIMIT_NOFILE, through sh).
// The runner adds `--port 0`, `--cert-out DIR/emulator-cert.pem` (not with --plain) and, unless given, a generated
// `--key-name/--key`; a relative `--config FILE` is taken relative to the test file's directory. The test sees AZR_EMU_PORT, AZR_EMU_KEY_NAME, AZR_EMU_KEY, AZR_EMU_CERT,
// AZR_EMU_ENDPOINT, AZR_EMU_CONNSTR_<HC> (upper case, non-alphanumerics as '_'), AZR_EMU_CONFIG
// (absolute path of --config, if any), AZR_EMU_PLAIN=1 with --plain, AZR_EMU_PID (the emulator's
// process id, for CPU and memory measurements), AZR_EMU_TMPDIR and NODE_EXTRA_CA_CERTS.
// Exit status: the test's, or 1 when the emulator fails to start, dies during the test or exits
// uncleanly on SIGTERM; 2 for usage errors. The emulator's stderr is printed whenever it fails.
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const READY_TIMEOUT_MS = 20000;
const KILL_GRACE_MS = 5000;
const STDERR_KEEP = 256 * 1024; // bytes of emulator stderr kept in memory for failure reports

function usage(msg) {
  process.stderr.write(`run-with-emulator: ${msg}\n` +
    'usage: run-with-emulator.js [--timeout SECONDS] [--ulimit-n N] [emulator options...] -- TEST_FILE [args...]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const sep = argv.indexOf('--');
  if (sep < 0 || sep === argv.length - 1) usage('missing "-- TEST_FILE"');
  let emuArgs = argv.slice(0, sep);
  const testArgs = argv.slice(sep + 1);
  let timeoutS = 240;
  const t = emuArgs.indexOf('--timeout');
  if (t >= 0) {
    timeoutS = Number(emuArgs[t + 1]);
    if (!(timeoutS > 0)) usage('--timeout needs a positive number of seconds');
    emuArgs = emuArgs.slice(0, t).concat(emuArgs.slice(t + 2));
  }
  let ulimitN = null;
  const u = emuArgs.indexOf('--ulimit-n');
  if (u >= 0) {
    ulimitN = Number(emuArgs[u + 1]);
    if (!(Number.isInteger(ulimitN) && ulimitN > 0)) usage('--ulimit-n needs a positive whole number');
    emuArgs = emuArgs.slice(0, u).concat(emuArgs.slice(u + 2));
  }
  return { emuArgs, testArgs, timeoutS, ulimitN };
}

function optionValue(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A bounded tail of a stream's text. */
class Tail {
  constructor(limit) {
    this.limit = limit;
    this.parts = [];
    this.size = 0;
    this.dropped = 0;
  }
  push(buf) {
    this.parts.push(buf);
    this.size += buf.length;
    while (this.size > this.limit && this.parts.length > 1) {
      const b = this.parts.shift();
      this.size -= b.length;
      this.dropped += b.length;
    }
  }
  text() {
    const head = this.dropped ? `[... ${this.dropped} earlier bytes dropped ...]\n` : '';
    return head + Buffer.concat(this.parts).toString('utf8');
  }
}

async function main() {
  const { emuArgs, testArgs, timeoutS, ulimitN } = parseArgs(process.argv.slice(2));
  const bin = process.env.AZRELAY_BIN;
  if (!bin) usage('AZRELAY_BIN is not set (path of the azrelay binary)');
  if (!fs.existsSync(bin)) usage(`AZRELAY_BIN=${bin} does not exist`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-interop-'));
  const certPath = path.join(dir, 'emulator-cert.pem');
  const plain = emuArgs.includes('--plain');
  const args = ['emulator', '--port', '0', ...(plain ? [] : ['--cert-out', certPath])];
  if (optionValue(emuArgs, '--key-name') === undefined) {
    args.push('--key-name', 'RootManageSharedAccessKey', '--key', crypto.randomBytes(32).toString('base64'));
  }
  // A relative --config is relative to the test file's directory (so build trees need no copies).
  const configArg = optionValue(emuArgs, '--config');
  const configPath = configArg ? path.resolve(path.dirname(path.resolve(testArgs[0])), configArg) : undefined;
  const configIndex = emuArgs.indexOf('--config') + 1;
  args.push(...emuArgs.map((a, i) => (configPath && i === configIndex ? configPath : a)));

  const children = new Set();
  let cleaningUp = false;
  const killAll = (signal) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (cleaningUp) return;
      cleaningUp = true;
      process.stderr.write(`run-with-emulator: got ${sig}, stopping children\n`);
      killAll('SIGKILL');
      process.exit(1);
    });
  }
  process.on('exit', () => killAll('SIGKILL'));

  // --- start the emulator -------------------------------------------------------------------------
  const emuStderr = new Tail(STDERR_KEEP);
  const logFile = fs.openSync(path.join(dir, 'emulator.log'), 'w');
  // With --ulimit-n the shell lowers the limit and then becomes the emulator (exec keeps the pid).
  const emu = ulimitN
    ? spawn('/bin/sh', ['-c', `ulimit -n ${ulimitN} && exec "$0" "$@"`, bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(emu);
  const emuExit = new Promise((resolve) => emu.on('exit', (code, signal) => resolve({ code, signal })));
  emu.stderr.on('data', (d) => {
    emuStderr.push(d);
    fs.writeSync(logFile, d);
  });
  const shownArgs = args.map((a, i) => (args[i - 1] === '--key' ? '<key>' : a));
  const printEmulatorLog = (why) => {
    process.stderr.write(`\n===== emulator stderr (${why}); command: ${bin} ${shownArgs.join(' ')} =====\n`);
    process.stderr.write(emuStderr.text());
    process.stderr.write(`===== end of emulator stderr (full log: ${path.join(dir, 'emulator.log')}) =====\n`);
  };

  const info = { endpoint: null, port: null, connStrings: {} };
  let stdoutText = '';
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    emu.stdout.on('data', (d) => {
      const s = d.toString('utf8');
      stdoutText += s;
      buf += s;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        let m;
        if ((m = /^endpoint:\s*(\S+)/.exec(line))) {
          info.endpoint = m[1];
          const u = new URL(m[1]);
          info.port = Number(u.port);
        } else if ((m = /^connection string ([^:]+):\s*(.+)$/.exec(line))) {
          info.connStrings[m[1].trim()] = m[2].trim();
        } else if (line.trim() === 'ready') {
          resolve();
        }
      }
    });
    emuExit.then(({ code, signal }) => reject(new Error(`emulator exited before "ready" (code ${code}, signal ${signal})`)));
    setTimeout(() => reject(new Error(`emulator printed no "ready" line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref();
  });

  const stopEmulator = async () => {
    if (emu.exitCode !== null || emu.signalCode !== null) return emuExit;
    emu.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`run-with-emulator: emulator ignored SIGTERM for ${KILL_GRACE_MS} ms; sending SIGKILL\n`);
      emu.kill('SIGKILL');
    }, KILL_GRACE_MS);
    const r = await emuExit;
    clearTimeout(timer);
    return r;
  };

  try {
    await ready;
  } catch (e) {
    process.stderr.write(`run-with-emulator: ${e.message}\nemulator stdout:\n${stdoutText}`);
    await stopEmulator();
    printEmulatorLog('failed to start');
    process.exit(1);
  }
  if (!info.port) {
    process.stderr.write(`run-with-emulator: no "endpoint:" line with a port before "ready"; stdout was:\n${stdoutText}`);
    await stopEmulator();
    printEmulatorLog('bad startup output');
    process.exit(1);
  }
  if (!plain && !fs.existsSync(certPath)) {
    process.stderr.write(`run-with-emulator: emulator is ready but wrote no certificate to ${certPath}\n`);
    await stopEmulator();
    printEmulatorLog('no certificate');
    process.exit(1);
  }

  // Key name and key as the emulator reports them (authoritative when a config file is used).
  let keyName = optionValue(args, '--key-name');
  let key = optionValue(args, '--key');
  const firstConn = Object.values(info.connStrings)[0];
  if (firstConn) {
    const kn = /SharedAccessKeyName=([^;]+)/.exec(firstConn);
    const k = /SharedAccessKey=([^;]+)/.exec(firstConn);
    if (kn && k) {
      keyName = kn[1];
      key = k[1];
    }
  }

  const env = { ...process.env };
  env.AZR_EMU_PORT = String(info.port);
  env.AZR_EMU_ENDPOINT = info.endpoint;
  env.AZR_EMU_KEY_NAME = keyName || '';
  env.AZR_EMU_KEY = key || '';
  env.AZR_EMU_PLAIN = plain ? '1' : '0';
  env.AZR_EMU_TMPDIR = dir;
  env.AZR_EMU_PID = String(emu.pid);
  if (!plain) {
    env.AZR_EMU_CERT = certPath;
    env.NODE_EXTRA_CA_CERTS = certPath;
  }
  if (configPath) env.AZR_EMU_CONFIG = configPath;
  for (const [hc, cs] of Object.entries(info.connStrings)) {
    env['AZR_EMU_CONNSTR_' + hc.toUpperCase().replace(/[^A-Z0-9]/g, '_')] = cs;
  }

  // --- run the test -------------------------------------------------------------------------------
  const testFile = path.resolve(testArgs[0]);
  const test = spawn(process.execPath, [testFile, ...testArgs.slice(1)], {
    cwd: path.dirname(testFile),
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(test);
  let emulatorDied = null;
  emuExit.then((r) => {
    if (!cleaningUp && test.exitCode === null && test.signalCode === null) {
      emulatorDied = r;
      process.stderr.write(`run-with-emulator: the emulator exited during the test (code ${r.code}, signal ${r.signal})\n`);
    }
  });
  let timedOut = false;
  const testTimer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`run-with-emulator: test ${testFile} still running after ${timeoutS} s; killing it\n`);
    test.kill('SIGKILL');
  }, timeoutS * 1000);
  const testResult = await new Promise((resolve) => test.on('exit', (code, signal) => resolve({ code, signal })));
  clearTimeout(testTimer);

  cleaningUp = true;
  const emuResult = emulatorDied || (await stopEmulator());
  fs.closeSync(logFile);

  let status = testResult.code === null ? 1 : testResult.code;
  const problems = [];
  if (timedOut) problems.push('the test timed out');
  else if (testResult.signal) problems.push(`the test died by ${testResult.signal}`);
  else if (status !== 0) problems.push(`the test exited with ${status}`);
  if (emulatorDied) problems.push(`the emulator died during the test (code ${emuResult.code}, signal ${emuResult.signal})`);
  else if (!(emuResult.code === 0 || emuResult.signal === 'SIGTERM')) {
    problems.push(`the emulator exited uncleanly after SIGTERM (code ${emuResult.code}, signal ${emuResult.signal})`);
  }
  if (problems.length) {
    if (status === 0) status = 1;
    process.stderr.write(`run-with-emulator: FAILED: ${problems.join('; ')}\n`);
    printEmulatorLog('failure');
  } else if (process.env.AZR_INTEROP_VERBOSE) {
    printEmulatorLog('verbose');
  }
  if (!problems.length && !process.env.AZR_INTEROP_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(status);
}

main().catch((e) => {
  process.stderr.write(`run-with-emulator: ${e.stack || e}\n`);
  process.exit(1);
});
