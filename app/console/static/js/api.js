// The REST API, called with the session cookie (HttpOnly: this script never sees it). Writes
// carry the session's CSRF token in a header.

let current = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function session() {
  return current;
}

export function setSession(value) {
  current = value;
}

export function workspacePath(path = "") {
  return `/v1/workspaces/${encodeURIComponent(current.workspace.slug)}${path}`;
}

export async function request(path, { method = "GET", body, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && current) headers["X-CSRF-Token"] = current.csrf_token;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) {
    let code = "error";
    let message = `${response.status} ${response.statusText}`;
    try {
      const answer = await response.json();
      code = answer.error?.code ?? code;
      message = answer.error?.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401 && current) {
      current = null;
      window.dispatchEvent(new CustomEvent("console:signed-out", { detail: message }));
    }
    throw new ApiError(response.status, code, message);
  }
  if (response.status === 204) return null;
  if (accept !== "application/json") return response;
  return response.json();
}

export const api = {
  get: (path) => request(workspacePath(path)),
  post: (path, body) => request(workspacePath(path), { method: "POST", body }),
  put: (path, body) => request(workspacePath(path), { method: "PUT", body }),
  patch: (path, body) => request(workspacePath(path), { method: "PATCH", body }),
  delete: (path) => request(workspacePath(path), { method: "DELETE" }),
};
