// Downloads (.xlsx / CSV) fetched with the session's token and saved through a blob link.
import { apiUrl, authedFetch } from './api.js';
import { language, t } from './i18n.js';
import './texts-command.js';

export async function download(path, params, filename) {
  const response = await authedFetch(apiUrl(path, { ...params, lang: language() }));
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(typeof body.detail === 'string' ? body.detail : `HTTP ${response.status}`);
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

// Buttons "label .xlsx" and "CSV"; `request()` returns [path without extension, params, file stem].
export function exportButtons(container, label, request, onError) {
  const wrap = document.createElement('span');
  wrap.className = 'wg-export';
  wrap.innerHTML = ['xlsx', 'csv'].map((fmt) => `<button type="button" data-format="${fmt}">${label} .${fmt}</button>`).join('');
  wrap.addEventListener('click', (event) => {
    const fmt = event.target.closest('button')?.dataset.format;
    if (!fmt) return;
    const [path, params, stem] = request();
    download(`${path}.${fmt}`, params, `${stem}.${fmt}`).catch((error) => onError(t('export.failed', { reason: error.message })));
  });
  container.append(wrap);
  return wrap;
}
