// SPDX-License-Identifier: MIT
// The checks that take time, run side by side on three hybrid connections: token renewal with
// short-lived tokens (§3.7), the relay closing a control channel whose token expired, and a listener
// and an accepted connection left idle past the load balancers' cut-off (§5.8), kept alive by
// AzureRelayKeepAliveTime.
'use strict';

const { spawn } = require('node:child_process');
const relay = require('../../interop/lib/relay');
const { Skip } = require('../lib/harness');
const { EMULATOR, splitReason } = require('../lib/expect');
const P = require('../lib/peers');
const { echoOnce } = require('./relay');

const renewal = {
  id: 'token.renewal',
  title: 'a short-lived token provider: renewals keep our listener\'s control channel up over several token lifetimes',
  timeout: { emulator: 60, azure: 900 },
  async run(ctx) {
    const t = ctx.target;
    const { tokenValidityS: V, renewThresholdS: T, renewObserveS: O } = ctx.params;
    const started = Date.now();
    // azr_listener_set_token_provider(): every token (connect and renewals) comes from the
    // application, here signed for V seconds; the listener renews T seconds before expiry.
    const L = await P.testListener(ctx, t.cs.HTTP.cs, { mode: 'echo', sets: [`AutoRenewThreshold=${T}`], args: ['--token-provider-ttl', String(V)] });
    while (Date.now() - started < O * 1000 && !ctx.aborted && !L.exitInfo) await relay.sleep(500);
    ctx.expect(L.list('control_closed').length === 0, `the control channel was closed: ${L.list('control_closed').map((e) => e.line).join('; ')}`);
    ctx.expect(L.list('listening').length === 1, `the listener went online ${L.list('listening').length} times (reconnects)`);
    ctx.expect(L.list('listener_error').length === 0, `listener errors: ${L.list('listener_error').map((e) => e.line).join('; ')}`);
    const renewals = L.list('status').filter((e) => e.event === 'TokenRenewed').length;
    const provided = L.list('token_provided').filter((e) => e.rc === 0).length;
    const expected = Math.floor(O / (V - T)) - 1;
    ctx.expect(renewals >= expected, `${renewals} renewals in ${O} s, expected at least ${expected} (every ${V - T} s)`);
    ctx.expect(provided >= renewals + 1, `the token provider signed ${provided} tokens for 1 connect and ${renewals} renewals`);
    const s = await P.wsSender(ctx, t.cs.HTTP.hc, t.token('HTTP'));
    ctx.expect(s.ok, `a sender was refused after the renewals: ${P.describeHandshake(s)}`);
    await echoOnce(ctx, s, 'still listening after renewals');
    ctx.note(`${renewals} renewals with ${provided} provider tokens of ${V} s over ${O} s (${(O / V).toFixed(1)} lifetimes)`);
  },
};

