// The WebSocket: msgpack subprotocol, reconnect with capped backoff, resume every joined room
// with `since` = the last seq processed, and resend every send without an ack under its
// original cid (docs/protocol.md, "Resuming"). Frames go to `onFrame`; state to `onState`.
// Close code 4001 (the session ended: logged out, in this tab or another) is final: no
// reconnect with the dead session; `onSessionEnded` takes over.
import { encode, decode } from "msgpack";

const PROTOCOL = "ecolink.v1.msgpack";
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const PING_EVERY_MS = 25000;
const SESSION_ENDED = 4001;
const RESEND_AFTER_MS = 1000;

export class Connection {
  constructor({ onFrame, onState, onOpen, onSessionEnded }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.onOpen = onOpen || (() => {});
    this.onSessionEnded = onSessionEnded || (() => {});
    this.rooms = new Map(); // room id -> last seq processed (joined rooms)
    this.pending = new Map(); // cid -> frame awaiting its ack
    this.ws = null;
    this.attempt = 0;
    this.closed = false;
    this.state = "connecting";
  }

  start() {
    this.closed = false;
    this._connect();
    window.addEventListener("online", () => this._kick());
    // The browser knows the network is gone before TCP does: drop the socket now, show it, and
    // resume with `since` when the network is back.
    window.addEventListener("offline", () => this.ws?.close(4000, "offline"));
  }

  stop() {
    this.closed = true;
    clearTimeout(this._retry);
    clearInterval(this._ping);
    if (this.ws) this.ws.close(1000);
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
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encode(frame));
  }

  _setState(state) {
    this.state = state;
    this.onState(state);
  }

  _kick() {
    if (this.state !== "online" && !this.closed) {
      clearTimeout(this._retry);
      this.attempt = 0;
      this._connect();
    }
  }

  _connect() {
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    this._setState("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`, PROTOCOL);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this._setState("online");
      for (const [room, since] of this.rooms) this._write({ type: "join", room, since });
      for (const frame of this.pending.values()) this._write(frame);
      this._write({ type: "ping" });
      clearInterval(this._ping);
      this._ping = setInterval(() => this._write({ type: "ping" }), PING_EVERY_MS);
      this.onOpen();
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") return; // the msgpack subprotocol sends binary only
      const frame = decode(new Uint8Array(event.data));
      if (frame.type === "ack") this.pending.delete(frame.cid);
      if (frame.type === "error" && frame.cid && this.pending.has(frame.cid)) {
        const again = this.pending.get(frame.cid);
        // The server says whether the same frame may succeed later (`retry`); the same cid is
        // never stored twice, so resending is safe.
        // (not before its `retry_after`, when it gives one: a webinar's slow mode)
        if (frame.retry === true) setTimeout(() => this._write(again), Math.max(RESEND_AFTER_MS, (frame.retry_after || 0) * 1000));
        else this.pending.delete(frame.cid);
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      clearInterval(this._ping);
      if (this.ws !== ws || this.closed) return;
      this._setState("offline");
      if (event.code === SESSION_ENDED) {
        this.closed = true;
        this.onSessionEnded();
        return;
      }
      // Capped exponential backoff with jitter, so a restarted node is not stampeded.
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this._retry = setTimeout(() => this._connect(), delay);
    };
  }
}
