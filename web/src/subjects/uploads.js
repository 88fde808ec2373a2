// Uploading a file to this node (docs/protocol.md, "Uploads"): the one way the client sends
// bytes, used by the composer's attachments, topics, webinars, the library and projects.
//
//   upload(file, {onProgress, signal}) → Promise<fileWire>
//
// `file` is a File or Blob (a Blob without a name is called "pasted"); onProgress(sent, total)
// is called as bytes leave (sent only grows, except when a dropped chunk is sent again);
// aborting `signal` cancels: the upload is deleted on the server and the promise rejects with
// a DOMException named "AbortError". It resolves to the file's wire dict ({id, name, type,
// size, kind, preview?}), ready to attach. Refusals (413 too large or over quota, 415 type)
// reject with the ApiError the server named.
//
// Flaky links: the upload is created with a random key, so a POST retried after a lost answer
// finds the same upload (no orphan). Bytes go in PATCHes of the server's part size through
// XMLHttpRequest (fetch reports no upload progress); a network error or a 5xx waits (backoff
// 0.5 s doubling to 15 s, reset by progress), asks the server its offset (HEAD) and goes on from
// there: only the unfinished part is sent again.
import { ApiError, api } from "../api.js";

const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 15000;
const MAX_FAILURES = 12; // in a row without progress: the link is gone, say so

const abortError = () => new DOMException("the upload was cancelled", "AbortError");

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[b % 62]).join("");
}

// Retry-worthy: the request never got an answer, or the node failed (5xx, 429).
const transient = (error) => !(error instanceof ApiError) || error.status >= 500 || error.status === 429
  || error.status === 0;

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    function stop() {
      clearTimeout(timer);
      reject(abortError());
    }
    signal?.addEventListener("abort", stop, { once: true });
  });
}

function errorOf(status, text, statusText) {
  let doc = {};
  try {
    doc = JSON.parse(text || "{}");
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  const error = doc.error || {};
  const apiError = new ApiError(status, error.code || "http_error", error.message || statusText || "upload failed",
    error.retry_after ?? null, error.details ?? null);
  apiError.offset = error.details?.offset ?? doc.offset ?? null; // 409 offset_mismatch
  return apiError;
}

// One PATCH of `chunk` at `offset`: resolves to the server's JSON ({offset} or {offset, file}).
function patch(id, offset, chunk, onSent, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const xhr = new XMLHttpRequest();
    const stop = () => xhr.abort();
    signal?.addEventListener("abort", stop, { once: true });
    const done = () => signal?.removeEventListener("abort", stop);
    xhr.open("PATCH", `/api/v1/uploads/${encodeURIComponent(id)}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Upload-Offset", String(offset));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onSent(event.loaded);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError(xhr.status, "http_error", "unreadable answer"));
        }
      } else {
        reject(errorOf(xhr.status, xhr.responseText, xhr.statusText));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, "network", "the connection dropped"));
    };
    xhr.onabort = () => {
      done();
      reject(abortError());
    };
    xhr.send(chunk);
  });
}

// Where the server is (HEAD): the committed offset.
async function serverOffset(id, signal) {
  const response = await fetch(`/api/v1/uploads/${encodeURIComponent(id)}`, { method: "HEAD", credentials: "same-origin", signal });
  if (!response.ok) throw new ApiError(response.status, response.status === 404 ? "not_found" : "http_error", response.statusText);
  const offset = Number(response.headers.get("upload-offset"));
  if (!Number.isSafeInteger(offset) || offset < 0) throw new ApiError(response.status, "http_error", "no Upload-Offset");
  return offset;
}

// Creating, retried on transient failures under the same key (the server returns the same upload).
async function create(file, key, signal) {
  const body = { name: file.name || "pasted", size: file.size, key };
  if (file.type) body.type = file.type;
  let wait = FIRST_WAIT_MS;
  for (let failures = 1; ; failures += 1) {
    if (signal?.aborted) throw abortError();
    try {
      return await api("POST", "/api/v1/uploads", body);
    } catch (error) {
      if (error?.name === "AbortError" || !transient(error) || failures >= MAX_FAILURES) throw error;
    }
    await sleep(wait, signal);
    wait = Math.min(wait * 2, MAX_WAIT_MS);
  }
}

export async function upload(file, { onProgress, signal } = {}) {
  if (signal?.aborted) throw abortError();
  const total = file.size;
  const created = await create(file, randomKey(), signal);
  const id = created.id;
  const cancel = () => {
    // Best effort: the sweeper removes it anyway once it expires.
    fetch(`/api/v1/uploads/${encodeURIComponent(id)}`, { method: "DELETE", credentials: "same-origin" }).catch(() => {});
  };
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    const partSize = Math.max(1, created.part_size || total || 1);
    let offset = created.offset || 0;
    let wait = FIRST_WAIT_MS;
    let failures = 0;
    onProgress?.(offset, total);
    for (;;) {
      const chunk = file.slice(offset, Math.min(offset + partSize, total));
      let answer;
      try {
        const base = offset;
        answer = await patch(id, offset, chunk, (sent) => onProgress?.(base + sent, total), signal);
      } catch (error) {
        if (error?.name === "AbortError") throw error;
        if (error instanceof ApiError && error.status === 409 && Number.isSafeInteger(error.offset)) {
          offset = error.offset; // the server has more (or less) than we thought: go on from there
          continue;
        }
        failures += 1;
        if (!transient(error) || failures >= MAX_FAILURES) throw error;
        await sleep(wait, signal);
        wait = Math.min(wait * 2, MAX_WAIT_MS);
        try {
          offset = await serverOffset(id, signal);
        } catch (headError) {
          if (headError?.name === "AbortError") throw headError;
          if (headError instanceof ApiError && headError.status >= 400 && headError.status < 500) throw headError;
          // still unreachable: try the same chunk again after the next wait
        }
        onProgress?.(offset, total);
        continue;
      }
      if (answer.file) {
        onProgress?.(total, total);
        return answer.file;
      }
      if (answer.offset > offset) {
        failures = 0;
        wait = FIRST_WAIT_MS;
      }
      offset = answer.offset;
      onProgress?.(offset, total);
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
}

// "1.2 MB": a size for people (decimal units, as file managers show them).
export function sizeText(bytes, lang = "en") {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(lang, { maximumFractionDigits: digits })} ${units[unit]}`;
}
