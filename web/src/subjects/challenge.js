// The registration challenge (docs/protocol.md, "Registration challenge"): fetched and solved
// in a Web Worker (workers/pow.js) as soon as the registration form shows, so the proof is
// usually ready when the member submits. Each proof serves one registration.
import { api } from "../api.js";

let pending = null; // {promise, worker, expires}: the proof being solved or solved

function solve() {
  const worker = new Worker(new URL("../workers/pow.js", import.meta.url));
  const promise = api("GET", "/api/v1/registration/challenge").then(({ challenge, bits, expires_at }) => {
    if (!challenge) {
      worker.terminate();
      return null;
    }
    entry.expires = Date.parse(expires_at);
    return new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => { worker.terminate(); resolve({ challenge: data.challenge, nonce: data.nonce }); };
      worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message || "worker failed")); };
      worker.postMessage({ challenge, bits });
    });
  });
  const entry = { promise, worker, expires: Infinity };
  promise.catch(() => { if (pending === entry) pending = null; });
  return entry;
}

// Start solving a challenge now (the form is showing), unless one is under way or ready.
export function prepareProof() {
  if (!pending || pending.expires < Date.now() + 30_000) {
    pending?.worker.terminate();
    pending = solve();
  }
}

// The proof for the next registration (null: the server asks none): waits for the worker.
export async function takeProof() {
  prepareProof();
  return pending.promise;
}

// The last proof was spent (or refused) and the form still shows: solve a new one.
export function proofSpent() {
  proofUsed();
  prepareProof();
}

// The last proof made an account: nothing more to solve.
export function proofUsed() {
  pending?.worker.terminate();
  pending = null;
}
