// SPDX-License-Identifier: MIT
// HTTP request/response mode (§7) with Microsoft's hyco-https listener, requests sent by curl and
// by Node's https client; then the listener quirks of §5.6/§13.2 with a raw `ws` listener.
// Run through lib/run-with-emulator.js with `--hc hc1,hc2 --set HttpResponseTimeoutMs=3000`.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const hycoHttps = require('hyco-https');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const { nodeRequest, curlRequest, patternBytes } = require('./lib/http-sender');

relay.watchdog(150000, 'https');
const emu = relay.emulator();
const RESPONSE_TIMEOUT_MS = 3000; // must match --set HttpResponseTimeoutMs in interop.cmake
const KB = 1024;
const MiB = 1024 * 1024;
const STATUS_TEXT = 'Created Just For You';
const CUSTOM_VALUE = 'custom value; with=chars, (and) "quotes"';

let server;
const seen = new Map(); // rid -> what the hyco-https listener saw
const listenerErrors = []; // errors inside hyco-https, reported with the next failing case
const hycoSockets = new Set(); // rendezvous sockets hyco-https opened (it keeps them open, §7.5)

function sendToken(hc) {
  return relay.tokenFor(emu, hc);
}

before(async () => {
  const resourceUri = `https://${emu.host}:${emu.port}/$hc/hc1`;
  server = hycoHttps.createRelayedServer(
    {
      server: relay.listenUrl(emu, 'hc1'),
      token: () => hycoHttps.createRelayToken(resourceUri, emu.keyName, emu.key),
    },
    (req, res) => {
      // hyco-https opens a rendezvous socket for large responses (§7.5) without an error handler;
      // record its errors so that a failing case can say why.
      res.on('socket', (ws) => {
        if (ws === server.controlChannel || hycoSockets.has(ws)) return;
        hycoSockets.add(ws);
        ws.on('error', (e) => listenerErrors.push(`response socket: ${e.message || e}`));
      });
      const chunks = [];
      req.on('data', (c) => chunks.push(Buffer.from(c)));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const u = new URL(req.url, 'http://placeholder');
        const rid = u.searchParams.get('rid') || '';
        seen.set(rid, { method: req.method, url: req.url, headers: req.headers, length: body.length, sha: relay.sha256(body) });
        const respBody = patternBytes(Number(u.searchParams.get('resp') || 0), `resp-${rid}`);
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('X-Custom-Header', CUSTOM_VALUE);
        res.setHeader('X-Request-Sha256', relay.sha256(body));
        res.setHeader('X-Request-Length', String(body.length));
        res.setHeader('X-Request-Method', req.method);
        res.writeHead(201, STATUS_TEXT);
        // hyco-https sends nothing at all for end(<empty buffer>); end() is how apps finish empty.
        if (respBody.length) res.end(respBody);
        else res.end();
      });
    },
  );
  server.on('error', (e) => process.stderr.write(`hyco-https listener error: ${e && (e.message || e)}\n`));
  server.on('requestchannel', (ws) => hycoSockets.add(ws));
  const listening = relay.nextEvent(server, 'listening', 15000, 'the hyco-https listener to come online');
  server.listen();
  await listening;
});

after(async () => {
  if (server) {
    server.close();
    // hyco-https does not track these itself; left open they would keep this process alive.
    for (const ws of hycoSockets) ws.terminate();
    await relay.sleep(100);
  }
});

// hyco-https answers an empty GET with "body":true + an empty frame and HEAD with "body":false +
// an empty frame (§5.6 rules 1 and 2); the cases after them show the control channel still works.
const CASES = [
  { method: 'GET', req: 0, resp: 0 },
  { method: 'HEAD', req: 0, resp: 0, clients: ['node'] },
  { method: 'GET', req: 0, resp: KB },
  { method: 'GET', req: 0, resp: MiB },
  { method: 'POST', req: KB, resp: KB },
  { method: 'POST', req: MiB, resp: KB },
  { method: 'POST', req: KB, resp: MiB },
  { method: 'POST', req: MiB, resp: MiB },
];

let ridCounter = 0;

