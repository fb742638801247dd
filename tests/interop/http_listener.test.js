// SPDX-License-Identifier: MIT
// HTTP mode (§7) with our listener: `azrelay listen --http-echo` on hc1 and `--http-dir` on hc2,
// asked by curl, Node https, hyco-https's client helpers and `azrelay request`; bodies of every size
// class both ways (control channel and rendezvous, §7.2/§7.5), the emulator's 401s, path traversal.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2,hc3` (see http_listener.cmake).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const hycoHttps = require('hyco-https');
const relay = require('./lib/relay');
const { nodeRequest, patternBytes } = require('./lib/http-sender');
const cli = require('./lib/azrelay-cli');

relay.watchdog(170000, 'http_listener');
const emu = relay.emulator();
const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, 1024, 63 * KiB, 65 * KiB, 8 * MiB];
const BODY_TYPE = 'application/x-azr-test; v=1';
const SECRET = 'SECRET-OUTSIDE-THE-SERVED-FOLDER';

let echo; // azrelay listen --http-echo on hc1
let files; // azrelay listen --http-dir on hc2
let tmp, www, secretPath;
const FILES = { 'empty.txt': 0, 'k1.json': 1024, 'k63.html': 63 * KiB, 'k65.bin': 65 * KiB, 'm8.png': 8 * MiB };
const TYPES = { txt: 'text/plain; charset=utf-8', json: 'application/json', html: 'text/html; charset=utf-8', bin: 'application/octet-stream', png: 'image/png' };

const auth = (hc) => ({ ServiceBusAuthorization: relay.tokenFor(emu, hc) });
const send = (client, rawPath, opts) =>
  client === 'curl' ? cli.curlRaw(emu.port, rawPath, { cacert: emu.cert, ...opts }) : cli.nodeRaw(emu.port, rawPath, opts);

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-http-listener-'));
  www = path.join(tmp, 'www');
  fs.mkdirSync(path.join(www, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(www, 'noindex'));
  for (const [name, size] of Object.entries(FILES)) fs.writeFileSync(path.join(www, name), patternBytes(size, name));
  fs.writeFileSync(path.join(www, 'index.html'), '<p>root index</p>');
  fs.writeFileSync(path.join(www, 'sub', 'index.html'), '<p>sub index</p>');
  secretPath = path.join(tmp, 'secret.txt');
  fs.writeFileSync(secretPath, SECRET);
  fs.symlinkSync(secretPath, path.join(www, 'link.txt')); // points outside: must not be served
  fs.symlinkSync(tmp, path.join(www, 'up'));
  fs.symlinkSync(path.join(www, 'k1.json'), path.join(www, 'inside.json')); // inside: not followed either
  [echo, files] = await Promise.all([
    cli.startListener(['-c', emu.connectionString('hc1'), '--cacert', emu.cert, '--http-echo'], { label: 'echo listener' }),
    cli.startListener(['-c', emu.connectionString('hc2'), '--cacert', emu.cert, '--http-dir', www], { label: 'file listener' }),
  ]);
});

after(async () => {
  const results = await Promise.all([echo, files].filter(Boolean).map((l) => l.stop()));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  // A clean exit on SIGTERM (also: no leak reports in sanitizer builds).
  for (const [i, r] of results.entries()) {
    if (r.code !== 0) {
      const l = [echo, files][i];
      process.stderr.write(`${l.label} stderr:\n${l.stderr.slice(-8000)}\n`);
      assert.fail(`${l.label} exited with code ${r.code}, signal ${r.signal}`);
    }
  }
});

// ---- the echo listener: every method and body size, curl and Node ----------------------------

let rid = 0;

