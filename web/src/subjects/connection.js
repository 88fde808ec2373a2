// The client's one live connection (socket.js: a WebSocket, or its HTTP fallback) and its state
// for the header. Frames and openings go
// to whatever dispatch.js routes them with; this module knows no subject.
import { Connection } from "../socket.js";
import { changed, state } from "../state.js";

let route = { frame: () => {}, open: () => {} };

// dispatch.js calls this once: `frame(frame)` for every frame, `open()` for every connection.
export function routeTo(routes) {
  route = routes;
}

export const connection = new Connection({
  onFrame: (frame) => {
    route.frame(frame);
    changed();
  },
  onState: (conn, via) => {
    state.conn = conn;
    state.connVia = via;
    changed();
  },
  onOpen: () => route.open(),
  // Logged out elsewhere (another tab, or the token was revoked): show the login form.
  onSessionEnded: () => signedOut(),
});

// Back to the login form: a reload drops every subject's state with the dead session.
export function signedOut() {
  location.hash = "";
  location.reload();
}
