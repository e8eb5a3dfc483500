// The logged-in account: the access token and user for this tab (sessionStorage), and the refresh
// token for this device (localStorage), so a phone that drops the tab is not logged out: the next
// page load (or a 401 from an expired access token) trades the refresh token for a new pair.
// Beside the refresh token the device keeps who it belongs to (username, role, scope: no
// credential), so the field app opened offline in a new tab knows whose copies to show; its first
// request once the network is back renews the tokens. Offline nothing is requested (a request that
// cannot succeed would only fail, and the refresh token is kept for later).
const TOKEN_KEY = 'wangge.token';
const USER_KEY = 'wangge.user';
const REFRESH_KEY = 'wangge.refresh';
const DEVICE_USER_KEY = 'wangge.device-user';
const EXPIRES_KEY = 'wangge.expires';
const RENEW_BEFORE_MS = 60000;

let refreshing = null;

// Keep a token response from /auth/token or /auth/refresh.
export function saveSession(response) {
  const { access_token: token, refresh_token: refresh, ...user } = response;
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + (user.expires_in ?? 0) * 1000));
  if (refresh) {
    localStorage.setItem(REFRESH_KEY, refresh);
    localStorage.setItem(DEVICE_USER_KEY, JSON.stringify(user));
  }
}

export function currentToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  const stored = sessionStorage.getItem(USER_KEY);
  return stored ? JSON.parse(stored) : null;
}

// True when the access token expires within a minute and a refresh token can renew it first.
export function accessTokenExpiring() {
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY) ?? 0);
  return hasRefreshToken() && Date.now() > expires - RENEW_BEFORE_MS;
}

export function hasRefreshToken() {
  return Boolean(localStorage.getItem(REFRESH_KEY));
}

// The account this device's refresh token belongs to, or null (no refresh token, or logged out).
export function deviceUser() {
  const stored = hasRefreshToken() ? localStorage.getItem(DEVICE_USER_KEY) : null;
  return stored ? JSON.parse(stored) : null;
}

// Forget the access token (e.g. after a 401); the refresh token may still renew it.
export function dropAccessToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
}

export function clearSession() {
  dropAccessToken();
  localStorage.removeItem(REFRESH_KEY);
  localStorage.removeItem(DEVICE_USER_KEY);
}

function refreshForm(token) {
  return new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token });
}

// Trade the refresh token for a new access token and refresh token; true when it worked. Concurrent
// callers share one request (the server allows a short grace for a second tab doing the same).
export function refreshSession() {
  const token = localStorage.getItem(REFRESH_KEY);
  if (!token || !navigator.onLine) return Promise.resolve(false);
  if (!refreshing) {
    refreshing = fetch('/auth/refresh', { method: 'POST', body: refreshForm(token), cache: 'no-store' })
      .then(async (response) => {
        if (response.ok) { saveSession(await response.json()); return true; }
        if (response.status === 401) clearSession(); // expired, revoked or reused: log in again
        return false;
      })
      .catch(() => false) // offline: keep the refresh token for later
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

// Log out on this device: the server ends the refresh token's login, the browser forgets both.
export async function logout() {
  const token = localStorage.getItem(REFRESH_KEY);
  clearSession();
  if (token) await fetch('/auth/logout', { method: 'POST', body: refreshForm(token) }).catch(() => {});
}
