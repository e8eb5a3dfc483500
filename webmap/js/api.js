// Calls to our API; every authenticated call carries the session's bearer token.
import { clearSession, currentToken } from './session.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function detailText(body, status) {
  if (!body || body.detail === undefined) return `HTTP ${status}`;
  if (Array.isArray(body.detail)) return body.detail.map((item) => item.msg).join('; ');
  return String(body.detail);
}

async function parse(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) clearSession();
    throw new ApiError(response.status, detailText(body, response.status));
  }
  return body;
}

export async function getJson(path, params = {}) {
  const url = new URL(path, window.location.origin);
  Object.entries(params).forEach(([key, value]) => url.searchParams.set(key, value));
  const token = currentToken();
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return parse(await fetch(url, { headers }));
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch('/auth/token', { method: 'POST', body: form });
  return parse(response);
}
