// SPDX-License-Identifier: MIT
// The namespace under test, as the AZRELAY_CONFORMANCE_CS_* connection strings name it: hosts,
// hybrid connections, keys, SAS tokens (§3.1-§3.3), sender and HTTP addresses (§2.2), and the
// redaction that keeps every key and token out of what the run prints or writes.
'use strict';

const crypto = require('node:crypto');
const relay = require('../../interop/lib/relay');

/** The five connection strings the run needs: environment variable suffix and what it names. */
const CONNECTION_STRINGS = [
  ['AUTH', 'a hybrid connection that requires client authorization; a rule with Listen and Send'],
  ['NOAUTH', 'a hybrid connection with requiresClientAuthorization=false; a rule with Listen'],
  ['HTTP', 'a hybrid connection for the HTTP checks; a rule with Listen and Send'],
  ['LISTEN_ONLY', 'a rule with only the Listen right on the AUTH hybrid connection'],
  ['SEND_ONLY', 'a rule with only the Send right on the AUTH hybrid connection'],
];
const ENV_PREFIX = 'AZRELAY_CONFORMANCE_CS_';

/** Splits Endpoint=sb://host[:port]/;SharedAccessKeyName=..;SharedAccessKey=..;EntityPath=.. */
function parseConnectionString(name, cs) {
  const fields = {};
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) fields[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim();
  }
  const missing = ['endpoint', 'sharedaccesskeyname', 'sharedaccesskey', 'entitypath'].filter((k) => !fields[k]);
  if (missing.length) throw new Error(`${ENV_PREFIX}${name} lacks ${missing.join(', ')} (a rule's connection string with EntityPath is needed)`);
  let u;
  try {
    u = new URL(fields.endpoint.replace(/^sb:/i, 'https:'));
  } catch {
    throw new Error(`${ENV_PREFIX}${name}: Endpoint is not a URL`);
  }
  return {
    name,
    cs,
    host: u.hostname.toLowerCase(),
    port: u.port ? Number(u.port) : 443,
    hc: fields.entitypath.replace(/^\/+|\/+$/g, ''),
    keyName: fields.sharedaccesskeyname,
    key: fields.sharedaccesskey,
    emulator: /UseDevelopmentEmulator=true/i.test(cs),
  };
}

class Target {
  /** env: process.env; cacert: PEM file to trust (the emulator's), or null for the system's CAs. */
  constructor(env, { profile, cacert }) {
    this.profile = profile;
    this.cacert = cacert || null;
    this.secrets = new Set();
    this.cs = {};
    for (const [name] of CONNECTION_STRINGS) {
      const value = env[ENV_PREFIX + name];
      if (!value) throw new Error(`${ENV_PREFIX}${name} is not set`);
      this.cs[name] = parseConnectionString(name, value);
      this.secrets.add(value);
      this.secrets.add(this.cs[name].key);
    }
    const hosts = new Set(Object.values(this.cs).map((c) => `${c.host}:${c.port}`));
    if (hosts.size !== 1) throw new Error(`the connection strings name more than one namespace (${[...hosts].join(', ')})`);
    const auth = this.cs.AUTH;
    for (const n of ['LISTEN_ONLY', 'SEND_ONLY']) {
      if (this.cs[n].hc.toLowerCase() !== auth.hc.toLowerCase()) {
        throw new Error(`${ENV_PREFIX}${n} must name the AUTH hybrid connection (${auth.hc}), not ${this.cs[n].hc}`);
      }
    }
    const distinct = new Set(['AUTH', 'NOAUTH', 'HTTP'].map((n) => this.cs[n].hc.toLowerCase()));
    if (distinct.size !== 3) throw new Error('AUTH, NOAUTH and HTTP must name three different hybrid connections');
    this.host = auth.host;
    this.port = auth.port;
    // A key of the same form that is certainly wrong (one base64 character changed).
    const k = auth.key;
    this.wrongKey = k.slice(0, -2) + (k.at(-2) === 'A' ? 'B' : 'A') + k.at(-1);
    this.secrets.add(this.wrongKey);
  }

  /** host, or host:port when the port is not 443 (what URLs spell). */
  get authority() {
    return this.port === 443 ? this.host : `${this.host}:${this.port}`;
  }

  /** The connection string `name` with some fields replaced (a wrong key, another entity...). */
  variant(name, { key, entity } = {}) {
    const c = this.cs[name];
    let s = c.cs;
    if (key !== undefined) s = s.replace(/(SharedAccessKey=)[^;]*/i, `$1${key}`);
    if (entity !== undefined) s = s.replace(/(EntityPath=)[^;]*/i, `$1${entity}`);
    this.secrets.add(s);
    return s;
  }

  /** A SAS token for hybrid connection `hc` signed with rule `name` (.NET-style audience, §3.3). */
  token(name, { hc, ttl = 3600, expiry, key } = {}) {
    const c = this.cs[name];
    const t = relay.sasToken({ resource: `http://${this.host}/${hc || c.hc}/`, keyName: c.keyName, key: key || c.key, ttl, expiry });
    this.secrets.add(t);
    this.secrets.add(encodeURIComponent(t));
    return t;
  }

  /** wss://ns[:port]/$hc/{hc}{suffix}?sb-hc-action=connect|listen (§2.2). */
  wsUrl(hc, action = 'connect', { suffix = '', query } = {}) {
    const q = query ? `&${query}` : '';
    return `wss://${this.authority}/$hc/${hc}${suffix}?sb-hc-action=${action}${q}`;
  }

  /** https://ns[:port]/{hc}{suffix} (HTTP mode, §7.1). */
  httpUrl(hc, suffix = '') {
    return `https://${this.authority}/${hc}${suffix}`;
  }

  /** A hybrid connection name that does not exist (random, so it never collides). */
  missingHc() {
    return `conformance-missing-${crypto.randomBytes(4).toString('hex')}`;
  }

  /** Environment for a child process: its connection string in AZRELAY_CONNECTION_STRING. */
  env(cs, extra = {}) {
    return { ...process.env, AZRELAY_LOG_FORMAT: 'plain', AZRELAY_CONNECTION_STRING: cs, ...extra };
  }

  /** Removes keys, tokens, signatures and connection strings from text meant for people. */
  redact(text) {
    let s = String(text);
    for (const secret of this.secrets) if (secret && secret.length >= 8) s = s.split(secret).join('<redacted>');
    return redactPatterns(s);
  }
}

/** The patterns of secrets, for text that may hold secrets the run did not make itself. */
function redactPatterns(text) {
  return String(text)
    .replace(/(SharedAccessKey=)[^;\s"]*/gi, '$1<redacted>')
    .replace(/(SharedAccessSignature )[^"\s,]*/g, '$1<redacted>')
    .replace(/(sig(?:=|%3D))[^&\s"]*/gi, '$1<redacted>')
    .replace(/(sb-hc-token=)[^&\s"]*/gi, '$1<redacted>');
}

module.exports = { Target, CONNECTION_STRINGS, ENV_PREFIX, parseConnectionString, redactPatterns };
