// A wsgateway protocol client for k6/websockets (docs/protocol.md): the
// connect handshake, commands with ids and replies, newline-separated JSON
// lines in both directions, and pushes handed to a callback. Stream keeps
// one channel's position (offset and epoch) and classifies every
// publication: in order, repeated, after a gap, or in a new epoch.

import { WebSocket } from 'k6/websockets';
import { setTimeout, clearTimeout } from 'k6/timers';

export const SUBPROTOCOL = 'wsgateway.v1';

// CommandError is a command's error reply ({"error":{"code","message"}}), or
// a local failure: code "timeout" or "closed".
export class CommandError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

// Conn is one WebSocket connection speaking the wsgateway protocol.
//   const c = new Conn(url, { token, onPush });
//   const { result, setupMs } = await c.open(10000);
//   const res = await c.command({ op: 'subscribe', channel: 'load:x' }, 5000);
//   const closed = await c.closed; // { code, reason, byUs }
export class Conn {
  constructor(url, opts = {}) {
    this.url = url;
    this.token = opts.token || '';
    this.onPush = opts.onPush || (() => {});
    this.onBadLine = opts.onBadLine || (() => {});
    this.nextId = 1;
    this.pending = new Map(); // id -> { resolve, reject, timer }
    this.ws = null;
    this.isClosed = false;
    this.byUs = false;
    this.lastError = '';
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  // open dials, sends connect and resolves with the connect result and the
  // setup time: from the dial to the connect reply, in ms. It rejects when
  // the connection fails, closes or times out first (and then closes it).
  open(timeoutMs) {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.close();
        reject(err);
      };
      const timer = setTimeout(() => fail(new CommandError('timeout', `no connect reply within ${timeoutMs} ms`)), timeoutMs);
      let ws;
      try {
        ws = new WebSocket(this.url, SUBPROTOCOL);
      } catch (e) {
        fail(new CommandError('closed', `dial: ${e}`));
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        const cmd = { op: 'connect' };
        if (this.token) cmd.token = this.token;
        this.command(cmd, timeoutMs).then(
          (result) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ result, setupMs: Date.now() - t0 });
          },
          (err) => fail(err),
        );
      };
      ws.onmessage = (e) => this.receive(e.data);
      // k6 reports an error before the close event, even for a close frame
      // ("websocket: close 1012: ..."), and a failed dial as a close
      // without a code: the close event alone ends the connection.
      ws.onerror = (e) => {
        this.lastError = String((e && e.error) || 'error');
      };
      ws.onclose = (e) => {
        // A dial that failed closes without a code: 1006, as in a browser.
        const code = typeof e.code === 'number' ? e.code : 1006;
        const reason = e.reason || this.lastError;
        this.finish(code, reason);
        fail(new CommandError('closed', `closed ${code} ${reason} before the connect reply`));
      };
    });
  }

  // finish runs once, when the connection is gone: every pending command
  // fails and `closed` resolves.
  finish(code, reason) {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new CommandError('closed', `connection closed (${code})`));
    }
    this.pending.clear();
    this.resolveClosed({ code, reason: reason || '', byUs: this.byUs });
  }

  // receive splits a frame into its JSON lines.
  receive(data) {
    if (typeof data !== 'string') {
      this.onBadLine('binary frame');
      return;
    }
    const lines = data.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i];
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length === 0) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch (e) {
        this.onBadLine(line);
        continue;
      }
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) {
          this.onBadLine(line); // a reply to nothing we sent
          continue;
        }
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        // onReply runs now, before the next line of this frame: a push
        // that follows a subscribe reply in the same frame must meet the
        // position that reply set (a promise's callbacks would run later).
        if (p.onReply) p.onReply(p.index, msg);
        if (msg.error) p.reject(new CommandError(msg.error.code || 'unknown', msg.error.message || ''));
        else p.resolve(msg.result);
      } else if (msg.push) {
        this.onPush(msg);
      } else {
        this.onBadLine(line);
      }
    }
  }

  // commands sends several commands in one frame and resolves with their
  // results in order (or rejects with the first failure). onReply(i, msg),
  // when given, sees each reply line as soon as it is read.
  commands(cmds, timeoutMs, onReply) {
    if (this.isClosed || !this.ws) return Promise.reject(new CommandError('closed', 'not connected'));
    const promises = [];
    const lines = [];
    for (let i = 0; i < cmds.length; i++) {
      const c = cmds[i];
      const id = this.nextId++;
      lines.push(JSON.stringify(Object.assign({ id }, c)));
      promises.push(
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            if (this.pending.delete(id)) reject(new CommandError('timeout', `no reply to ${c.op} within ${timeoutMs} ms`));
          }, timeoutMs);
          this.pending.set(id, { resolve, reject, timer, onReply, index: i });
        }),
      );
    }
    try {
      this.ws.send(lines.join('\n'));
    } catch (e) {
      this.finish(1006, `send: ${e}`);
    }
    return Promise.all(promises);
  }

  command(cmd, timeoutMs) {
    return this.commands([cmd], timeoutMs).then((r) => r[0]);
  }

  close() {
    this.byUs = true;
    if (this.ws && !this.isClosed) {
      try {
        this.ws.close(1000);
      } catch (e) {
        this.finish(1006, `close: ${e}`);
      }
    }
  }
}

// Stream is a client's position in one channel, kept by the rules of
// docs/protocol.md: every publication must be offset last+1 in the same
// epoch.
export class Stream {
  constructor(channel) {
    this.channel = channel;
    this.offset = null; // unknown until the first subscribe reply
    this.epoch = null;
    this.missing = 0; // set by accept: offsets skipped by the last publication
  }

  known() {
    return this.offset !== null;
  }

  // position records a reply's stream position (subscribe, history).
  position(offset, epoch) {
    this.offset = offset;
    this.epoch = epoch;
  }

  // accept classifies one publication and advances the position:
  //   'ok'    offset == last + 1
  //   'dup'   offset <= last (seen before, or out of order); position kept
  //   'gap'   offset > last + 1; this.missing says how many were skipped
  //   'epoch' another epoch: the history was lost, offsets restart
  accept(offset, epoch) {
    this.missing = 0;
    if (this.offset === null || epoch !== this.epoch) {
      const kind = this.offset === null ? 'ok' : 'epoch';
      this.position(offset, epoch);
      return kind;
    }
    if (offset <= this.offset) return 'dup';
    this.missing = offset - this.offset - 1;
    this.offset = offset;
    return this.missing > 0 ? 'gap' : 'ok';
  }

  // subscribeCommand is a subscribe, with recovery from the recorded
  // position once there is one.
  subscribeCommand() {
    const c = { op: 'subscribe', channel: this.channel };
    if (this.offset !== null) {
      c.recover = true;
      c.offset = this.offset;
      c.epoch = this.epoch;
    }
    return c;
  }
}

// sleep resolves after ms (never before; 0 yields to the event loop).
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

// raceTimeout resolves with promise's value, or with `onTimeout` after ms,
// whichever is first; the timer never outlives the race.
export function raceTimeout(promise, ms, onTimeout) {
  let timer;
  const t = new Promise((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), Math.max(0, ms));
  });
  return Promise.race([promise, t]).then((v) => {
    clearTimeout(timer);
    return v;
  });
}

// backoffMs is the reconnect delay of docs/protocol.md: full jitter,
// uniform in [0, min(cap, base * 2^attempt)].
export function backoffMs(attempt, baseMs, capMs) {
  return Math.random() * Math.min(capMs, baseMs * Math.pow(2, Math.min(attempt, 30)));
}
