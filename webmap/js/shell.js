// The top bar of every page: title, links to the other faces, language switch, user, logout.
import { bindLanguageSwitch, escapeHtml, t, translatePage } from './i18n.js';
import { clearSession, currentUser } from './session.js';
import './texts-command.js';

const PAGES = [['/', 'nav.command'], ['/planner', 'nav.planner'], ['/field', 'nav.field'], ['/screen', 'nav.screen']];

export function renderShell(titleKey) {
  translatePage();
  document.title = t(titleKey);
  const bar = document.getElementById('wg-bar');
  const here = window.location.pathname;
  const links = PAGES.map(([href, key]) => `<a href="${href}"${href === here ? ' aria-current="page"' : ''}>${t(key)}</a>`);
  bar.innerHTML = `<h1>${escapeHtml(t(titleKey))}</h1><nav>${links.join('')}</nav>
    <span class="wg-spacer"></span><span id="wg-bar-extra"></span><span id="wg-who"></span>
    <button type="button" id="wg-lang"></button><button type="button" id="wg-logout" hidden>${t('logout')}</button>`;
  bindLanguageSwitch(bar.querySelector('#wg-lang'));
  bar.querySelector('#wg-logout').addEventListener('click', () => {
    clearSession();
    window.location.reload();
  });
}

export function showUser() {
  const user = currentUser();
  if (!user) return;
  document.getElementById('wg-who').textContent = `${user.username} · ${t(`role.${user.role}`)} · ${user.scope_code}`;
  document.getElementById('wg-logout').hidden = false;
}
