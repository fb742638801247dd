// SPDX-License-Identifier: MIT
// Authorization (§3): a wrong key, rules that may only Listen or only Send, senders without a token
// with and without requiresClientAuthorization, and tokens printed by `azrelay token` in both places a
// sender may carry them (§3.4). The relay's status and reason are recorded where they may differ.
'use strict';

const { EMULATOR } = require('../lib/expect');
const P = require('../lib/peers');
const { observeRefusal, echoOnce, acceptCommands } = require('./relay');

const wrongKey = {
  id: 'auth.wrong_key',
  title: 'a wrong key: listener and sender refused (401); listen and connect exit 3',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const hc = t.cs.AUTH.hc;
    const token = t.token('AUTH', { key: t.wrongKey });
    const l = await P.listenHandshake(ctx, hc, token);
    observeRefusal(ctx, 'listener, wrong key', l, EMULATOR.badSignatureStatus, EMULATOR.badSignatureText);
    const s = await P.wsSender(ctx, hc, token);
    observeRefusal(ctx, 'sender, wrong key', s, EMULATOR.badSignatureStatus, EMULATOR.badSignatureText);
    const cs = t.variant('AUTH', { key: t.wrongKey });
    const listen = await P.cliRun(ctx, cs, ['listen', '--echo'], { timeoutMs: 30000 });
    ctx.expect(listen.code === 3, `azrelay listen exited with ${listen.code}, expected 3 (credentials refused)`);
    const connect = await P.cliRun(ctx, cs, ['connect', '-m', '30'], { input: 'x\n' });
    ctx.expect(connect.code === 3, `azrelay connect exited with ${connect.code}, expected 3`);
    ctx.note(`listener ${l.statusCode}, sender ${s.statusCode}; listen and connect exit 3`);
  },
};

const listenOnly = {
  id: 'auth.listen_only_rule',
  title: 'a Listen-only rule listens, but cannot send (401/403); connect exits 3',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    await P.testListener(ctx, t.cs.LISTEN_ONLY.cs, { mode: 'echo' });
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('LISTEN_ONLY'));
    observeRefusal(ctx, 'sender with a Listen-only rule', s, EMULATOR.missingRightStatus, EMULATOR.missingSendText);
    ctx.expect([401, 403].includes(s.statusCode), `a missing Send right got ${s.statusCode}, expected 401 or 403`);
    const c = await P.cliRun(ctx, t.cs.LISTEN_ONLY.cs, ['connect', '-m', '30'], { input: 'x\n' });
    ctx.expect(c.code === 3, `azrelay connect exited with ${c.code}, expected 3 (credentials refused)`);
    const ok = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'));
    ctx.expect(ok.ok, `a sender with Send rights did not reach the Listen-only listener: ${P.describeHandshake(ok)}`);
    await echoOnce(ctx, ok, 'to the listen-only listener');
    ctx.note(`listened; sending refused with ${s.statusCode}`);
  },
};

const sendOnly = {
  id: 'auth.send_only_rule',
  title: 'a Send-only rule sends, but cannot listen (401/403); listen exits 3',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const l = await P.listenHandshake(ctx, t.cs.AUTH.hc, t.token('SEND_ONLY'));
    observeRefusal(ctx, 'listener with a Send-only rule', l, EMULATOR.missingRightStatus, EMULATOR.missingListenText);
    ctx.expect([401, 403].includes(l.statusCode), `a missing Listen right got ${l.statusCode}, expected 401 or 403`);
    const listen = await P.cliRun(ctx, t.cs.SEND_ONLY.cs, ['listen', '--echo'], { timeoutMs: 30000 });
    ctx.expect(listen.code === 3, `azrelay listen exited with ${listen.code}, expected 3 (credentials refused)`);
    await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo' });
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('SEND_ONLY'));
    ctx.expect(s.ok, `a sender with the Send-only rule was refused: ${P.describeHandshake(s)}`);
    await echoOnce(ctx, s, 'from the send-only rule');
    const c = await P.cliRun(ctx, t.cs.SEND_ONLY.cs, ['connect', '-m', '30'], { input: 'line from azrelay connect\n' });
    ctx.expect(c.code === 0 && c.stdout.toString('utf8') === 'line from azrelay connect\n', `azrelay connect with the Send-only rule: exit ${c.code}, output ${JSON.stringify(c.stdout.toString('utf8').slice(0, 60))}`);
    ctx.note(`listening refused with ${l.statusCode}; sending works (ws and azrelay connect)`);
  },
};

const clientAuthorization = {
  id: 'auth.client_authorization',
  title: 'senders without a token: refused where client authorization is required, served where it is not',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo', label: 'listener on AUTH' });
    const refused = await P.wsSender(ctx, t.cs.AUTH.hc, null);
    observeRefusal(ctx, 'sender without a token (authorization required)', refused, EMULATOR.missingTokenStatus, EMULATOR.missingTokenText);
    await P.testListener(ctx, t.cs.NOAUTH.cs, { mode: 'echo', label: 'listener on NOAUTH' });
    const s = await P.wsSender(ctx, t.cs.NOAUTH.hc, null);
    ctx.expect(s.ok, `a sender without a token was refused by ${t.cs.NOAUTH.hc} (requiresClientAuthorization=false?): ${P.describeHandshake(s)}`);
    await echoOnce(ctx, s, 'no token needed');
    ctx.note(`AUTH refused with ${refused.statusCode}; NOAUTH served`);
  },
};

const tokenCarriers = {
  id: 'auth.token_carriers',
  title: 'a token from `azrelay token` works in the ServiceBusAuthorization header and in sb-hc-token; neither reaches the listener',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const tok = await P.cliRun(ctx, t.cs.AUTH.cs, ['token', '--ttl', '600']);
    ctx.expect(tok.code === 0, `azrelay token exited with ${tok.code}`);
    const token = tok.stdout.toString('utf8').trim();
    t.secrets.add(token);
    t.secrets.add(encodeURIComponent(token));
    ctx.expect(/^SharedAccessSignature /.test(token), 'azrelay token printed no SharedAccessSignature token');
    const L = await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo', logLevel: 3 });
    const inHeader = await P.wsSender(ctx, t.cs.AUTH.hc, token, { label: 'sender, token in header' });
    ctx.expect(inHeader.ok, `the header token was refused: ${P.describeHandshake(inHeader)}`);
    await echoOnce(ctx, inHeader, 'token in the header');
    const inQuery = await P.wsSender(ctx, t.cs.AUTH.hc, { query: token }, { label: 'sender, token in query' });
    ctx.expect(inQuery.ok, `the sb-hc-token token was refused: ${P.describeHandshake(inQuery)}`);
    await echoOnce(ctx, inQuery, 'token in the query');
    const cmds = await P.waitUntil(() => (acceptCommands(L.stderrText).length >= 2 ? acceptCommands(L.stderrText) : null), 5000, 'two accept commands in the listener\'s log');
    // The library's log redacts token values, so the names are what shows a token leaking.
    const leaked = cmds.some((c) => /sb-hc-token/i.test(c.address || '') || Object.keys(c.connectHeaders || {}).some((n) => /^ServiceBusAuthorization$/i.test(n)));
    ctx.observe('sender token (header or sb-hc-token) visible to the listener', leaked ? 'yes' : 'no', 'no');
    ctx.note('header and query tokens accepted');
  },
};

module.exports = { checks: [wrongKey, listenOnly, sendOnly, clientAuthorization, tokenCarriers] };
