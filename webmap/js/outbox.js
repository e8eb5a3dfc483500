// Offline outbox for the field app: every write is stored (localStorage) with an idempotency key
// before it is sent, sent in order when the network is there, and removed only once the server has
// answered; a retry after a lost answer carries the same key, so nothing is lost or done twice.
// Photo uploads are entries too (the file itself waits in IndexedDB), queued before the action that
// cites them, so they reach the server first.
import { authedFetch } from './api.js';
import { deletePhoto, getPhoto, putPhoto } from './photostore.js';

const RETRY_MS = 10000;

function storageKey(username) {
  return `wangge.outbox.${username}`;
}

export class Outbox {
  constructor(username, { onChange = () => {}, onDelivered = () => {}, onRejected = () => {} } = {}) {
    this.key = storageKey(username);
    this.onChange = onChange;
    this.onDelivered = onDelivered;
    this.onRejected = onRejected;
    this.flushing = null;
    window.addEventListener('online', () => this.flush());
    setInterval(() => this.flush(), RETRY_MS);
  }

  entries() {
    return JSON.parse(localStorage.getItem(this.key) ?? '[]');
  }

  save(entries) {
    localStorage.setItem(this.key, JSON.stringify(entries));
    this.onChange(entries.length);
  }

  // Queue a POST; `kind` tells the page what it was (e.g. 'action', 'report', 'visit').
  send(kind, path, body) {
    const entry = { id: crypto.randomUUID(), kind, path, body, queuedAt: new Date().toISOString() };
    this.save([...this.entries(), entry]);
    return this.flush();
  }

  // Queue a photo upload (multipart POST /media); resolves once it is stored locally and flushing
  async sendPhoto(file) {
    const entry = { id: crypto.randomUUID(), kind: 'photo', path: '/media', photo: true, name: file.name, queuedAt: new Date().toISOString() };
    await putPhoto(entry.id, file);
    this.save([...this.entries(), entry]);
    this.flush();
  }

  async request(entry) {
    if (!entry.photo) {
      const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': entry.id };
      return authedFetch(entry.path, { method: 'POST', body: JSON.stringify(entry.body) }, headers);
    }
    const blob = await getPhoto(entry.id);
    if (!blob) return new Response(JSON.stringify({ detail: 'photo missing on this device' }), { status: 410 });
    const form = new FormData();
    form.append('file', blob, entry.name || 'photo');
    return authedFetch(entry.path, { method: 'POST', body: form }, { 'Idempotency-Key': entry.id });
  }

  get size() {
    return this.entries().length;
  }

  flush() {
    if (!this.flushing) this.flushing = this.deliverAll().finally(() => { this.flushing = null; });
    return this.flushing;
  }

  async deliverAll() {
    while (navigator.onLine) {
      const [entry] = this.entries();
      if (!entry) return;
      let response;
      try {
        response = await this.request(entry);
      } catch {
        return; // network gone: keep the entry, try again later
      }
      if (response.status >= 500 || response.status === 401 || response.status === 429) return;
      const body = await response.json().catch(() => null);
      this.save(this.entries().filter((queued) => queued.id !== entry.id));
      if (entry.photo) await deletePhoto(entry.id).catch(() => {});
      if (response.ok) this.onDelivered(entry, body);
      else this.onRejected(entry, body?.detail ?? `HTTP ${response.status}`);
    }
  }
}
