// Calls to our API; every authenticated call carries the session's bearer token, and a 401 from an
// expired access token is answered once by renewing it with the refresh token and trying again.
import { accessTokenExpiring, currentToken, dropAccessToken, refreshSession } from './session.js';

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
    if (response.status === 401) dropAccessToken();
    throw new ApiError(response.status, detailText(body, response.status));
  }
  return body;
}

export function authHeaders(extra = {}) {
  const token = currentToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : { ...extra };
}

// fetch with the bearer token, renewed first when it is about to expire; on a 401 anyway (revoked,
// clock skew), renew once and repeat. `headers` are the request's own (Authorization is added).
export async function authedFetch(url, init = {}, headers = {}) {
  if (accessTokenExpiring()) await refreshSession();
  const response = await fetch(url, { ...init, headers: authHeaders(headers) });
  if (response.status !== 401 || !(await refreshSession())) return response;
  return fetch(url, { ...init, headers: authHeaders(headers) });
}

export function apiUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  Object.entries(params).forEach(([key, value]) => {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  });
  return url;
}

export async function getJson(path, params = {}) {
  return parse(await authedFetch(apiUrl(path, params)));
}

export async function postJson(path, body = {}, headers = {}) {
  const init = { method: 'POST', body: JSON.stringify(body) };
  return parse(await authedFetch(apiUrl(path), init, { 'Content-Type': 'application/json', ...headers }));
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch('/auth/token', { method: 'POST', body: form });
  return parse(response);
}

let endpointPaths = null;

// The API's paths (from its OpenAPI document), so pages only call endpoints this server has.
export async function endpoints() {
  if (!endpointPaths) {
    endpointPaths = fetch('/openapi.json')
      .then((response) => (response.ok ? response.json() : { paths: {} }))
      .then((document) => new Set(Object.keys(document.paths ?? {})))
      .catch(() => new Set());
  }
  return endpointPaths;
}

export async function hasEndpoint(path) {
  return (await endpoints()).has(path);
}
