// The login box (top right): a form when logged out, the user and a logout button when logged in.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { login } from './api.js';
import { escapeHtml, ROLE_NAMES } from './labels.js';
import { clearSession, currentUser, saveSession } from './session.js';

function loggedOutHtml() {
  return `<h1>登录</h1>
    <form id="wg-login">
      <label for="wg-username">用户名</label><input id="wg-username" name="username" autocomplete="username" required>
      <label for="wg-password">密码</label><input id="wg-password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">登录</button>
      <div class="wg-error" id="wg-login-error" role="alert"></div>
    </form>`;
}

function loggedInHtml(user) {
  const role = ROLE_NAMES[user.role] ?? user.role;
  return `<div>用户 <b>${escapeHtml(user.username)}</b></div>
    <div>${escapeHtml(role)} · 范围 ${escapeHtml(user.scope_code)}</div>
    <button type="button" id="wg-logout">退出</button>`;
}

export function loginControl(onChange) {
  const control = L.control({ position: 'topright' });
  let container;

  function render() {
    const user = currentUser();
    container.innerHTML = user ? loggedInHtml(user) : loggedOutHtml();
    if (user) {
      container.querySelector('#wg-logout').addEventListener('click', () => {
        clearSession();
        render();
        onChange(null);
      });
      return;
    }
    container.querySelector('#wg-login').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const token = await login(form.get('username'), form.get('password'));
        saveSession(token.access_token, token);
        render();
        onChange(token);
      } catch (error) {
        const reason = error.status === 401 ? '用户名或密码错误' : error.message;
        container.querySelector('#wg-login-error').textContent = `登录失败：${reason}`;
      }
    });
  }

  control.onAdd = () => {
    container = L.DomUtil.create('div', 'wg-panel');
    L.DomEvent.disableClickPropagation(container);
    L.DomEvent.disableScrollPropagation(container);
    render();
    return container;
  };
  control.refresh = () => render();
  return control;
}
