// SPDX-License-Identifier: MIT
// The conformance run behind scripts/azure-conformance.sh: every check against the namespace the
// AZRELAY_CONFORMANCE_CS_* connection strings name (Azure, or the emulator the script started),
// a table on stdout and a Markdown report. Exit status: 0 when every check that ran passed (DIFF
// counts as passed), 1 when one failed or none ran, 2 for a usage or configuration mistake.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Target, redactPatterns } = require('./lib/target');
const { Run } = require('./lib/harness');
const { Table, markdown, summary } = require('./lib/report');
const { npmRequire } = require('./lib/npm');

const QUICK = [
  ...require('./checks/relay').checks,
  ...require('./checks/auth').checks,
  ...require('./checks/http').checks,
  ...require('./checks/bridge').checks,
  ...require('./checks/interop').checks,
];
const LONG = require('./checks/long').checks;

/** Per target: how long to wait for things, and the sizes and durations of the checks. */
const PARAMS = {
  emulator: {
    readyMs: 20000, handshakeMs: 20000, messageMs: 20000, echoMaxMiB: 16, floodMiB: 64, sharedListeners: 3, sharedSenders: 24,
    // Seconds instead of minutes: the script sets the emulator's idle cut-off (IdleTimeoutMs) to 4 s
    // and its TokenGraceSeconds and ClockSkewSeconds to 1; every listener and sender keeps alive every second.
    idleS: 10, keepAliveS: 1, tokenValidityS: 4, renewThresholdS: 2, renewObserveS: 14, expiryTokenS: 4, expiryWaitS: 20,
  },
  azure: {
    readyMs: 30000, handshakeMs: 30000, messageMs: 60000, echoMaxMiB: 16, floodMiB: 64, sharedListeners: 3, sharedSenders: 24,
    // Azure's load balancers drop flows idle for about 4 minutes (§5.8): 6 minutes is past that, with
    // the listener's default keep-alive (AzureRelayKeepAliveTime, 30 s).
    idleS: 360, keepAliveS: null, tokenValidityS: 120, renewThresholdS: 60, renewObserveS: 360, expiryTokenS: 30, expiryWaitS: 330,
  },
};

function usage(msg) {
  process.stderr.write(`run.js: ${msg}\n(run it through scripts/azure-conformance.sh)\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { profile: 'azure', report: null, only: null, list: false, verbose: false, overrides: {} };
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) usage(`${name} needs a number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--profile') o.profile = value();
    else if (a === '--report') o.report = value();
    else if (a === '--only') o.only = new RegExp(value());
    else if (a === '--list') o.list = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--idle-seconds') o.overrides.idleS = num(a, value());
    else if (a === '--flood-mib') o.overrides.floodMiB = Math.max(4, num(a, value()));
    else if (a === '--keepalive-seconds') o.overrides.keepAliveS = num(a, value());
    else usage(`unknown argument ${a}`);
  }
  if (!PARAMS[o.profile]) usage(`--profile must be azure or emulator`);
  return o;
}

