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