async function checkCase(client, c) {
  const rid = `${client}-${c.method}-${c.req}-${c.resp}-${++ridCounter}`;
  const url = relay.httpsUrl(emu, 'hc1', { suffix: '/echo', query: `rid=${rid}&resp=${c.resp}` });
  const reqBody = c.req ? patternBytes(c.req, `req-${rid}`) : null;
  const headers = { ServiceBusAuthorization: sendToken('hc1'), 'X-Sender-Header': 'sender value' };
  if (reqBody) headers['Content-Type'] = 'application/octet-stream';
  const r =
    client === 'curl'
      ? await curlRequest(url, { method: c.method, headers, body: reqBody, cacert: emu.cert })
      : await nodeRequest(url, { method: c.method, headers, body: reqBody });
  const what = `${client} ${c.method} request ${c.req} B / response ${c.resp} B`;
  assert.equal(r.statusCode, 201, `${what}: status ${r.statusCode} ${r.statusMessage} ${r.body.toString('utf8', 0, 300)}`);
  assert.equal(r.statusMessage, STATUS_TEXT, `${what}: reason phrase`);
  assert.equal(r.headers['x-custom-header'], CUSTOM_VALUE, `${what}: custom header`);
  assert.equal(r.headers['content-type'], 'application/octet-stream', `${what}: content-type`);
  assert.equal(r.headers['x-request-method'], c.method, `${what}: method at the listener`);
  assert.equal(r.headers['x-request-length'], String(c.req), `${what}: request length at the listener`);
  assert.equal(r.headers['x-request-sha256'], relay.sha256(reqBody || Buffer.alloc(0)), `${what}: request body sha256 at the listener`);
  const want = patternBytes(c.resp, `resp-${rid}`);
  assert.equal(r.body.length, want.length, `${what}: response body length`);
  assert.equal(relay.sha256(r.body), relay.sha256(want), `${what}: response body sha256`);
  const s = seen.get(rid);
  assert.ok(s, `${what}: the listener saw the request`);
  assert.ok(s.url.startsWith('/hc1/echo?'), `${what}: requestTarget ${s.url}`);
  assert.equal(s.headers['x-sender-header'], 'sender value', `${what}: sender header forwarded`);
  assert.ok(!('servicebusauthorization' in s.headers), `${what}: the token header must be stripped (§3.4)`);
  return r;
}

for (const client of ['curl', 'node']) {
  for (const c of CASES.filter((x) => !x.clients || x.clients.includes(client))) {
    const name = `hyco-https listener answers ${client} ${c.method}: request ${c.req} B, response ${c.resp} B`;
    test(name, { timeout: 30000 }, async () => {
      listenerErrors.length = 0;
      try {
        await checkCase(client, c);
      } catch (e) {
        if (listenerErrors.length) e.message += `\nerrors inside the hyco-https listener: ${listenerErrors.join('; ')}`;
        throw e;
      }
    });
  }
}

test('listener responses carry Via; the token in the query is accepted and stripped', { timeout: 20000 }, async () => {
  const rid = `via-${++ridCounter}`;
  const url = relay.httpsUrl(emu, 'hc1', { suffix: '/echo', query: `rid=${rid}&resp=10`, token: sendToken('hc1') });
  const r = await nodeRequest(url);
  assert.equal(r.statusCode, 201);
  assert.ok(r.headers.via && r.headers.via.includes('1.1 '), `Via: ${r.headers.via}`);
  const s = seen.get(rid);
  assert.ok(s, 'the listener saw the request');
  assert.doesNotMatch(s.url, /sb-hc-token/i, `requestTarget ${s.url}`);
});

// ---- quirks, against a raw control-channel listener on hc2 -------------------------------------

let raw;

async function rawListener() {
  if (!raw || !raw.isOpen) raw = await RawListener.open(relay.listenUrl(emu, 'hc2'), { token: relay.tokenFor(emu, 'hc2') });
  return raw;
}

after(async () => {
  if (raw) await raw.close();
});

function hc2Url(suffix, query) {
  return relay.httpsUrl(emu, 'hc2', { suffix, query });
}

