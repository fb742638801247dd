// SPDX-License-Identifier: MIT
// HTTP mode (§7): small requests and responses on the control channel, requests and responses over
// 64 KB through a rendezvous, `azrelay request` as the sender, and the relay's own error answers
// (no listener, unknown hybrid connection, no token), whose status and body may differ from ours.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { nodeRequest } = require('../../interop/lib/http-sender');
const { EMULATOR, splitReason } = require('../lib/expect');
const { stopProcess } = require('../lib/harness');
const P = require('../lib/peers');

const KiB = 1024;

/** The request commands in a listener's debug log, parsed where whole. */
function requestCommands(stderr) {
  const out = [];
  for (const line of stderr.split('\n')) {
    const i = line.indexOf('command: {"request"');
    if (i < 0) continue;
    try {
      out.push(JSON.parse(line.slice(i + 'command: '.length)).request);
    } catch {
      /* cut off by the log line limit: nothing to read */
    }
  }
  return out;
}

function sha(b) {
  return crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/** POST `body` and check that it comes back unchanged with 200. */
async function postEcho(ctx, url, body, headers) {
  const r = await nodeRequest(url, { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream', ...headers }, timeoutMs: ctx.params.messageMs + body.length / 20 });
  ctx.expect(r.statusCode === 200, `POST of ${body.length} B got ${r.statusCode} ${r.statusMessage}`);
  ctx.expect(Buffer.compare(r.body, body) === 0, `POST of ${body.length} B came back as ${r.body.length} B (sha ${sha(r.body)} vs ${sha(body)})`);
  return r;
}

/** A temporary file with `data`, removed when the check ends. */
function tempFile(ctx, data) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-conformance-'));
  ctx.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'body');
  fs.writeFileSync(f, data);
  return f;
}

const small = {
  id: 'http.small',
  title: 'HTTP requests and responses under 64 KB through `azrelay listen --http-echo`; tokens stripped; Via added',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const hc = t.cs.HTTP.hc;
    const L = await P.cliListener(ctx, t.cs.HTTP.cs, ['--http-echo', '-vv']);
    const token = t.token('HTTP');
    const get = await nodeRequest(`${t.httpUrl(hc, '/small')}?a=1&sb-hc-token=${encodeURIComponent(token)}`, { timeoutMs: ctx.params.messageMs });
    ctx.expect(get.statusCode === 200, `GET with a query token: ${get.statusCode} ${get.statusMessage}`);
    // --http-echo answers a request without body with its request target, as the listener got it.
    ctx.observe('HTTP: requestTarget of GET /small?a=1&sb-hc-token=... as the listener got it', get.body.toString('utf8'), `/${hc}/small?a=1`);
    const body = crypto.randomBytes(KiB);
    const post = await postEcho(ctx, t.httpUrl(hc, '/small'), body, { ServiceBusAuthorization: token, 'X-Conformance': 'http-small' });
    ctx.observe('HTTP response: Via', post.headers.via, `1.1 ${t.host}`);
    // The log is read from a pipe: it may lag behind the responses.
    const cmds = await P.waitUntil(() => (requestCommands(L.stderr).length >= 2 ? requestCommands(L.stderr) : null), 5000, 'two request commands in the listener\'s log');
    const [g, p] = cmds;
    const names = Object.keys(p.requestHeaders || {});
    ctx.observe('HTTP request: requestHeaders names', names.join(', '));
    const leaked = /sb-hc-token/i.test(g.requestTarget || '') || names.some((n) => /^ServiceBusAuthorization$/i.test(n));
    ctx.observe('HTTP request: sender token forwarded to the listener', leaked ? 'yes' : 'no', EMULATOR.httpTokenForwarded);
    ctx.expect(names.some((n) => n.toLowerCase() === 'x-conformance'), 'the sender\'s header X-Conformance did not reach the listener');
    const r = await P.cliRun(ctx, t.cs.HTTP.cs, ['request', '-X', 'POST', '-d', 'hello from azrelay request', '/small']);
    ctx.expect(r.code === 0 && r.stdout.toString('utf8') === 'hello from azrelay request', `azrelay request: exit ${r.code}, body ${JSON.stringify(r.stdout.toString('utf8').slice(0, 60))}`);
    ctx.note('GET, POST 1 KiB, azrelay request: 200');
  },
};

