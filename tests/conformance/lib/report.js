// SPDX-License-Identifier: MIT
// The run's output: a table of checks on stdout as they finish, and a Markdown report to attach to
// a bug report (versions, parameters, every check, every observation, differences, failure logs).
'use strict';

const WIDTH_ID = 28;

/** Prints the table on `stream`, one row per finished check. */
class Table {
  constructor(stream, redact) {
    this.stream = stream;
    this.redact = redact;
    this.printed = false;
  }

  header() {
    this.stream.write(`${'check'.padEnd(WIDTH_ID)} result  seconds  detail\n`);
    this.stream.write(`${'-'.repeat(WIDTH_ID)} ------  -------  ${'-'.repeat(40)}\n`);
  }

  row(r) {
    const detail = r.detail.length > 150 ? r.detail.slice(0, 147) + '...' : r.detail;
    this.stream.write(`${r.id.padEnd(WIDTH_ID)} ${r.result.padEnd(6)} ${r.seconds.toFixed(1).padStart(8)}  ${detail}\n`);
  }

  progress(text) {
    process.stderr.write(`[conformance] ${this.redact(text)}\n`);
  }
}

function cell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Counts of each result. */
function summary(results) {
  const n = { PASS: 0, FAIL: 0, DIFF: 0, SKIP: 0 };
  for (const r of results) n[r.result]++;
  return n;
}

/** The Markdown report as one string. info: { target, versions, params, started, seconds }. */
function markdown(results, info) {
  const n = summary(results);
  const L = [];
  L.push('# azrelay conformance report', '');
  L.push(`- Date (UTC): ${info.started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')}`);
  L.push(`- Target: ${info.target}`);
  for (const h of info.hybridConnections) L.push(`- ${h}`);
  L.push(`- Result: **${n.PASS} passed, ${n.FAIL} failed, ${n.DIFF} differ from the emulator, ${n.SKIP} skipped** in ${info.seconds.toFixed(0)} s`);
  L.push(`- Versions: ${info.versions.map((v) => '`' + cell(v) + '`').join(', ')}`);
  L.push(`- Parameters: ${info.paramsText}`);
  L.push('', 'PASS: as expected. FAIL: azrelay (or a documented behaviour of the relay it relies on) did not do what it should.');
  L.push('DIFF: passed, but the relay answered differently from the emulator somewhere (see below): the emulator should change.');
  L.push('SKIP: not run here, with the reason.', '');
  L.push('## Checks', '', '| check | result | seconds | what it checks | detail |', '|---|---|---:|---|---|');
  for (const r of results) L.push(`| ${r.id} | ${r.result} | ${r.seconds.toFixed(1)} | ${cell(r.title)} | ${cell(r.detail)} |`);
  const obs = results.flatMap((r) => r.observations);
  L.push('', '## What the relay did where the service and the emulator may differ', '');
  L.push('"emulator" is what the emulator answers (docs/EMULATOR.md); empty where it is only recorded.', '');
  L.push('| check | what | seen | emulator | same |', '|---|---|---|---|---|');
  for (const o of obs) L.push(`| ${o.check} | ${cell(o.what)} | ${cell(o.seen)} | ${cell(o.emulator)} | ${o.same === null ? '' : o.same ? 'yes' : '**no**'} |`);
  const diffs = obs.filter((o) => o.same === false);
  L.push('', '## Differences from the emulator', '');
  if (!diffs.length) L.push('None.');
  for (const o of diffs) L.push(`- ${o.check}: ${o.what}: seen \`${cell(o.seen)}\`, the emulator ${o.emulator}`);
  const failed = results.filter((r) => r.result === 'FAIL' || r.result === 'SKIP');
  if (failed.length) {
    L.push('', '## Failures and skips', '');
    for (const r of failed) {
      L.push(`### ${r.id} (${r.result})`, '', cell(r.detail), '');
      if (r.log) L.push('```text', r.log.replace(/```/g, "'''"), '```', '');
    }
  }
  return L.join('\n') + '\n';
}

module.exports = { Table, markdown, summary };