async function echoCase(client, method, size) {
  const id = ++rid;
  const target = `/hc1/echo/${client}?rid=${id}`;
  const body = size ? patternBytes(size, `req-${id}`) : null;
  const headers = { ...auth('hc1'), 'X-Echo': `echo ${id}` };
  if (body) headers['Content-Type'] = BODY_TYPE;
  const r = await send(client, target, { method, headers, body });
  const what = `${client} ${method} ${size} B`;
  assert.equal(r.statusCode, 200, `${what}: ${r.statusCode} ${r.statusMessage} ${r.body.toString('utf8', 0, 200)}`);
  assert.ok(r.headers.via, `${what}: Via (a listener response, §7.6)`);
  assert.equal(r.headers['x-echo'], `echo ${id}`, `${what}: the request header reached the listener`);
  const want = body || Buffer.from(target);
  if (method === 'HEAD') {
    assert.equal(r.body.length, 0, `${what}: HEAD has no body`);
    return;
  }
  assert.equal(r.headers['content-type'], body ? BODY_TYPE : 'text/plain; charset=utf-8', `${what}: Content-Type`);
  assert.equal(r.body.length, want.length, `${what}: body length`);
  assert.equal(relay.sha256(r.body), relay.sha256(want), `${what}: body sha256`);
}

for (const client of ['curl', 'node']) {
  for (const method of ['GET', 'HEAD']) {
    test(`echo: ${client} ${method}`, { timeout: 20000 }, () => echoCase(client, method, 0));
  }
  for (const method of ['POST', 'PUT', 'DELETE']) {
    test(`echo: ${client} ${method} with bodies of ${SIZES.join(', ')} B`, { timeout: 60000 }, async () => {
      for (const size of SIZES) await echoCase(client, method, size);
    });
  }
}

test('echo: 16 requests at once, mixed sizes, all answered correctly', { timeout: 60000 }, async () => {
  const sizes = Array.from({ length: 16 }, (_, i) => SIZES[i % 4]);
  await relay.mapLimit(sizes, 16, (size, i) => echoCase(i % 2 ? 'node' : 'curl', 'POST', size));
});

// ---- the emulator's own answers: no listener involved --------------------------------------

