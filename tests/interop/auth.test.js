// SPDX-License-Identifier: MIT
// Authorization (§3, §10.1, §10.4): every kind of bad token is refused with the service's status and
// text, rights and per-entity rules are enforced, anonymous senders work where the entity allows
// them, and the control channel lives exactly as long as its (renewed) token plus the grace.
// Run through lib/run-with-emulator.js with `--config lib/configs/auth.json` (TokenGraceSeconds=1).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const relay = require('./lib/relay');
const { RawListener } = require('./lib/raw-listener');
const { connectOutcome } = require('./lib/hyco-sender');

relay.watchdog(100000, 'auth');
const emu = relay.emulator();
assert.ok(emu.config, 'this test needs the emulator config (AZR_EMU_CONFIG)');
// The emulator closes a channel at expiry + grace + clock skew.
const GRACE_S = emu.config.settings.TokenGraceSeconds + (emu.config.settings.ClockSkewSeconds || 0);

function rule(name) {
  for (const r of emu.config.rules || []) if (r.name === name) return r;
  for (const h of emu.config.hybridConnections) {
    for (const r of (typeof h === 'object' && h.rules) || []) if (r.name === name) return r;
  }
  throw new Error(`no rule ${name} in the config`);
}

function token(hc, { ruleName, key, ...opts } = {}) {
  const r = ruleName ? rule(ruleName) : { name: emu.keyName, primaryKey: emu.key };
  return relay.tokenFor(emu, hc, { keyName: r.name, key: key || r.primaryKey, ...opts });
}

/** A listen handshake with the token in the ServiceBusAuthorization header (or the query). */
function listenAttempt(hc, tok, { inQuery = false } = {}) {
  const url = relay.listenUrl(emu, hc, inQuery ? { token: tok } : {});
  return relay.handshake(url, { headers: !inQuery && tok ? { ServiceBusAuthorization: tok } : {} });
}

/** Closes a ws 8 or ws 1.x socket and waits (bounded) until it is closed. */
async function closeWs(ws) {
  if (ws.readyState === 3) return; // CLOSED in both packages
  const done = new Promise((resolve) => ws.once('close', resolve));
  ws.close();
  await relay.withTimeout(done, 3000, 'a socket to close').catch(() => ws.terminate());
}

function assertRefused(r, status, prefix, what) {
  if (r.ok) r.ws.terminate();
  assert.equal(r.ok, false, `${what}: must be refused`);
  assert.equal(r.statusCode, status, `${what}: status ${r.statusCode} ${r.statusMessage}`);
  if (prefix) assert.ok(r.statusMessage.startsWith(prefix), `${what}: reason phrase "${r.statusMessage}" should start with "${prefix}"`);
}

const BAD_SIG = 'The token has an invalid signature.';
const EXPIRED = 'ExpiredToken: ';
const AUDIENCE = 'InvalidAudience: ';
const NO_LISTEN = "Unauthorized access. 'Listen' claim(s) are required";
const NO_SEND = "Unauthorized access. 'Send' claim(s) are required";
const MALFORMED = 'MalformedToken';
const NO_LISTENERS = 'There are no listeners connected for the endpoint.';
const NO_ENDPOINT = 'Endpoint does not exist.';

// A listener on hc1 for the whole file, so that sender refusals below are about the token and not
// about a missing listener.
let hc1Listener;
before(async () => {
  hc1Listener = await RawListener.open(relay.listenUrl(emu, 'hc1'), { token: token('hc1') });
});
after(async () => {
  if (hc1Listener) await hc1Listener.close();
});

test('the test token helper reproduces the §3.2 vectors', () => {
  const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
  const t1 = relay.sasToken({ resource: 'http://contoso.servicebus.windows.net/hyco/', keyName: 'RootManageSharedAccessKey', key, expiry: 1700000000 });
  assert.equal(
    t1,
    'SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN%2Fjc2k%3D&se=1700000000&skn=RootManageSharedAccessKey',
  );
  const t3 = relay.sasToken({ resource: 'http://contoso.servicebus.windows.net/hyco', keyName: 'k', key, expiry: 1700000000 });
  assert.ok(t3.includes(`sig=${encodeURIComponent('+MkbuZlQcESy1IKohN8Tbv29rANXrR8x9aAkOUG8oBY=')}&`));
});