function versions() {
  const out = [];
  try {
    out.push(...execFileSync(process.env.AZRELAY_BIN, ['--version'], { encoding: 'utf8' }).trim().split('\n'));
  } catch (e) {
    out.push(`azrelay --version failed: ${e.message}`);
  }
  try {
    const rev = execFileSync('git', ['-C', path.join(__dirname, '..', '..'), 'describe', '--always', '--dirty'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    out.push(`source ${rev.trim()}`);
  } catch {
    /* not a git checkout */
  }
  out.push(`node ${process.version}`);
  for (const pkg of ['hyco-ws', 'ws']) {
    try {
      out.push(`${pkg} ${npmRequire(`${pkg}/package.json`).version}`);
    } catch {
      out.push(`${pkg} (version unknown)`);
    }
  }
  out.push(`${os.type()} ${os.release()} ${os.arch()}`);
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const all = [...QUICK, ...LONG];
  if (o.list) {
    for (const c of all) process.stdout.write(`${c.id.padEnd(28)} ${c.title}\n`);
    return 0;
  }
  for (const v of ['AZRELAY_BIN', 'AZR_TEST_LISTENER']) {
    if (!process.env[v] || !fs.existsSync(process.env[v])) usage(`${v} does not name a program (${process.env[v] || 'unset'})`);
  }
  let target;
  try {
    target = new Target(process.env, { profile: o.profile, cacert: process.env.AZRELAY_CONFORMANCE_CACERT });
  } catch (e) {
    process.stderr.write(`azure-conformance: ${redactPatterns(e.message)}\n`);
    return 2;
  }
  const params = { ...PARAMS[o.profile], ...o.overrides, verbose: o.verbose };
  params.emulatorIdleMs = Number(process.env.AZRELAY_CONFORMANCE_EMULATOR_IDLE_MS || 0);
  const redact = (s) => target.redact(s);
  const table = new Table(process.stdout, redact);
  const run = new Run({ target, params, out: table, redact });
  const pick = (list) => list.filter((c) => !o.only || o.only.test(c.id));
  const quick = pick(QUICK);
  const long = pick(LONG);
  const limitS = quick.reduce((s, c) => s + c.timeout[o.profile] + 30, 0) + Math.max(0, ...long.map((c) => c.timeout[o.profile] + 30)) + 60;
  const watchdog = setTimeout(() => {
    process.stderr.write(`azure-conformance: the run exceeded ${limitS} s in all; stopping\n`);
    process.exit(1);
  }, limitS * 1000);
  watchdog.unref();

  const started = new Date();
  const where = o.profile === 'azure' ? `Azure Relay namespace ${target.host}` : `azrelay emulator at ${target.authority} (started by the script)`;
  process.stdout.write(`azrelay conformance: ${quick.length + long.length} checks against ${where}\n`);
  if (long.length) {
    const longest = Math.max(params.idleS, params.renewObserveS, params.expiryTokenS + params.expiryWaitS);
    process.stdout.write(`(${long.map((c) => c.id).join(', ')} run last, side by side: about ${longest} s)\n`);
  }
  table.header();
  await run.sequential(quick);
  await run.parallel(long);
  const seconds = (Date.now() - started.getTime()) / 1000;
  const results = run.results;
  const n = summary(results);
  const ran = n.PASS + n.FAIL + n.DIFF;
  process.stdout.write(`\n${n.PASS} passed, ${n.FAIL} failed, ${n.DIFF} differ from the emulator, ${n.SKIP} skipped; ${seconds.toFixed(0)} s\n`);
  if (n.DIFF) process.stdout.write('DIFF: the relay answered differently from the emulator; the report lists what was seen.\n');
  for (const r of results.filter((x) => x.result === 'SKIP')) process.stdout.write(`SKIPPED ${r.id}: ${r.detail}\n`);
  if (o.report) {
    const hcs = target.cs;
    const info = {
      started,
      seconds,
      target: where,
      hybridConnections: [
        `Hybrid connections: AUTH \`${hcs.AUTH.hc}\`, NOAUTH \`${hcs.NOAUTH.hc}\`, HTTP \`${hcs.HTTP.hc}\`; rules: AUTH \`${hcs.AUTH.keyName}\`, LISTEN_ONLY \`${hcs.LISTEN_ONLY.keyName}\`, SEND_ONLY \`${hcs.SEND_ONLY.keyName}\``,
      ],
      versions: versions(),
      paramsText: `idle ${params.idleS} s, keep-alive ${params.keepAliveS === null ? 'default (30 s)' : params.keepAliveS + ' s'}, ` +
        `tokens ${params.tokenValidityS} s renewed ${params.renewThresholdS} s before expiry for ${params.renewObserveS} s, ` +
        `flood ${params.floodMiB} MiB, echo up to ${params.echoMaxMiB} MiB` + (o.only ? `, only ${o.only}` : '') +
        (o.profile === 'emulator' ? `, emulator IdleTimeoutMs ${params.emulatorIdleMs || 'not supported'}` : ''),
    };
    fs.mkdirSync(path.dirname(path.resolve(o.report)), { recursive: true });
    fs.writeFileSync(o.report, redact(markdown(results, info)));
    process.stdout.write(`report: ${o.report}\n`);
  }
  if (ran === 0) {
    process.stdout.write('FAILED: no check ran, so nothing was proven\n');
    return 1;
  }
  return n.FAIL ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`azure-conformance: ${redactPatterns(e.stack || e)}\n`);
    process.exit(1);
  },
);
