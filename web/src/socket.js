// The live connection: a WebSocket (msgpack subprotocol), or, when a proxy blocks WebSockets,
// the long-polling link of poll.js (JSON frames over plain HTTP). Either way: reconnect with
// capped backoff, resume every joined room with `since` = the last seq processed, and resend
// every send without an ack under its original cid (docs/protocol.md, "Resuming"). Frames go
// to `onFrame`; state ("connecting", "online", "offline") and the transport ("ws", "http") to
// `onState`. Close code 4001 (the session ended: logged out, in this tab or another) is final:
// no reconnect with the dead session; `onSessionEnded` takes over.
//
// The fallback: two WebSocket attempts in a row that never open (refused, or not open within
// OPEN_TIMEOUT_MS) switch to HTTP. While on HTTP a WebSocket is tried again every
// WS_RETRY_MS and whenever the browser comes back online; when one opens, the client moves back
// to it (rooms resumed with `since`).
import { encode, decode } from "msgpack";
import { GONE, PollLink } from "./poll.js";

const PROTOCOL = "ecolink.v1.msgpack";
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const PING_EVERY_MS = 25000;
const SESSION_ENDED = 4001;
const RESEND_AFTER_MS = 1000;
const OPEN_TIMEOUT_MS = 10000;
const FAILED_OPENS_BEFORE_HTTP = 2;
const WS_RETRY_MS = 60000;

