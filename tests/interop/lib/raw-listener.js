// SPDX-License-Identifier: MIT
// A promise-based Hybrid Connections listener written directly on the `ws` package: it speaks the
// control-channel protocol itself (§5), so tests can accept, reject (§6.4), answer HTTP requests on
// the control channel or via rendezvous (§7), send malformed or quirky responses and renew tokens.
'use strict';

const WebSocket = require('ws');
const { handshake, withTimeout, redact, listenUrl, tokenFor } = require('./relay');

class HandshakeError extends Error {
  constructor(url, r) {
    super(`handshake to ${redact(url)} failed: ${r.statusCode} ${r.statusMessage}`);
    this.statusCode = r.statusCode;
    this.statusMessage = r.statusMessage;
    this.body = r.body;
  }
}

/** Reads a listener-side message stream: JSON commands, each optionally followed by one body. */
class CommandReader {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.queue = [];
    this.waiters = [];
    this.pending = null; // a command whose body (next binary message) has not arrived yet
    this.stray = []; // binary messages that followed no command announcing a body
    this.errors = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8'), at: Date.now() };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${label} closed (${code} ${this.closeInfo.reason})`));
      });
    });
    ws.on('error', (err) => this.errors.push(err));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  onMessage(data, isBinary) {
    if (isBinary) {
      if (this.pending) {
        const cmd = this.pending;
        this.pending = null;
        cmd.body = Buffer.from(data);
        this.deliver(cmd);
      } else {
        this.stray.push(Buffer.from(data));
      }
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch (e) {
      this.errors.push(new Error(`${this.label}: text message is not JSON: ${data.toString('utf8').slice(0, 200)}`));
      return;
    }
    const type = Object.keys(msg)[0];
    const cmd = { type, msg, body: null, raw: data.toString('utf8') };
    if (this.pending) {
      // §5.6 rule 5 from the other side: a text message ends an expected body.
      this.errors.push(new Error(`${this.label}: command arrived while a body was expected`));
      this.deliver(this.pending);
      this.pending = null;
    }
    if (type === 'request' && msg.request && msg.request.body === true) {
      this.pending = cmd;
    } else {
      this.deliver(cmd);
    }
  }

  deliver(cmd) {
    const w = this.waiters.shift();
    if (w) w.resolve(cmd);
    else this.queue.push(cmd);
  }

  /** The next command (`{type, msg, body, raw}`) within `ms`. */
  next(ms = 10000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.reject(new Error(`${this.label} is closed (${this.closeInfo.code})`));
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(p, ms, `a command on ${this.label}`).catch((e) => {
      // Drop our waiter so a later command is not swallowed by a timed-out wait.
      this.waiters = this.waiters.filter((w) => w !== waiter);
      throw e;
    });
  }
}

class RawListener {
  /**
   * Opens a control channel on `url` (build it with relay.listenUrl). `token` goes into the
   * ServiceBusAuthorization header like the SDKs do (§3.4) unless `token` is null.
   * Rejects with a HandshakeError (statusCode/statusMessage) when the emulator refuses.
   */
  static async open(url, { token = null, headers = {}, timeoutMs = 10000 } = {}) {
    const h = { ...headers };
    if (token) h.ServiceBusAuthorization = token;
    const r = await handshake(url, { headers: h, timeoutMs });
    if (!r.ok) throw new HandshakeError(url, r);
    return new RawListener(r.ws, url);
  }

  constructor(ws, url) {
    this.ws = ws;
    this.url = url;
    this.reader = new CommandReader(ws, 'control channel');
    this.closed = this.reader.closed;
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The next command of `type` ('accept' or 'request'); a command of another type is an error. */
  async next(type, ms = 10000) {
    const cmd = await this.reader.next(ms);
    if (type && cmd.type !== type) throw new Error(`expected a '${type}' command, got: ${cmd.raw.slice(0, 300)}`);
    return cmd;
  }

  /** Accepts a connection (§6.3): opens the rendezvous address verbatim. Resolves with the ws. */
  async accept(acceptMsg, { protocol, timeoutMs = 10000 } = {}) {
    const address = acceptMsg.accept.address;
    const r = await handshake(address, { protocols: protocol, timeoutMs });
    if (!r.ok) throw new HandshakeError(address, r);
    return r.ws;
  }

  /**
   * Rejects a connection (§6.4): a handshake on address + sb-hc-statusCode/-statusDescription.
   * `encode` is 'uri' (Node-style %20) or 'form' (.NET-style '+'). Resolves with the HTTP answer,
   * which should be 410.
   */
  async reject(acceptMsg, statusCode, description, { encode = 'uri', timeoutMs = 10000 } = {}) {
    let enc = encodeURIComponent(description);
    if (encode === 'form') enc = enc.replace(/%20/g, '+');
    const url = `${acceptMsg.accept.address}&sb-hc-statusCode=${statusCode}&sb-hc-statusDescription=${enc}`;
    const r = await handshake(url, { timeoutMs });
    if (r.ok) {
      r.ws.terminate();
      return { statusCode: 101, statusMessage: 'Switching Protocols (the reject was taken as an accept)' };
    }
    return r;
  }

  /** Sends one text message (a string or an object, which is JSON-encoded as is). */
  sendText(obj) {
    const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
    return new Promise((resolve, reject) => this.ws.send(text, { binary: false }, (e) => (e ? reject(e) : resolve())));
  }

  sendBinary(buf) {
    return new Promise((resolve, reject) => this.ws.send(buf, { binary: true }, (e) => (e ? reject(e) : resolve())));
  }

  /** Answers a request on the control channel (§5.6); `body` (Buffer/string) makes "body":true. */
  async respond(requestId, { statusCode = 200, statusDescription, headers, body } = {}) {
    const response = { requestId, statusCode };
    if (statusDescription !== undefined) response.statusDescription = statusDescription;
    if (headers) response.responseHeaders = headers;
    response.body = body !== undefined && body !== null;
    await this.sendText({ response });
    if (response.body) await this.sendBinary(Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8'));
  }

  /** Sends {"renewToken":{"token":..}} (§3.7). */
  renewToken(token) {
    return this.sendText({ renewToken: { token } });
  }

  /** Closes the control channel and waits (bounded) for the close to complete. */
  async close(code = 1000, reason = '') {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    await withTimeout(this.closed, 3000, 'the control channel to close').catch(() => this.ws.terminate());
  }
}

/** Runs fn(listener) with a RawListener on hybrid connection `hc` of `emu`, then closes it. */
async function withRawListener(emu, hc, fn) {
  const l = await RawListener.open(listenUrl(emu, hc), { token: tokenFor(emu, hc) });
  try {
    return await fn(l);
  } finally {
    await l.close();
  }
}

module.exports = { RawListener, HandshakeError, CommandReader, withRawListener };