test('a missing or bad token gets 401 from the emulator; the listener never sees it', { timeout: 20000 }, async () => {
  const cases = {
    missing: {},
    'wrong key': { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1', { key: 'not-the-key' }) },
    expired: { ServiceBusAuthorization: relay.tokenFor(emu, 'hc1', { expiry: relay.nowSeconds() - 600 }) },
    'other entity': { ServiceBusAuthorization: relay.tokenFor(emu, 'hc3') },
    garbage: { ServiceBusAuthorization: 'SharedAccessSignature nonsense' },
  };
  for (const [name, headers] of Object.entries(cases)) {
    for (const client of ['curl', 'node']) {
      const target = `/hc1/auth-${name.replace(' ', '-')}-${client}`;
      const r = await send(client, target, { method: 'POST', headers, body: Buffer.from('x') });
      assert.equal(r.statusCode, 401, `${client} ${name}: ${r.statusCode} ${r.statusMessage}`);
      assert.equal(r.headers.via, undefined, `${client} ${name}: a service error has no Via (§7.8)`);
      assert.match(r.headers['content-type'] || '', /application\/json/);
      assert.ok(!echo.stderr.includes(target), `${client} ${name}: the listener saw ${target}`);
    }
  }
});

// ---- the file listener -------------------------------------------------------------------------

for (const client of ['curl', 'node']) {
  test(`files: ${client} GET and HEAD of ${Object.values(FILES).join(', ')} B files`, { timeout: 60000 }, async () => {
    for (const [name, size] of Object.entries(FILES)) {
      const type = TYPES[name.split('.').pop()];
      const want = patternBytes(size, name);
      const g = await send(client, `/hc2/${name}`, { headers: auth('hc2') });
      assert.equal(g.statusCode, 200, `${client} GET ${name}: ${g.statusCode} ${g.statusMessage}`);
      assert.equal(g.headers['content-type'], type, `${client} GET ${name}: Content-Type`);
      assert.equal(g.body.length, size, `${client} GET ${name}: length`);
      assert.equal(relay.sha256(g.body), relay.sha256(want), `${client} GET ${name}: sha256`);
      const h = await send(client, `/hc2/${name}`, { method: 'HEAD', headers: auth('hc2') });
      assert.equal(h.statusCode, 200, `${client} HEAD ${name}`);
      assert.equal(h.headers['content-length'], String(size), `${client} HEAD ${name}: Content-Length of the file`);
      assert.equal(h.headers['content-type'], type, `${client} HEAD ${name}: Content-Type`);
      assert.equal(h.body.length, 0, `${client} HEAD ${name}: no body`);
    }
  });
}

test('files: folders, index.html, case-insensitive entity, query, escapes; no symlink followed', { timeout: 20000 }, async () => {
  const expect = {
    '/hc2': '<p>root index</p>',
    '/hc2/': '<p>root index</p>',
    '/hc2?x=1': '<p>root index</p>',
    '/HC2/sub/': '<p>sub index</p>',
    '/hc2/sub': '<p>sub index</p>',
    '/hc2/%73ub/index.html?y=%2e%2e': '<p>sub index</p>',
    '/hc2/./sub/./index.html': '<p>sub index</p>',
  };
  for (const [target, body] of Object.entries(expect)) {
    const r = await send('node', target, { headers: auth('hc2') });
    assert.equal(r.statusCode, 200, `${target}: ${r.statusCode} ${r.body.toString('utf8', 0, 100)}`);
    assert.equal(r.body.toString('latin1'), body, `${target}: body`);
  }
  for (const target of ['/hc2/noindex', '/hc2/noindex/', '/hc2/missing.txt', '/hc2/sub/missing', '/hc2/k1.json/x', '/hc2/inside.json']) {
    const r = await send('curl', target, { headers: auth('hc2') });
    assert.equal(r.statusCode, 404, `${target}: ${r.statusCode}`);
    assert.ok(r.headers.via, `${target}: answered by the listener`);
  }
  const bad = await send('curl', '/hc2/%zz', { headers: auth('hc2') });
  assert.equal(bad.statusCode, 400, 'a malformed escape');
});

test('files: other methods get 405 with Allow', { timeout: 20000 }, async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    for (const client of ['curl', 'node']) {
      const r = await send(client, '/hc2/k1.json', { method, headers: auth('hc2'), body: method === 'OPTIONS' ? null : Buffer.from('data') });
      assert.equal(r.statusCode, 405, `${client} ${method}`);
      assert.equal(r.headers.allow, 'GET, HEAD', `${client} ${method}: Allow`);
    }
  }
});

test('files: path traversal attempts get 404 and never the file outside', { timeout: 30000 }, async () => {
  const attempts = [
    '/hc2/../secret.txt',
    '/hc2/../../../../etc/passwd',
    '/hc2/sub/../../secret.txt',
    '/hc2/%2e%2e/secret.txt',
    '/hc2/%2E%2E%2Fsecret.txt',
    '/hc2/..%2fsecret.txt',
    '/hc2/sub/..%2f..%2fsecret.txt',
    '/hc2/.%2e/secret.txt',
    '/hc2/%2e./secret.txt',
    '/hc2/sub%2f%2e%2e%2f%2e%2e%2fsecret.txt',
    '/hc2/..%5csecret.txt',
    `/hc2/${secretPath}`,
    `/hc2/${encodeURIComponent(secretPath)}`,
    '/hc2//etc/passwd',
    '/hc2/%2fetc%2fpasswd',
    '/hc2/link.txt',
    '/hc2/up/secret.txt',
    '/hc2/k1.json%00',
    '/hc2/k1.json%00.html',
    '/hc2/%00/../secret.txt',
    '/hc2/sub/%00',
  ];
  for (const target of attempts) {
    for (const client of ['curl', 'node']) {
      for (const method of ['GET', 'HEAD']) {
        const r = await send(client, target, { method, headers: auth('hc2') });
        assert.equal(r.statusCode, 404, `${client} ${method} ${target}: ${r.statusCode} ${r.body.toString('utf8', 0, 100)}`);
        assert.ok(r.headers.via, `${client} ${method} ${target}: answered by the listener (Via)`);
        assert.ok(!r.body.toString('latin1').includes(SECRET), `${client} ${target}: leaked the file outside`);
      }
    }
  }
});

