// Login dialog shared by the pages: resolves with the token response once the user is in.
import { login } from './api.js';
import { t } from './i18n.js';
import { currentUser, deviceUser, refreshSession, saveSession } from './session.js';

function dialogHtml() {
  return `<form class="wg-login" id="wg-login">
      <h2>${t('login.title')}</h2>
      <label for="wg-username">${t('login.username')}</label>
      <input id="wg-username" name="username" autocomplete="username" required>
      <label for="wg-password">${t('login.password')}</label>
      <input id="wg-password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">${t('login.submit')}</button>
      <div class="wg-error" id="wg-login-error" role="alert"></div>
    </form>`;
}

// The logged-in user: this tab's session, else one renewed with the device's refresh token (a phone
// that dropped the tab), else asking for credentials. A page that works offline (`offline: true`,
// the field app) opened without network in a new tab gets the device's account instead of a login
// it could not send; its requests renew the tokens once the network is back.
export async function ensureLogin({ offline = false } = {}) {
  const user = currentUser();
  if (user) return user;
  if (await refreshSession()) return currentUser();
  if (offline && !navigator.onLine && deviceUser()) return deviceUser();
  return new Promise((resolve) => {
    const overlay = document.createElement('div');
    overlay.className = 'wg-overlay';
    overlay.innerHTML = dialogHtml();
    document.body.append(overlay);
    overlay.querySelector('#wg-username').focus();
    overlay.querySelector('form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const token = await login(form.get('username'), form.get('password'));
        saveSession(token);
        overlay.remove();
        resolve(currentUser());
      } catch (error) {
        const reason = error.status === 401 ? t('login.bad') : error.message;
        overlay.querySelector('#wg-login-error').textContent = t('login.failed', { reason });
      }
    });
  });
}
