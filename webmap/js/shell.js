// The top bar of every page: title, links to the other faces, language switch, user, logout, and the
// "demo data" notice while a district's streets, communities or households are synthetic.
import { bindLanguageSwitch, escapeHtml, t, translatePage } from './i18n.js';
import { currentUser, deviceUser, logout } from './session.js';
import './texts-command.js';

const PAGES = [['/', 'nav.command'], ['/planner', 'nav.planner'], ['/field', 'nav.field'], ['/screen', 'nav.screen']];

export function renderShell(titleKey) {
  translatePage();
  document.title = t(titleKey);
  const bar = document.getElementById('wg-bar');
  const here = window.location.pathname;
  const links = PAGES.map(([href, key]) => `<a href="${href}"${href === here ? ' aria-current="page"' : ''}>${t(key)}</a>`);
  bar.innerHTML = `<h1 id="wg-title">${escapeHtml(t(titleKey))}</h1><nav>${links.join('')}</nav>
    <span class="wg-spacer"></span><span id="wg-demo-notice" class="wg-demo" hidden></span>
    <span id="wg-bar-extra"></span><span id="wg-who"></span>
    <button type="button" id="wg-lang"></button><button type="button" id="wg-logout" hidden>${t('logout')}</button>`;
  bindLanguageSwitch(bar.querySelector('#wg-lang'));
  bar.querySelector('#wg-logout').addEventListener('click', async () => {
    await logout();
    window.location.reload();
  });
}

// The title names the user's area (from the database), e.g. 武汉市网格化指挥中心.
export function titleWithArea(titleKey, me) {
  const title = t(`${titleKey}_of`, { area: me.scope_name });
  document.title = title;
  document.getElementById('wg-title').textContent = title;
}

export function showUser(me = null) {
  const user = currentUser() ?? deviceUser(); // offline in a new tab: the device's account
  if (!user) return;
  const where = me ? `${me.scope_name} (${user.scope_code})` : user.scope_code;
  document.getElementById('wg-who').textContent = `${user.username} · ${t(`role.${user.role}`)} · ${where}`;
  document.getElementById('wg-logout').hidden = false;
  if (me) showDataNotice(me.districts);
}

// Synthetic streets, communities or households in any of the user's districts: say so on every page.
function showDataNotice(districts) {
  const synthetic = districts.filter((district) => district.demo_data);
  const notice = document.getElementById('wg-demo-notice');
  notice.hidden = synthetic.length === 0;
  notice.textContent = t('notice.demo');
  notice.title = t('notice.demo_detail', { names: synthetic.map((district) => district.name).join('、') });
}