// A WebSocket with the interface of poll.js's PollLink.
class WsLink {
  constructor({ onOpen, onFrame, onClose }) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`, PROTOCOL);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.opened = false;
    this._timer = setTimeout(() => ws.close(), OPEN_TIMEOUT_MS); // a proxy that holds it
    ws.onopen = () => {
      clearTimeout(this._timer);
      this.opened = true;
      onOpen();
    };
    // The msgpack subprotocol sends binary only.
    ws.onmessage = (event) => typeof event.data !== "string" && onFrame(decode(new Uint8Array(event.data)));
    ws.onclose = (event) => {
      clearTimeout(this._timer);
      onClose(event.code);
    };
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    this.ws.send(encode(frame));
  }

  // Ends the link without a callback.
  close(code = 1000, reason) {
    clearTimeout(this._timer);
    this.ws.onclose = null;
    this.ws.onmessage = null;
    this.ws.close(code, reason);
  }
}

export class Connection {
  constructor({ onFrame, onState, onOpen, onSessionEnded }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.onOpen = onOpen || (() => {});
    this.onSessionEnded = onSessionEnded || (() => {});
    this.rooms = new Map(); // room id -> last seq processed (joined rooms)
    this.pending = new Map(); // cid -> frame awaiting its ack
    this.link = null;
    this.via = "ws"; // the transport: "ws", or "http" once WebSockets failed to open
    this.failedOpens = 0; // WebSocket attempts in a row that never opened
    this.attempt = 0;
    this.closed = false;
    this.state = "connecting";
  }

  start() {
    this.closed = false;
    this._connect();
    // Back on a network (perhaps another one, without the proxy): reconnect if offline, and on
    // the HTTP fallback see whether a WebSocket opens now.
    window.addEventListener("online", () => {
      this._kick();
      this._tryWebSocket();
    });
    // The browser knows the network is gone before TCP does: drop the link now, show it, and
    // resume with `since` when the network is back.
    window.addEventListener("offline", () => {
      if (this.link && !this.closed) {
        this._drop();
        this._lost(4000, true);
      }
    });
  }

  stop() {
    this.closed = true;
    clearTimeout(this._retry);
    clearInterval(this._ping);
    clearInterval(this._probe);
    this._drop();
  }

  join(room, since) {
    const known = this.rooms.get(room);
    this.rooms.set(room, Math.max(known ?? 0, since ?? 0));
    this._write({ type: "join", room, since: this.rooms.get(room) });
  }

  leave(room) {
    this.rooms.delete(room);
    this._write({ type: "leave", room });
  }

  // Records a processed entry; returns false for one already seen (a replay overlap).
  advance(room, seq) {
    const last = this.rooms.get(room);
    if (last === undefined) return true;
    if (seq <= last) return false;
    this.rooms.set(room, seq);
    return true;
  }

  // A frame with a cid (send, edit, delete, react): kept until acked, resent after reconnects.
  request(frame) {
    const cid = frame.cid || `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const full = { ...frame, cid };
    this.pending.set(cid, full);
    this._write(full);
    return cid;
  }

  send(frame) {
    this._write(frame);
  }

  _write(frame) {
    if (this.link?.isOpen) this.link.send(frame);
  }

  _setState(state) {
    this.state = state;
    this.onState(state, this.via);
  }

  _kick() {
    if (this.state !== "online" && !this.closed) {
      clearTimeout(this._retry);
      this.attempt = 0;
      this._connect();
    }
  }

  _drop() {
    this.link?.close();
    this.link = null;
  }

  _connect() {
    this._drop();
    this._setState("connecting");
    const via = this.via;
    const callbacks = {
      onOpen: () => this._opened(link),
      onFrame: (frame) => this.link === link && this._received(frame),
      onClose: (code) => {
        if (this.link !== link || this.closed) return;
        this.link = null;
        this._lost(code, via === "http" || link.opened);
      },
    };
    const link = via === "http" ? new PollLink(callbacks) : new WsLink(callbacks);
    this.link = link;
    if (via === "http") link.open();
  }

  _opened(link) {
    if (this.link !== link) return;
    this.attempt = 0;
    if (this.via === "ws") this.failedOpens = 0;
    this._setState("online");
    for (const [room, since] of this.rooms) this._write({ type: "join", room, since });
    for (const frame of this.pending.values()) this._write(frame);
    this._write({ type: "ping" });
    clearInterval(this._ping);
    this._ping = setInterval(() => this._write({ type: "ping" }), PING_EVERY_MS);
    clearInterval(this._probe);
    if (this.via === "http") this._probe = setInterval(() => this._tryWebSocket(), WS_RETRY_MS);
    this.onOpen();
  }

  _received(frame) {
    if (frame.type === "ack") this.pending.delete(frame.cid);
    if (frame.type === "error" && frame.cid && this.pending.has(frame.cid)) {
      const again = this.pending.get(frame.cid);
      // The server says whether the same frame may succeed later (`retry`); the same cid is
      // never stored twice, so resending is safe.
      // Not before its `retry_after`, when it gives one (a webinar's slow mode).
      if (frame.retry === true) {
        setTimeout(() => this._write(again), Math.max(RESEND_AFTER_MS, (frame.retry_after || 0) * 1000));
      } else this.pending.delete(frame.cid);
    }
    this.onFrame(frame);
  }

  // The link ended; `opened` says whether it ever carried frames.
  _lost(code, opened) {
    clearInterval(this._ping);
    clearInterval(this._probe);
    if (this.closed) return;
    this._setState("offline");
    if (code === SESSION_ENDED) {
      this.closed = true;
      this.onSessionEnded();
      return;
    }
    if (this.via === "ws" && !opened && ++this.failedOpens >= FAILED_OPENS_BEFORE_HTTP) {
      this.via = "http"; // a proxy in the way: no wait, the fallback is no burden on the node
      this._connect();
      return;
    }
    if (code === GONE && Date.now() - (this._lastGone || 0) > BACKOFF_MAX_MS) {
      this._lastGone = Date.now();
      this._connect(); // the session is on another node, or expired: a new one, at once
      return;
    }
    // Capped exponential backoff with jitter, so a restarted node is not stampeded.
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this._retry = setTimeout(() => this._connect(), delay);
  }

  // On HTTP: a WebSocket may work now (another network, the proxy relented). Only once it is
  // open does the client move to it, resuming every room with `since` as after a reconnect.
  _tryWebSocket() {
    if (this.closed || this.via !== "http" || this.state !== "online" || this._probing) return;
    this._probing = true;
    const probe = new WsLink({
      onOpen: () => {
        this._probing = false;
        if (this.closed || this.via !== "http") return probe.close();
        this.via = "ws";
        this.failedOpens = 0;
        this._drop();
        this.link = probe;
        this._opened(probe);
      },
      onFrame: (frame) => this.link === probe && this._received(frame),
      onClose: (code) => {
        this._probing = false;
        if (this.link !== probe || this.closed) return;
        this.link = null;
        this._lost(code, true);
      },
    });
  }
}