const large = {
  id: 'http.large',
  title: 'HTTP requests and responses over 64 KB (rendezvous both ways, and a small GET with a large answer) arrive unchanged',
  timeout: { emulator: 60, azure: 300 },
  async run(ctx) {
    const t = ctx.target;
    const hc = t.cs.HTTP.hc;
    const L = await P.testListener(ctx, t.cs.HTTP.cs, { mode: 'echo', args: ['--http', 'echo'] });
    const headers = { ServiceBusAuthorization: t.token('HTTP') };
    const sizes = [KiB, 100 * KiB, 2048 * KiB];
    for (const n of sizes) await postEcho(ctx, t.httpUrl(hc, `/large/${n}`), crypto.randomBytes(n), headers);
    const data = crypto.randomBytes(300 * KiB);
    const r = await P.cliRun(ctx, t.cs.HTTP.cs, ['request', '-X', 'POST', '--data-file', tempFile(ctx, data), '/large/cli']);
    ctx.expect(r.code === 0 && Buffer.compare(r.stdout, data) === 0, `azrelay request of 300 KiB: exit ${r.code}, ${r.stdout.length} B back`);
    const seen = L.list('http_request');
    ctx.expect(seen.length === sizes.length + 1, `the listener saw ${seen.length} requests, ${sizes.length + 1} were sent`);
    const via = (e) => (e.rendezvous === 1 ? 'rendezvous' : 'control channel');
    ctx.observe('HTTP request of 1 KiB delivered on', via(seen[0]), EMULATOR.smallRequestPath);
    ctx.observe('HTTP request of 100 KiB delivered on', via(seen[1]), EMULATOR.largeRequestPath);
    ctx.observe('HTTP request of 2 MiB delivered on', via(seen[2]), EMULATOR.largeRequestPath);
    // A small request with a large answer: the listener opens the rendezvous for the response (§7.5).
    await stopProcess(L.proc);
    const file = crypto.randomBytes(1536 * KiB);
    const dir = path.dirname(tempFile(ctx, file));
    await P.cliListener(ctx, t.cs.HTTP.cs, ['--http-dir', dir]);
    const get = await nodeRequest(t.httpUrl(hc, '/body'), { headers, timeoutMs: ctx.params.messageMs + file.length / 20 });
    ctx.expect(get.statusCode === 200 && Buffer.compare(get.body, file) === 0, `GET of a 1.5 MiB file: ${get.statusCode}, ${get.body.length} B (sha ${sha(get.body)} vs ${sha(file)})`);
    ctx.note('1 KiB, 100 KiB, 2 MiB and 300 KiB (azrelay request) echoed; 1.5 MiB GET from azrelay listen --http-dir');
  },
};

/** Records one of the relay's own HTTP error answers. */
function observeHttpError(ctx, what, r, status) {
  ctx.observe(`${what}: status`, r.statusCode, status);
  ctx.observe(`${what}: reason`, splitReason(r.statusMessage).text);
  const code = /"code"\s*:\s*"([^"]*)"/.exec(r.body.toString('utf8'));
  ctx.observe(`${what}: error code in the body`, code ? code[1] : `(none; ${r.headers['content-type'] || 'no content type'})`);
  ctx.observe(`${what}: Via`, r.headers.via ? 'present' : 'absent', EMULATOR.httpViaOnErrors);
}

const errors = {
  id: 'http.errors',
  title: 'the relay\'s HTTP errors: no listener, unknown hybrid connection, no token; azrelay request exits 5, 4, 3',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const hc = t.cs.HTTP.hc;
    const missing = t.missingHc();
    // Every answer is recorded before anything is required of it, so that a run against Azure
    // reports all of them even when one check below fails.
    const none = await nodeRequest(t.httpUrl(hc, '/nobody'), { method: 'POST', body: Buffer.from('x'), headers: { ServiceBusAuthorization: t.token('HTTP') }, timeoutMs: ctx.params.messageMs });
    observeHttpError(ctx, 'HTTP, no listener', none, EMULATOR.httpNoListenerStatus);
    const unknown = await nodeRequest(t.httpUrl(missing, '/x'), { headers: { ServiceBusAuthorization: t.token('HTTP', { hc: missing }) }, timeoutMs: ctx.params.messageMs });
    observeHttpError(ctx, 'HTTP, unknown hybrid connection', unknown, EMULATOR.httpUnknownEntityStatus);
    const noToken = await nodeRequest(t.httpUrl(hc, '/x'), { timeoutMs: ctx.params.messageMs });
    observeHttpError(ctx, 'HTTP, no token', noToken, EMULATOR.httpMissingTokenStatus);
    const r5 = await P.cliRun(ctx, t.cs.HTTP.cs, ['request', '/nobody']);
    const r4 = await P.cliRun(ctx, t.variant('HTTP', { entity: missing }), ['request', '/x']);
    const r3 = await P.cliRun(ctx, t.variant('HTTP', { key: t.wrongKey }), ['request', '/x']);
    ctx.expect(none.statusCode >= 400, `a request without listener got ${none.statusCode}`);
    ctx.expect(unknown.statusCode >= 400, `a request to an unknown hybrid connection got ${unknown.statusCode}`);
    ctx.expect(noToken.statusCode === 401 || noToken.statusCode === 403, `a request without token got ${noToken.statusCode}`);
    ctx.expect(r5.code === 5, `azrelay request without listener exited with ${r5.code}, expected 5 (${lastLine(r5.stderr)})`);
    ctx.expect(r4.code === 4, `azrelay request to an unknown hybrid connection exited with ${r4.code}, expected 4 (${lastLine(r4.stderr)})`);
    ctx.expect(r3.code === 3, `azrelay request with a wrong key exited with ${r3.code}, expected 3 (${lastLine(r3.stderr)})`);
    ctx.note(`no listener ${none.statusCode}, unknown ${unknown.statusCode}, no token ${noToken.statusCode}; request exits 5, 4, 3`);
  },
};

function lastLine(text) {
  return String(text).trim().split('\n').pop();
}

module.exports = { checks: [small, large, errors] };