/** Sends a request and hands the listener side's `request` command to `answer`. */
async function exchange(sendFn, answer) {
  const l = await rawListener();
  const pending = sendFn();
  pending.catch(() => {}); // observed below; avoid an unhandled rejection while answering
  const cmd = await l.next('request', 10000);
  await answer(l, cmd.msg.request, cmd);
  return pending;
}

test('statusCode as a JSON string and lower-case response header names are accepted', { timeout: 20000 }, async () => {
  const r = await exchange(
    () => curlRequest(hc2Url('/quirk1'), { headers: { ServiceBusAuthorization: sendToken('hc2') }, cacert: emu.cert }),
    (l, req) =>
      l.sendText({
        response: {
          requestId: req.id,
          statusCode: '200',
          statusDescription: 'OK from a string',
          responseHeaders: { 'content-type': 'text/plain; charset=utf-8', 'x-lower-case': 'yes' },
          body: true,
        },
      }).then(() => l.sendBinary(Buffer.from('hello quirks'))),
  );
  assert.equal(r.statusCode, 200);
  assert.equal(r.statusMessage, 'OK from a string');
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(r.headers['x-lower-case'], 'yes');
  assert.equal(r.body.toString('utf8'), 'hello quirks');
});

test('an empty binary frame after a "body":false response is dropped; the channel keeps working', { timeout: 20000 }, async () => {
  const headers = { ServiceBusAuthorization: sendToken('hc2') };
  const r1 = await exchange(
    () => nodeRequest(hc2Url('/quirk2a'), { headers }),
    async (l, req) => {
      // What hyco-https does for HEAD/204/304 (§13.2): body:false, then a stray empty binary frame.
      await l.sendText({ response: { requestId: req.id, statusCode: 204, statusDescription: 'No Content', responseHeaders: {}, body: false } });
      await l.sendBinary(Buffer.alloc(0));
    },
  );
  assert.equal(r1.statusCode, 204);
  assert.equal(r1.body.length, 0);
  // "body":true with a zero-length body (§5.6 rule 2) on the same channel.
  const r2 = await exchange(
    () => nodeRequest(hc2Url('/quirk2b'), { headers }),
    (l, req) => l.respond(req.id, { statusCode: 200, statusDescription: 'OK', body: Buffer.alloc(0) }),
  );
  assert.equal(r2.statusCode, 200);
  assert.equal(r2.body.length, 0);
  const r3 = await exchange(
    () => nodeRequest(hc2Url('/quirk2c'), { method: 'POST', headers, body: Buffer.from('third request body') }),
    (l, req, cmd) => {
      assert.equal(cmd.body && cmd.body.toString('utf8'), 'third request body', 'the next request keeps its own body');
      return l.respond(req.id, { statusCode: 202, statusDescription: 'Accepted', body: 'third response' });
    },
  );
  assert.equal(r3.statusCode, 202);
  assert.equal(r3.body.toString('utf8'), 'third response');
  assert.ok(raw.isOpen, 'the control channel is still open');
  assert.deepEqual(raw.reader.stray, [], 'the emulator sent no stray binary frames');
});

