// SPDX-License-Identifier: MIT
// Microsoft's Node package hyco-ws against our side: its relayedConnect() sender against `azrelay
// listen --echo`, and `azrelay connect` against its createRelayedServer() listener.
'use strict';

const crypto = require('node:crypto');
const WS = require('../lib/npm').npmRequire('hyco-ws');
const relay = require('../../interop/lib/relay');
const { MessageQueue, send } = require('../../interop/lib/ws1-queue');
const { connectOutcome } = require('../../interop/lib/hyco-sender');
const P = require('../lib/peers');

/** A token made by hyco-ws's own helper (its audience form, §3.3). */
function hycoToken(ctx, name) {
  const t = ctx.target;
  const c = t.cs[name];
  const token = WS.createRelayToken(`http://${t.host}/${c.hc}`, c.keyName, c.key);
  t.secrets.add(token);
  return token;
}

const hycoSender = {
  id: 'interop.hyco_ws_sender',
  title: 'Microsoft\'s hyco-ws sender against `azrelay listen --echo`: text, binary, close code',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    await P.cliListener(ctx, t.cs.AUTH.cs, ['--echo']);
    const r = await connectOutcome(t.wsUrl(t.cs.AUTH.hc), hycoToken(ctx, 'AUTH'), ctx.params.handshakeMs);
    ctx.expect(r.ok, `hyco-ws relayedConnect was refused: ${r.statusCode} ${r.statusMessage}`);
    ctx.defer(() => r.ws.terminate());
    const q = new MessageQueue(r.ws, 'hyco-ws sender');
    const text = 'hyco-ws says hello ' + 'x'.repeat(100 * 1024);
    const bin = crypto.randomBytes(1024 * 1024);
    await send(r.ws, text, false);
    const a = await q.next(ctx.params.messageMs);
    ctx.expect(!a.binary && a.data === text, 'the text echo differs');
    await send(r.ws, bin, true);
    const b = await q.next(ctx.params.messageMs);
    ctx.expect(b.binary && Buffer.compare(b.data, bin) === 0, 'the binary echo differs');
    r.ws.close(1000, 'hyco-ws done');
    const closed = await relay.withTimeout(q.closed, ctx.params.messageMs, 'the close handshake');
    ctx.expect(closed.code === 1000, `the close came back as ${closed.code} ${closed.reason}`);
    ctx.note(`opened in ${r.elapsedMs} ms; 100 KiB text and 1 MiB binary echoed; closed 1000`);
  },
};

const hycoListener = {
  id: 'interop.hyco_ws_listener',
  title: '`azrelay connect` against Microsoft\'s hyco-ws listener: lines out, echoes back, exit 0',
  timeout: { emulator: 45, azure: 120 },
  async run(ctx) {
    const t = ctx.target;
    const server = WS.createRelayedServer({ server: t.wsUrl(t.cs.AUTH.hc, 'listen'), token: () => hycoToken(ctx, 'AUTH') }, (ws) => {
      ws.on('message', (data, flags) => ws.send(data, { binary: !!(flags && flags.binary) }));
    });
    const errors = [];
    server.on('error', (e) => errors.push(String((e && e.message) || e)));
    ctx.defer(() => server.close());
    await relay.nextEvent(server, 'listening', ctx.params.readyMs, 'the hyco-ws listener to come online');
    // 16 KiB, not more: connect grows its line buffer a byte at a time, which is quadratic (60 KiB
    // took 25 s under ASan); the data path is covered by the other checks.
    const lines = ['first line', 'y'.repeat(16 * 1024), 'last line'];
    const input = lines.join('\n') + '\n';
    const c = await P.cliRun(ctx, t.cs.AUTH.cs, ['connect', '-m', '60'], { input, timeoutMs: 70000 });
    ctx.expect(c.code === 0, `azrelay connect exited with ${c.code}: ${c.stderr.trim().split('\n').pop()}`);
    ctx.expect(c.stdout.toString('utf8') === input, `azrelay connect printed ${c.stdout.length} B, expected the ${input.length} B it sent`);
    ctx.log(`hyco-ws listener errors: ${errors.join(' | ') || 'none'}`);
    ctx.note(`3 lines (up to 16 KiB) echoed in ${c.ms} ms`);
  },
};

module.exports = { checks: [hycoSender, hycoListener] };