test('valid tokens are accepted: header, sb-hc-token query, Listen-only and per-entity rules', { timeout: 20000 }, async () => {
  for (const [what, hc, tok, inQuery] of [
    ['root rule, header', 'hc2', token('hc2'), false],
    ['root rule, query', 'hc2', token('hc2'), true],
    ['Listen-only rule', 'hc2', token('hc2', { ruleName: 'listenOnly' }), false],
    ['entity rule on its entity', 'scoped', token('scoped', { ruleName: 'scopedListen' }), false],
  ]) {
    const r = await listenAttempt(hc, tok, { inQuery });
    assert.ok(r.ok, `${what}: refused with ${r.statusCode} ${r.statusMessage}`);
    await closeWs(r.ws);
  }
});

test('listeners with bad tokens are refused with 401 and the service texts', { timeout: 30000 }, async () => {
  const now = relay.nowSeconds();
  const cases = [
    ['wrong key', token('hc2', { key: 'd3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDA=' }), 401, BAD_SIG],
    ['wrong key in the query', token('hc2', { key: 'd3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDA=' }), 401, BAD_SIG, true],
    ['expired token', token('hc2', { expiry: now - 600 }), 401, EXPIRED],
    ['token for another path', token('hc1'), 401, AUDIENCE],
    ['Send-only rule', token('hc2', { ruleName: 'sendOnly' }), 401, NO_LISTEN],
    ['another entity\'s rule', token('hc2', { ruleName: 'scopedListen' }), 401, null],
    ['unknown rule name', token('hc2', { ruleName: undefined, keyName: 'noSuchRule' }), 401, null],
    ['missing fields', 'SharedAccessSignature sr=http%3A%2F%2Flocalhost%2Fhc2&se=9999999999', 401, MALFORMED],
    ['not a SAS token', 'Bearer not-a-token', 401, MALFORMED],
    ['no token at all', null, 401, null],
  ];
  for (const [what, tok, status, prefix, inQuery] of cases) {
    const r = await listenAttempt('hc2', tok, { inQuery });
    assertRefused(r, status, prefix, `listener, ${what}`);
  }
});

test('senders with bad tokens are refused with 401 and the service texts', { timeout: 30000 }, async () => {
  const now = relay.nowSeconds();
  const cases = [
    ['wrong key', token('hc1', { key: 'd3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDA=' }), BAD_SIG],
    ['expired token', token('hc1', { expiry: now - 600 }), EXPIRED],
    ['token for another path', token('hc2'), AUDIENCE],
    ['Listen-only rule', token('hc1', { ruleName: 'listenOnly' }), NO_SEND],
    ['missing fields', 'SharedAccessSignature sig=abc&skn=RootManageSharedAccessKey', MALFORMED],
    ['no token at all', null, null],
  ];
  for (const [what, tok, prefix] of cases) {
    const r = await connectOutcome(relay.connectUrl(emu, 'hc1'), tok);
    assertRefused(r, 401, prefix, `sender, ${what}`);
  }
  // None of them may have reached the listener.
  await assert.rejects(hc1Listener.next('accept', 300), /timed out/);
});

test('a sender with a valid token reaches the listener; without listeners it gets 404', { timeout: 20000 }, async () => {
  const pending = connectOutcome(relay.connectUrl(emu, 'hc1'), token('hc1', { ruleName: 'sendOnly' }));
  const accept = await hc1Listener.next('accept', 10000);
  const rej = await hc1Listener.reject(accept.msg, 409, 'Seen it');
  assert.equal(rej.statusCode, 410);
  const r = await pending;
  assertRefused(r, 409, 'Seen it', 'sender rejected by the listener');
  const none = await connectOutcome(relay.connectUrl(emu, 'hc2'), token('hc2', { ruleName: 'sendOnly' }));
  assertRefused(none, 404, NO_LISTENERS, 'sender without listeners');
});

test('an unknown hybrid connection is 404 "Endpoint does not exist." for listeners and senders', { timeout: 20000 }, async () => {
  assertRefused(await listenAttempt('nosuchhc', token('nosuchhc')), 404, NO_ENDPOINT, 'listener');
  assertRefused(await connectOutcome(relay.connectUrl(emu, 'nosuchhc'), token('nosuchhc')), 404, NO_ENDPOINT, 'sender');
});

