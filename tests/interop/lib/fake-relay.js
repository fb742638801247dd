// SPDX-License-Identifier: MIT
// A hostile or misbehaving relay for tests of the listener: a TLS WebSocket server on 127.0.0.1 that
// takes the listener's control channel without checking anything and then sends whatever commands a
// test scripts (floods, downgraded addresses, malformed requests). It also serves the rendezvous
// addresses it hands out, counting what the listener opens, and a plain-text port that only counts
// connections (a listener that follows a downgraded ws:// address shows up there).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

/** A self-signed P-256 certificate for localhost / 127.0.0.1, written to a fresh directory. */
function makeCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azr-fake-relay-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext',
    'basicConstraints=critical,CA:TRUE', '-days', '2', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl could not make a certificate: ${r.stderr}`);
  return { dir, key, cert };
}

class FakeRelay {
  /**
   * opts.holdRejects: leave reject handshakes unanswered (a relay that piles them up); otherwise they
   * get 410 Gone as the service answers.
   */
  constructor(opts = {}) {
    this.opts = opts;
    this.tls = makeCertificate();
    this.control = null;
    this.controlMessages = [];
    this.accepts = [];        // rendezvous WebSockets the listener opened for accept addresses
    this.requestRendezvous = []; // ... for request addresses
    this.rejectsOpen = 0;
    this.rejectsMax = 0;
    this.rejectsSeen = 0;
    this.plainConnections = 0;
    this.waiters = [];
  }

  async start() {
    this.server = https.createServer({ key: fs.readFileSync(this.tls.key), cert: fs.readFileSync(this.tls.cert) });
    this.wss = new WebSocket.Server({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => this._upgrade(req, socket, head));
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.plain = net.createServer((s) => {
      this.plainConnections++;
      this._notify();
      s.destroy();
    });
    await new Promise((resolve) => this.plain.listen(0, '127.0.0.1', resolve));
    this.plainPort = this.plain.address().port;
    return this;
  }

  /** What TestListener.start needs in place of an emulator. */
  asEmulator(hc = 'hc1') {
    const cs = `Endpoint=sb://localhost:${this.port}/;SharedAccessKeyName=k;SharedAccessKey=a2V5;EntityPath=${hc}`;
    return { cert: this.tls.cert, connectionString: () => cs };
  }

  /** An address on this relay's TLS port (kind: accept or request). */
  address(kind, id) {
    return `wss://localhost:${this.port}/$hc/hc1?sb-hc-action=${kind}&sb-hc-id=${id}`;
  }

  /** The same address on the plain port, with a ws:// scheme: a downgrade. */
  plainAddress(kind, id) {
    return `ws://127.0.0.1:${this.plainPort}/$hc/hc1?sb-hc-action=${kind}&sb-hc-id=${id}`;
  }

  _upgrade(req, socket, head) {
    const url = new URL(req.url, `https://localhost:${this.port}`);
    const action = url.searchParams.get('sb-hc-action');
    if (url.searchParams.has('sb-hc-statusCode')) {
      this.rejectsSeen++;
      this.rejectsOpen++;
      this.rejectsMax = Math.max(this.rejectsMax, this.rejectsOpen);
      socket.on('close', () => this.rejectsOpen--);
      this._notify();
      if (!this.opts.holdRejects) socket.end('HTTP/1.1 410 Gone\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      if (action === 'listen') {
        this.control = ws;
        ws.on('message', (data, isBinary) => {
          this.controlMessages.push(isBinary ? data : JSON.parse(data.toString('utf8')));
          this._notify();
        });
      } else if (action === 'request') {
        ws.messages = [];
        ws.on('message', (data, isBinary) => {
          ws.messages.push(isBinary ? data : JSON.parse(data.toString('utf8')));
          this._notify();
        });
        this.requestRendezvous.push(ws);
      } else {
        this.accepts.push(ws);
      }
      this._notify();
    });
  }

  /** Sends one control command (an object, sent as JSON text). */
  send(cmd) {
    if (!this.control) throw new Error('no control channel yet');
    this.control.send(JSON.stringify(cmd));
  }

  /** Resolves once pred() holds (checked on every event), or rejects after ms. */
  until(pred, ms, what) {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`fake relay: timed out waiting for ${what}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  _notify() {
    for (const w of this.waiters.slice()) {
      if (w.pred()) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }

  async stop() {
    for (const ws of [...this.accepts, ...this.requestRendezvous, this.control]) if (ws) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    await new Promise((resolve) => this.plain.close(resolve));
    fs.rmSync(this.tls.dir, { recursive: true, force: true });
  }
}

module.exports = { FakeRelay };