test('a response after the request timed out: the sender got 504 JSON, the late response is dropped', { timeout: 30000 }, async () => {
  const headers = { ServiceBusAuthorization: sendToken('hc2') };
  const l = await rawListener();
  const started = Date.now();
  const pending = nodeRequest(hc2Url('/slow'), { headers });
  const cmd = await l.next('request', 10000);
  const r = await pending; // never answered in time
  const elapsed = Date.now() - started;
  assert.equal(r.statusCode, 504, `status ${r.statusCode} ${r.statusMessage}`);
  assert.ok(elapsed >= RESPONSE_TIMEOUT_MS - 250, `504 after ${elapsed} ms, before HttpResponseTimeoutMs`);
  assert.ok(elapsed <= RESPONSE_TIMEOUT_MS + 5000, `504 only after ${elapsed} ms`);
  assert.match(r.headers['content-type'] || '', /application\/json/);
  assert.equal(r.headers.via, undefined, 'a service error carries no Via (§7.8)');
  const err = JSON.parse(r.body.toString('utf8'));
  assert.equal(err.error.code, 'GatewayTimeout');
  assert.ok(
    err.error.message.startsWith('The request was routed to the listener but the listener did not respond in the required time.'),
    err.error.message,
  );
  // The listener answers late, with a body; the emulator must swallow both messages.
  await l.respond(cmd.msg.request.id, { statusCode: 200, statusDescription: 'Too late', body: 'late body' });
  const r2 = await exchange(
    () => nodeRequest(hc2Url('/after-late'), { method: 'POST', headers, body: Buffer.from('fresh') }),
    (ll, req, c) => {
      assert.equal(c.body && c.body.toString('utf8'), 'fresh');
      return ll.respond(req.id, { statusCode: 200, statusDescription: 'OK', body: 'on time' });
    },
  );
  assert.equal(r2.statusCode, 200);
  assert.equal(r2.body.toString('utf8'), 'on time');
  assert.ok(raw.isOpen, 'the control channel is still open');
});

test('a streamed response kept alive by trickling lives on; once idle for HttpResponseTimeoutMs it is cut (§7.7)', { timeout: 40000 }, async () => {
  const https = require('node:https');
  const l = await rawListener();
  const u = new URL(hc2Url('/trickle'));
  const got = { bytes: 0, status: 0, ended: false, error: null, at: 0 };
  const done = new Promise((resolve) => {
    const req = https.request({ hostname: u.hostname, port: u.port, path: u.pathname, method: 'GET',
      headers: { ServiceBusAuthorization: sendToken('hc2') }, agent: new https.Agent({ keepAlive: false }) }, (res) => {
      got.status = res.statusCode;
      res.on('data', (c) => { got.bytes += c.length; });
      res.on('end', () => { got.ended = true; got.at = Date.now(); resolve(); });
      res.on('error', (e) => { got.error = e; got.at = Date.now(); resolve(); });
      res.on('aborted', () => { got.error = got.error || new Error('aborted'); got.at = Date.now(); resolve(); });
    });
    req.on('error', (e) => { got.error = e; got.at = Date.now(); resolve(); });
    req.end();
  });
  const cmd = await l.next('request', 10000);
  const r = await relay.handshake(cmd.msg.request.address, { timeoutMs: 10000 });
  assert.ok(r.ok, `rendezvous handshake: ${r.statusCode}`);
  const ws = r.ws;
  const send = (data, opts) => new Promise((res, rej) => ws.send(data, opts, (e) => (e ? rej(e) : res())));
  await send(JSON.stringify({ response: { requestId: cmd.msg.request.id, statusCode: 200, body: true } }), { binary: false });
  // One body message, in fragments 1 s apart for twice the timeout: never idle that long.
  const piece = Buffer.alloc(1000, 0x61);
  const trickleMs = 2 * RESPONSE_TIMEOUT_MS;
  let lastSent = 0;
  for (let t = 0; t < trickleMs; t += 1000) {
    await send(piece, { binary: true, fin: false });
    lastSent = Date.now();
    await new Promise((res) => setTimeout(res, 1000));
  }
  assert.equal(got.status, 200);
  assert.equal(got.error, null, 'the trickled response is still alive');
  await done; // no more fragments: the emulator must end it
  const idle = got.at - lastSent;
  assert.ok(!got.ended, 'an idle response is cut off (the sender must not take it for complete)');
  assert.ok(got.error, 'the sender sees the response aborted');
  assert.ok(idle >= RESPONSE_TIMEOUT_MS - 250 && idle <= RESPONSE_TIMEOUT_MS + 3000, `cut after ${idle} ms idle`);
  assert.ok(got.bytes >= (trickleMs / 1000) * piece.length, `the trickled bytes arrived (${got.bytes})`);
  const closed = await relay.withTimeout(new Promise((res) => (ws.readyState === 3 ? res(0) : ws.on('close', (code) => res(code)))), 5000, 'the rendezvous to close')
    .catch(() => null);
  assert.ok(closed !== null, 'the listener rendezvous was closed too');
});