test('requiresClientAuthorization=false: senders need no token; listeners still do', { timeout: 20000 }, async () => {
  assertRefused(await listenAttempt('open', null), 401, null, 'listener without token on an open entity');
  const l = await RawListener.open(relay.listenUrl(emu, 'open'), { token: token('open') });
  try {
    for (const [what, tok] of [
      ['no token', null],
      ['an invalid token (not evaluated)', token('open', { key: 'd3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDA=' })],
    ]) {
      const pending = connectOutcome(relay.connectUrl(emu, 'open'), tok);
      const accept = await l.next('accept', 10000);
      const names = Object.keys(accept.msg.accept.connectHeaders).map((n) => n.toLowerCase());
      assert.ok(!names.includes('servicebusauthorization'), `${what}: token header must not reach the listener`);
      const lws = await l.accept(accept.msg);
      const s = await pending;
      assert.ok(s.ok, `sender with ${what}: refused with ${s.statusCode} ${s.statusMessage}`);
      const got = new Promise((resolve) => lws.once('message', (d) => resolve(d.toString('utf8'))));
      s.ws.send(`anonymous ${what}`);
      assert.equal(await relay.withTimeout(got, 5000, 'the message'), `anonymous ${what}`);
      await Promise.all([closeWs(s.ws), closeWs(lws)]);
    }
  } finally {
    await l.close();
  }
});

test('per-entity rules only work on their entity', { timeout: 20000 }, async () => {
  const l = await RawListener.open(relay.listenUrl(emu, 'scoped'), { token: token('scoped', { ruleName: 'scopedListen' }) });
  try {
    const pending = connectOutcome(relay.connectUrl(emu, 'scoped'), token('scoped', { ruleName: 'scopedSend' }));
    const accept = await l.next('accept', 10000);
    assert.equal((await l.reject(accept.msg, 418, 'Entity rule works')).statusCode, 410);
    assertRefused(await pending, 418, 'Entity rule works', 'sender with the entity rule');
    const elsewhere = await connectOutcome(relay.connectUrl(emu, 'hc1'), token('hc1', { ruleName: 'scopedSend' }));
    assertRefused(elsewhere, 401, null, 'entity rule used on another entity');
  } finally {
    await l.close();
  }
});

test('renewToken keeps a listener past its first token; an unrenewed one is closed with 1008', { timeout: 30000 }, async (t) => {
  const t0 = Date.now();
  const se = relay.nowSeconds() + 3;
  const renewed = await RawListener.open(relay.listenUrl(emu, 'hc2'), { token: token('hc2', { expiry: se }) });
  const unrenewed = await RawListener.open(relay.listenUrl(emu, 'hc2'), { token: token('hc2', { expiry: se }) });
  const renewer = setInterval(() => {
    renewed.renewToken(token('hc2', { ttl: 3 })).catch(() => {});
  }, 2000);
  try {
    const deadline = (se + GRACE_S + 2) * 1000;
    const closed = await relay.withTimeout(unrenewed.closed, Math.max(deadline - Date.now(), 1000), 'the unrenewed listener to be closed');
    t.diagnostic(`unrenewed listener closed ${closed.at - se * 1000} ms after its token's expiry: ${closed.code} "${closed.reason}"`);
    assert.equal(closed.code, 1008, `close code ${closed.code} "${closed.reason}"`);
    assert.ok(closed.at >= se * 1000 - 1000, `closed ${se * 1000 - closed.at} ms before its token expired`);
    // The renewed one must still be there 10 s after the start, and still serve senders.
    await relay.sleep(Math.max(0, t0 + 10000 - Date.now()));
    assert.ok(renewed.isOpen, `the renewed listener was closed: ${JSON.stringify(renewed.reader.closeInfo)}`);
    const pending = connectOutcome(relay.connectUrl(emu, 'hc2'), token('hc2'));
    const accept = await renewed.next('accept', 5000);
    assert.equal((await renewed.reject(accept.msg, 451, 'Still here')).statusCode, 410);
    assertRefused(await pending, 451, 'Still here', 'sender to the renewed listener');
  } finally {
    clearInterval(renewer);
    await renewed.close();
    await unrenewed.close();
  }
});

test('a renewToken with an invalid token closes the control channel with 1008', { timeout: 20000 }, async () => {
  const l = await RawListener.open(relay.listenUrl(emu, 'hc2'), { token: token('hc2') });
  try {
    await l.renewToken('SharedAccessSignature this-is-not-valid');
    const closed = await relay.withTimeout(l.closed, 5000, 'the channel to be closed');
    assert.equal(closed.code, 1008, `close code ${closed.code} "${closed.reason}"`);
  } finally {
    await l.close();
  }
});