const expired = {
  id: 'token.expiry_enforced',
  title: 'the relay closes a control channel whose token expired and was not renewed (so renewal is needed)',
  timeout: { emulator: 60, azure: 900 },
  async run(ctx) {
    const t = ctx.target;
    const hc = t.cs.NOAUTH.hc;
    // A raw control channel (ws 8) that never renews: our listener would renew, even with a
    // pre-issued token (it repeats it), and a rejected renewal is closed for another reason.
    const expiry = relay.nowSeconds() + ctx.params.expiryTokenS;
    const r = await P.listenHandshake(ctx, hc, t.token('NOAUTH', { expiry }), { keep: true });
    ctx.expect(r.ok, `the control channel was refused: ${P.describeHandshake(r)}`);
    // Unsolicited Pongs keep the flow from looking idle to load balancers (§5.8), as our listener does.
    const keepAlive = setInterval(() => r.ws.pong(), Math.min(20, ctx.params.keepAliveS || 20) * 1000);
    ctx.defer(() => clearInterval(keepAlive));
    const closed = new Promise((resolve) => r.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    const waitMs = (ctx.params.expiryTokenS + ctx.params.expiryWaitS) * 1000;
    const c = await relay.withTimeout(closed, waitMs, 'the close').catch(() => null);
    if (!c) {
      ctx.observe('control channel with an expired token', `still open ${ctx.params.expiryWaitS} s after expiry`, 'closed with 1008');
      ctx.note(`not closed within ${ctx.params.expiryWaitS} s after expiry`);
      return;
    }
    const after = Date.now() / 1000 - expiry;
    ctx.observe('expired token: close code', c.code, EMULATOR.expiredCloseCode);
    ctx.observe('expired token: close reason', splitReason(c.reason).text, EMULATOR.expiredCloseText);
    ctx.observe('expired token: closed this long after expiry', `${Math.round(after)} s`);
    ctx.expect(after > -2, `the control channel was closed ${(-after).toFixed(1)} s before its token expired`);
    ctx.note(`closed ${c.code} ${after.toFixed(1)} s after expiry`);
  },
};

/** `azrelay connect` with stdin kept open: write lines, wait for their echoes on stdout. */
function interactiveConnect(ctx, cs, args) {
  const p = spawn(process.env.AZRELAY_BIN, P.cliArgs(ctx, ['connect', ...args]), { env: ctx.target.env(cs), stdio: ['pipe', 'pipe', 'pipe'] });
  const state = { stdout: '', stderr: '' };
  p.stdout.on('data', (d) => (state.stdout += d.toString('utf8')));
  p.stderr.on('data', (d) => (state.stderr += d.toString('utf8')));
  p.stdin.on('error', () => {});
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  ctx.track(p, { label: 'azrelay connect (idle sender)', output: () => `--- stdout ---\n${state.stdout.slice(-2000)}\n--- stderr ---\n${state.stderr}` });
  return {
    exited,
    async line(text, ms) {
      p.stdin.write(text + '\n');
      const end = Date.now() + ms;
      while (!state.stdout.includes(text + '\n')) {
        if (p.exitCode !== null) throw new Error(`azrelay connect exited (${p.exitCode}) before "${text}" came back`);
        if (Date.now() > end) throw new Error(`"${text}" did not come back within ${ms} ms`);
        await relay.sleep(50);
      }
    },
    end() {
      p.stdin.end();
    },
  };
}

const idle = {
  id: 'idle.keepalive',
  title: 'a listener and an accepted connection left idle past the load balancer cut-off stay up (keep-alive)',
  timeout: { emulator: 60, azure: 900 },
  async run(ctx) {
    const t = ctx.target;
    const { idleS, keepAliveS } = ctx.params;
    if (ctx.profile === 'emulator' && !ctx.params.emulatorIdleMs) {
      throw new Skip('this emulator has no IdleTimeoutMs setting, so no idle cut-off to survive: nothing would be proven');
    }
    // Both ends keep alive with the run's AzureRelayKeepAliveTime (peers.js): the library's 30 s against Azure.
    const L = await P.testListener(ctx, t.cs.AUTH.cs, { mode: 'echo' });
    const conn = interactiveConnect(ctx, t.cs.AUTH.cs, []);
    await conn.line('before the idle time', ctx.params.messageMs);
    const c = L.list('connected')[0];
    ctx.expect(c, 'the listener reported no connection');
    const idleStart = Date.now();
    while (Date.now() - idleStart < idleS * 1000 && !ctx.aborted) await relay.sleep(500);
    await conn.line('after the idle time', ctx.params.messageMs);
    ctx.expect(L.list('disconnected').length === 0, `the accepted connection ended during the idle time: ${L.list('disconnected').map((e) => e.line).join('; ')}`);
    ctx.expect(L.list('control_closed').length === 0 && L.list('listening').length === 1, `the control channel did not stay up: ${L.list('control_closed').map((e) => e.line).join('; ') || L.list('listening').length + ' times online'}`);
    const s = await P.wsSender(ctx, t.cs.AUTH.hc, t.token('AUTH'));
    ctx.expect(s.ok, `a new sender was refused after the idle time: ${P.describeHandshake(s)}`);
    await echoOnce(ctx, s, 'new sender after the idle time');
    conn.end();
    const exit = await relay.withTimeout(conn.exited, ctx.params.messageMs, 'azrelay connect to end');
    ctx.expect(exit.code === 0, `azrelay connect exited with ${exit.code} after its stdin ended`);
    const cutoff = ctx.profile === 'emulator' ? `emulator cut-off ${ctx.params.emulatorIdleMs} ms` : 'Azure';
    ctx.note(`idle ${idleS} s (${cutoff}); keep-alive ${keepAliveS === null ? 'default' : keepAliveS + ' s'}`);
  },
};

module.exports = { checks: [renewal, expired, idle] };