// ---- hyco-https's client-side helpers ----------------------------------------------------------

test("hyco-https's createRelayHttpsUri / createRelayToken against our listener", { timeout: 20000 }, async () => {
  // createRelayHttpsUri takes "host[:port]"; createRelayToken drops the port from the audience.
  const ns = `${emu.host}:${emu.port}`;
  const token = hycoHttps.createRelayToken(`https://${ns}/hc1`, emu.keyName, emu.key);
  const viaQuery = await nodeRequest(hycoHttps.createRelayHttpsUri(ns, 'hc1', token));
  assert.equal(viaQuery.statusCode, 200, `token in the query: ${viaQuery.statusCode} ${viaQuery.statusMessage}`);
  assert.equal(viaQuery.body.toString('utf8'), '/hc1', 'sb-hc-token is removed from the target');
  const withId = await nodeRequest(hycoHttps.createRelayHttpsUri(ns, 'hc1/sub?a=1', token, 'c0ffee00-0000-4000-8000-000000000001'));
  assert.equal(withId.statusCode, 200);
  assert.equal(withId.body.toString('utf8'), '/hc1/sub?a=1', 'sb-hc-id is removed from the target');
  const body = patternBytes(65 * KiB, 'hyco-helpers');
  const viaHeader = await nodeRequest(hycoHttps.createRelayHttpsUri(ns, 'hc1/upload'), {
    method: 'POST',
    headers: { ServiceBusAuthorization: token, 'Content-Type': 'application/octet-stream' },
    body,
  });
  assert.equal(viaHeader.statusCode, 200);
  assert.equal(relay.sha256(viaHeader.body), relay.sha256(body));
  const file = await nodeRequest(hycoHttps.createRelayHttpsUri(ns, 'hc2/k63.html', hycoHttps.createRelayToken(`https://${ns}/hc2`, emu.keyName, emu.key)));
  assert.equal(file.statusCode, 200);
  assert.equal(relay.sha256(file.body), relay.sha256(patternBytes(63 * KiB, 'k63.html')));
});

// ---- azrelay request -----------------------------------------------------------------------------

