// SPDX-License-Identifier: MIT
// Message queues and promise helpers for sockets of `ws` 1.x, the WebSocket package that Microsoft's
// hyco-ws uses for its listener, its rendezvous sockets and relayedConnect() senders.
'use strict';

const { withTimeout, sha256 } = require('./relay');

/** Collects every message of a ws 1.x socket as { binary, data (string | Buffer) }. */
class MessageQueue {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.items = [];
    this.waiters = [];
    this.closeInfo = null;
    this.errors = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, message) => {
        this.closeInfo = { code, reason: message === undefined ? '' : String(message) };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) {
          w.reject(new Error(`${label} closed (${code} ${this.closeInfo.reason}) while a message was awaited`));
        }
      });
    });
    ws.on('error', (e) => this.errors.push(e));
    ws.on('message', (data, flags) => {
      const binary = !!(flags && flags.binary);
      const item = { binary, data: binary ? Buffer.from(data) : String(data) };
      const w = this.waiters.shift();
      if (w) w.resolve(item);
      else this.items.push(item);
    });
  }

  next(ms = 15000) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.closeInfo) return Promise.reject(new Error(`${this.label} is closed (${this.closeInfo.code})`));
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(p, ms, `a message on ${this.label}`).catch((e) => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      throw e;
    });
  }
}

/** Resolves when a ws 1.x client is open; rejects with the handshake error (or after `ms`). */
function opened(ws, ms, what) {
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', (e) => reject(e instanceof Error ? e : new Error(String(e))));
    }),
    ms,
    what,
  );
}

/** send() as a promise (ws 1.x calls back once the frame is written). */
function send(ws, data, binary) {
  return new Promise((resolve, reject) => {
    ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
  });
}

/** Describes a payload briefly for assertion messages (never the whole megabyte). */
function describe(item) {
  const buf = Buffer.isBuffer(item.data) ? item.data : Buffer.from(item.data, 'utf8');
  return `${item.binary ? 'binary' : 'text'} ${buf.length} B sha256 ${sha256(buf).slice(0, 16)}`;
}

/** True when two queue items carry the same opcode and the same bytes. */
function same(a, b) {
  if (a.binary !== b.binary) return false;
  const x = Buffer.isBuffer(a.data) ? a.data : Buffer.from(a.data, 'utf8');
  const y = Buffer.isBuffer(b.data) ? b.data : Buffer.from(b.data, 'utf8');
  return x.equals(y);
}

module.exports = { MessageQueue, opened, send, describe, same };
