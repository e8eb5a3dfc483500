// The bearer token and user of the logged-in account, kept for this browser tab (sessionStorage).
const TOKEN_KEY = 'wangge.token';
const USER_KEY = 'wangge.user';

export function saveSession(token, user) {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function currentToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  const stored = sessionStorage.getItem(USER_KEY);
  return stored ? JSON.parse(stored) : null;
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}