test('azrelay request: GET, POST -d, --data-file, -H, -i, statuses and exit codes', { timeout: 60000 }, async () => {
  const base = ['request', '-c', emu.connectionString('hc1'), '--cacert', emu.cert];
  const get = await cli.runCli([...base, '/cli/get?x=1']);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout.toString('utf8'), '/hc1/cli/get?x=1');

  const post = await cli.runCli([...base, '-d', 'hello through the relay', '-H', 'X-Echo: from the cli', '-i', '/cli/post']);
  assert.equal(post.code, 0, post.stderr);
  const text = post.stdout.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = cli.parseHeaderBlock(text.slice(0, split));
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['x-echo'], 'from the cli', '-H reaches the listener');
  assert.equal(head.headers['content-type'], 'application/octet-stream', 'default body type');
  assert.equal(text.slice(split + 4), 'hello through the relay');

  for (const size of [65 * KiB, 8 * MiB]) {
    const file = path.join(tmp, `upload-${size}`);
    const data = patternBytes(size, `cli-${size}`);
    fs.writeFileSync(file, data);
    const put = await cli.runCli([...base, '-X', 'PUT', '--data-file', file, '-H', 'Content-Type: image/png', '/cli/put']);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout.length, size, `--data-file ${size} B: echoed length`);
    assert.equal(relay.sha256(put.stdout), relay.sha256(data), `--data-file ${size} B: sha256`);
  }

  const fileBase = ['request', '-c', emu.connectionString('hc2'), '--cacert', emu.cert];
  const big = await cli.runCli([...fileBase, '/m8.png']);
  assert.equal(big.code, 0, big.stderr);
  assert.equal(relay.sha256(big.stdout), relay.sha256(patternBytes(8 * MiB, 'm8.png')));
  const missing = await cli.runCli([...fileBase, '/missing.txt']);
  assert.equal(missing.code, 6, 'exit 6 (the listener answered 4xx/5xx) for a 404');
  assert.match(missing.stderr, /^azrelay request: the listener answered HTTP 404 Not Found$/m);
  const del = await cli.runCli([...fileBase, '-X', 'DELETE', '/k1.json']);
  assert.equal(del.code, 6, 'exit 6 for a 405');
  assert.match(del.stderr, /405 Method Not Allowed/);
  const headReq = await cli.runCli([...fileBase, '-X', 'HEAD', '-i', '/k65.bin']);
  assert.equal(headReq.code, 0, headReq.stderr);
  assert.match(headReq.stdout.toString('latin1'), /^content-length: 66560\r$/im);

  const noPath = await cli.runCli([...base]);
  assert.equal(noPath.code, 2, 'usage error without PATH');
  const badToken = await cli.runCli(['request', '-c', emu.connectionString('hc1').replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=wrong'), '--cacert', emu.cert, '/x']);
  assert.equal(badToken.code, 3, 'exit 3: the relay refused the credentials');
  assert.match(badToken.stderr, /^azrelay request: the relay refused the credentials \(HTTP 401 /m);
});

// ---- the examples (registered when they are built) ---------------------------------------------

test('examples/http_listener answers through the relay', { timeout: 30000, skip: !process.env.AZR_EXAMPLE_HTTP_LISTENER }, async () => {
  const ex = new cli.Background(process.env.AZR_EXAMPLE_HTTP_LISTENER, [emu.connectionString('hc3')], {
    label: 'examples/http_listener',
    env: { ...process.env, AZRELAY_CACERT: emu.cert },
  });
  try {
    let r;
    for (let i = 0; i < 50; i++) { // it prints nothing when it comes online: retry until it answers
      r = await send('node', '/hc3/example', { method: 'POST', headers: auth('hc3'), body: Buffer.from('example body') });
      if (r.statusCode !== 404 || r.headers.via) break;
      await relay.sleep(200);
    }
    assert.equal(r.statusCode, 200, `${r.statusCode} ${r.statusMessage}`);
    assert.equal(r.body.toString('utf8'), 'Hello from an azrelay HTTP listener\n');
    await ex.waitFor(/HTTP Request: example body/, 5000, 'stdout');
    assert.match(ex.stdout, /HTTP Method: POST/);
  } finally {
    const { code } = await ex.stop();
    assert.equal(code, 0, `example exit code; stderr: ${ex.stderr}`);
  }
});

test('examples/echo_listener echoes text through the relay', { timeout: 30000, skip: !process.env.AZR_EXAMPLE_ECHO_LISTENER }, async () => {
  const ex = new cli.Background(process.env.AZR_EXAMPLE_ECHO_LISTENER, [emu.connectionString('hc3')], {
    label: 'examples/echo_listener',
    env: { ...process.env, AZRELAY_CACERT: emu.cert },
  });
  try {
    let outcome;
    for (let i = 0; i < 50; i++) {
      const h = await relay.handshake(relay.connectUrl(emu, 'hc3', { token: relay.tokenFor(emu, 'hc3') }));
      if (h.ok) {
        outcome = h.ws;
        break;
      }
      await relay.sleep(200);
    }
    assert.ok(outcome, 'the example came online');
    const reply = relay.nextEvent(outcome, 'message', 10000, 'the echo');
    outcome.send('hello example');
    const [data, isBinary] = await reply;
    assert.equal(isBinary, false);
    assert.equal(data.toString('utf8'), 'hello example');
    outcome.close(1000);
    await ex.waitFor(/Echoed received data back/, 5000, 'stdout');
    assert.match(ex.stdout, /Connection Request From: /);
  } finally {
    const { code } = await ex.stop();
    assert.equal(code, 0, `example exit code; stderr: ${ex.stderr}`);
  }
});
