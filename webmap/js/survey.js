// A household's survey on its grid worker (/survey?t=TOKEN, from the household's QR code): 熟悉度,
// 信任度 and 满意度 on a 1-5 scale, once per household and quarter; no names asked or stored.
import './texts-residents.js';
import { bindLanguageSwitch, escapeHtml, t, translatePage } from './i18n.js';

const $ = (id) => document.getElementById(id);
const QUESTIONS = ['familiarity', 'trust', 'satisfaction'];
const token = new URLSearchParams(window.location.search).get('t') ?? '';
// household.period.signature (gis_api/residents/tokens.py); a garbled link is told apart at once
const TOKEN_SHAPE = /^[1-9][0-9]{0,18}\.[0-9]{4}Q[1-4]\.[A-Za-z0-9_-]{16,64}$/;

async function call(method, body) {
  const response = await fetch(`/residents/surveys/${encodeURIComponent(token)}`, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await response.json().catch(() => null);
  return { status: response.status, answer };
}

function scaleHtml(name) {
  const options = [1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="${name}" value="${n}" required>${n}</label>`).join('');
  return `<div class="wg-scale">${options}</div><div class="wg-scale-ends"><span>${t('survey.scale_low')}</span><span>${t('survey.scale_high')}</span></div>`;
}

function finish(key) {
  $('wg-survey-form').hidden = true;
  $('wg-survey-done').hidden = false;
  $('wg-survey-done').textContent = t(key);
  document.body.dataset.outcome = key;
}

async function submit(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const scores = Object.fromEntries(QUESTIONS.map((q) => [q, Number(form.get(q))]));
  if (QUESTIONS.some((q) => !scores[q])) { $('wg-toast').textContent = t('survey.all_needed'); return; }
  $('wg-survey-submit').disabled = true;
  const { status, answer } = await call('POST', { ...scores, note: $('wg-survey-note').value });
  if (status === 201) finish('survey.thanks');
  else if (status === 409) finish(String(answer?.detail ?? '').includes('closed') ? 'survey.closed' : 'survey.answered');
  else { $('wg-survey-submit').disabled = false; $('wg-toast').textContent = escapeHtml(answer?.detail ?? `HTTP ${status}`); }
}

async function start() {
  translatePage();
  document.title = t('survey.title');
  bindLanguageSwitch($('wg-lang'));
  const { status, answer } = TOKEN_SHAPE.test(token) ? await call('GET') : { status: 404 };
  if (status !== 200) { finish('survey.invalid'); document.body.dataset.ready = 'true'; return; }
  const worker = answer.worker_name ?? t('survey.no_worker');
  $('wg-survey-intro').innerHTML = `<p>${escapeHtml(t('survey.intro', { community: answer.community_name, grid: answer.grid_name, worker }))}</p>
    <p class="muted">${escapeHtml(t('survey.period', { period: answer.period }))}</p>`;
  if (!answer.open) finish('survey.closed');
  else if (answer.answered) finish('survey.answered');
  else {
    QUESTIONS.forEach((q) => $(`q-${q}`).insertAdjacentHTML('beforeend', scaleHtml(q)));
    $('wg-survey-form').hidden = false;
    $('wg-survey-form').addEventListener('submit', submit);
  }
  document.body.dataset.ready = 'true';
}

start().catch((error) => { $('wg-toast').textContent = error.message; });
