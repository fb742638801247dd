// SPDX-License-Identifier: MIT
// Runs `azrelay token` and verifies its output with Node's own crypto: signature, rule name, expiry and
// audience (§3.1-§3.3); also the usage errors (exit 2, no secret in the message). Node built-ins only.
'use strict';
const assert = require('assert');
const crypto = require('crypto');
const { spawnSync } = require('child_process');

const bin = process.env.AZRELAY_BIN;
assert.ok(bin, 'AZRELAY_BIN must name the azrelay binary');

const host = 'contoso.servicebus.windows.net';
const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const rule = 'RootManageSharedAccessKey';
const connstr = `Endpoint=sb://${host}/;SharedAccessKeyName=${rule};SharedAccessKey=${key};EntityPath=hyco`;

function run(args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 20000 });
  assert.strictEqual(r.error, undefined, `cannot run ${bin}: ${r.error}`);
  return r;
}

// Splits "SharedAccessSignature sr=..&sig=..&se=..&skn=.." into its raw (still encoded) fields.
function fields(token) {
  const prefix = 'SharedAccessSignature ';
  assert.ok(token.startsWith(prefix), `not a SAS token: ${token}`);
  const out = {};
  for (const part of token.slice(prefix.length).split('&')) {
    const i = part.indexOf('=');
    assert.ok(i > 0, `field without '=': ${part}`);
    const name = part.slice(0, i);
    assert.ok(!(name in out), `duplicate field ${name}`);
    out[name] = part.slice(i + 1);
  }
  for (const f of ['sr', 'sig', 'se', 'skn']) assert.ok(f in out, `missing ${f}`);
  return out;
}

function verify(stdout, entity, ttl) {
  assert.ok(stdout.endsWith('\n'), 'token must end with a newline');
  const lines = stdout.split('\n');
  assert.strictEqual(lines.length, 2, 'exactly one line on stdout');
  const f = fields(lines[0]);
  const audience = entity ? `http://${host}/${entity}/` : `http://${host}/`;
  assert.strictEqual(f.sr, encodeURIComponent(audience));
  assert.strictEqual(decodeURIComponent(f.skn), rule);
  assert.match(f.se, /^[0-9]+$/);
  const now = Math.floor(Date.now() / 1000);
  const se = Number(f.se);
  assert.ok(Math.abs(se - (now + ttl)) <= 5, `se ${se} is not now + ${ttl} (now ${now})`);
  // §3.2: HMAC-SHA256 under the key text (not base64-decoded) over sr as sent + "\n" + se.
  const expected = crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(`${f.sr}\n${f.se}`).digest('base64');
  assert.strictEqual(decodeURIComponent(f.sig), expected);
  assert.strictEqual(f.sig, encodeURIComponent(expected));
}

// Default TTL and entity from EntityPath.
let r = run(['token', '-c', connstr]);
assert.strictEqual(r.status, 0, r.stderr);
verify(r.stdout, 'hyco', 3600);

// --ttl and --entity.
r = run(['token', '-c', connstr, '--ttl', '120', '--entity', 'other/sub']);
assert.strictEqual(r.status, 0, r.stderr);
verify(r.stdout, 'other/sub', 120);

// No EntityPath and no --entity: a namespace-wide token.
r = run(['token', '--connection-string', connstr.replace(';EntityPath=hyco', ''), '--ttl=600']);
assert.strictEqual(r.status, 0, r.stderr);
verify(r.stdout, '', 600);

// A connection string that already carries a token prints it unchanged.
const sas = 'SharedAccessSignature sr=http%3A%2F%2Fh%2Fe%2F&sig=abc%3D&se=1700000000&skn=r';
r = run(['token', '-c', `Endpoint=sb://h/;SharedAccessSignature=${sas}`]);
assert.strictEqual(r.status, 0, r.stderr);
assert.strictEqual(r.stdout, `${sas}\n`);

// Usage errors: exit 2, a message on stderr, nothing on stdout, never the key.
const bad = [
  ['token', '-c', `Endpoint=sb://${host}/;SharedAccessKey=${key}`],         // key without key name
  ['token', '-c', `Endpoint=https://${host}/;SharedAccessKeyName=${rule};SharedAccessKey=${key}`],
  ['token', '-c', `Endpoint=sb://${host}/;SharedAccessKeyName=${rule};SharedAccessKey=${key};${key}`],
  ['token', '-c', connstr, '--ttl', '0'],
  ['token', '-c', connstr, '--ttl', 'soon'],
  ['token', '-c', connstr, '--bogus'],
  ['token', '-c', connstr, 'extra'],
  ['token', '--ttl', '60'],
  ['token', '-c'],
];
for (const args of bad) {
  r = run(args);
  assert.strictEqual(r.status, 2, `exit ${r.status} for ${JSON.stringify(args)}`);
  assert.strictEqual(r.stdout, '', `stdout for ${JSON.stringify(args)}`);
  assert.ok(r.stderr.trim().length > 0, `no message for ${JSON.stringify(args)}`);
  assert.ok(!r.stderr.includes(key) && !r.stderr.includes(key.slice(0, 20)),
            `message leaks the key: ${r.stderr}`);
}

r = run(['token', '--help']);
assert.strictEqual(r.status, 0);
assert.match(r.stdout, /--ttl/);

console.log('token_verify: ok');
