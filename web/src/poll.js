// The long-polling link: the WebSocket's frames over plain HTTP, for networks whose proxy blocks
// WebSockets (docs/protocol.md, "Long-polling fallback"). socket.js uses it as it uses a
// WebSocket: open(), send(frame), close(), and onOpen / onFrame / onClose(code) back.
// JSON frames; the session cookie goes with every request (same origin).
// - GET /api/v1/poll/{session}?after=N, one at a time: N is the last frame received, so an
//   answer lost on the way comes again on the next GET (a few retries before giving up);
// - POST /api/v1/poll/{session}: the frames written meanwhile, in order, one POST at a time;
// - 404 (the session is gone: another node, expired) ends the link with GONE, 401 with 4001
//   (the login session ended); socket.js then opens a new link and resumes with `since`.
export const GONE = 4404;
const SESSION_ENDED = 4001;
const LOST = 1006;
const GET_RETRIES = 3;
const GET_RETRY_MS = 700;

export class PollLink {
  constructor({ onOpen, onFrame, onClose }) {
    this.onOpen = onOpen;
    this.onFrame = onFrame;
    this.onClose = onClose;
    this.session = null;
    this.after = 0;
    this.maxFrames = 64;
    this.queue = [];
    this.posting = false;
    this.done = false;
    this.abort = new AbortController();
  }

  get isOpen() {
    return this.session !== null && !this.done;
  }

  get path() {
    return `/api/v1/poll/${encodeURIComponent(this.session)}`;
  }

  async open() {
    const response = await this._fetch("/api/v1/poll", { method: "POST" });
    if (this.done) return;
    if (!response) return this._end(LOST);
    if (!response.ok) return this._end(response.status === 401 ? SESSION_ENDED : LOST);
    const doc = await response.json().catch(() => null);
    if (!doc) return this._end(LOST);
    this.session = doc.session;
    if (this.done) return this._forget(); // closed while it opened
    this.maxFrames = doc.max_frames || this.maxFrames;
    this.onOpen();
    this._poll();
    this._flush();
  }

  send(frame) {
    this.queue.push(frame);
    if (this.queue.length === 1) queueMicrotask(() => this._flush()); // one POST for a burst
  }

  // Ends the link without a callback; the server forgets the session at once.
  close() {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    if (this.session) this._forget();
  }

  _forget() {
    fetch(this.path, { method: "DELETE", credentials: "same-origin", keepalive: true }).catch(() => {});
  }

  async _poll() {
    let failures = 0;
    while (!this.done) {
      const response = await this._fetch(`${this.path}?after=${this.after}`, { cache: "no-store" });
      if (this.done) return;
      if (response?.status === 404) return this._end(GONE);
      if (response?.status === 401) return this._end(SESSION_ENDED);
      const doc = response?.ok ? await response.json().catch(() => null) : null;
      if (this.done) return;
      if (!doc) {
        // Lost on the way (or a proxy's error page): ask again with the same `after`.
        if (++failures > GET_RETRIES) return this._end(LOST);
        await new Promise((resolve) => setTimeout(resolve, GET_RETRY_MS * failures));
        continue;
      }
      failures = 0;
      this.after = doc.last;
      for (const frame of doc.frames) {
        if (this.done) return; // closed by a frame's handler: the rest come again after a resume
        this.onFrame(frame);
      }
      if (doc.closed) return this._end(doc.closed.code);
    }
  }

  async _flush() {
    if (this.posting || !this.isOpen || this.queue.length === 0) return;
    this.posting = true;
    const batch = this.queue.splice(0, this.maxFrames);
    const response = await this._fetch(this.path, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(batch),
    });
    this.posting = false;
    if (this.done) return;
    // Anything but 202: what this link sent may be lost, so a new one resumes and resends.
    if (response?.status === 202) this._flush();
    else this._end(response?.status === 404 ? GONE : response?.status === 401 ? SESSION_ENDED : LOST);
  }

  async _fetch(url, init) {
    try {
      return await fetch(url, { ...init, credentials: "same-origin", signal: this.abort.signal });
    } catch {
      return null; // no network, or aborted by close()
    }
  }

  _end(code) {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    this.onClose(code);
  }
}
