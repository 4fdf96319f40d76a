// REST calls to the API (same origin; the login cookie authenticates them).

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch('/api' + path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/user/login')) onUnauthorized();
    throw new ApiError(res.status, data);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const del = (path, body) => api('DELETE', path, body);

const qs = (params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');

/** Every entity of a kind (pages of 1000). */
export async function listAll(kind, params = {}) {
  const out = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await get(`/${kind}?${qs({ ...params, limit: 1000, offset })}`);
    out.push(...page.data);
    if (out.length >= page.count || page.data.length === 0) return out;
  }
}

/** Actions through POST /api/action: [{resource, payload, keyPath?}]. */
export const action = (resource, payload) => post('/action', [{ resource, payload: String(payload) }]);

export { qs };
