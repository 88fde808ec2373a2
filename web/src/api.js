// HTTP: JSON in and out, the session cookie sent by the browser (same origin). Errors throw an
// ApiError carrying the server's code and message (docs/protocol.md, "HTTP errors").
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds, on errors that pass with time (429, 503)
    this.details = details; // field -> problem, on 422 "invalid"
  }
}

export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const doc = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = doc.error || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText,
      error.retry_after ?? null, error.details ?? null);
  }
  return doc;
}

// A file the server sends as a download (an export): GET `path`; a non-2xx answer throws the
// ApiError its JSON body names, as api() does, so the caller can say what went wrong; a 2xx
// one is read to the end (onProgress(bytes) as it comes; `signal` aborts) and resolves to
// {blob, filename}, the name the server gave in Content-Disposition (RFC 6266: filename*
// first, else filename, else `fallback`).
export async function download(path, { signal, onProgress, fallback = "download" } = {}) {
  const response = await fetch(path, { credentials: "same-origin", signal });
  if (!response.ok) {
    const doc = await response.json().catch(() => ({}));
    const error = doc.error || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText,
      error.retry_after ?? (Number(response.headers.get("retry-after")) || null), error.details ?? null);
  }
  const parts = [];
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    bytes += value.length;
    onProgress?.(bytes);
  }
  const type = response.headers.get("content-type") || "application/octet-stream";
  return { blob: new Blob(parts, { type }), filename: dispositionName(response.headers.get("content-disposition")) || fallback };
}

// The file name in a Content-Disposition header (null: none).
export function dispositionName(header) {
  if (!header) return null;
  const extended = /filename\*\s*=\s*([^;]+)/i.exec(header);
  if (extended) {
    const value = extended[1].trim().replace(/^"(.*)"$/, "$1");
    const encoded = value.replace(/^[\w-]+'[^']*'/, ""); // charset'language'
    try {
      return decodeURIComponent(encoded);
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header);
  if (!plain) return null;
  return (plain[2] !== undefined ? plain[2].replace(/\\(.)/g, "$1") : plain[1]).trim();
}
