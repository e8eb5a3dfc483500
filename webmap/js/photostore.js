// Photos waiting in the field app's outbox, kept in IndexedDB (too large for localStorage) until
// the server has them; keyed by the outbox entry that uploads them.
const DB_NAME = 'wangge-photos';
const STORE = 'photos';

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

export const putPhoto = (key, blob) => run('readwrite', (store) => store.put(blob, key));
export const getPhoto = (key) => run('readonly', (store) => store.get(key));
export const deletePhoto = (key) => run('readwrite', (store) => store.delete(key));

const MAX_BYTES = 5 * 1024 * 1024;

// 'jpg' | 'png' | 'webp' from the first bytes (the server checks the same way), else null
export function imageKind(bytes) {
  const starts = (...values) => values.every((value, index) => bytes[index] === value);
  if (starts(0xff, 0xd8, 0xff)) return 'jpg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  const ascii = (from, to) => String.fromCharCode(...bytes.slice(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return null;
}

// {ref} for an acceptable photo (the server's reference is the SHA-256 of the bytes, so it is known
// before the upload and an offline action can cite it), or {error: i18n key}
export async function photoReference(file) {
  if (file.size > MAX_BYTES) return { error: 'field.photo_too_large' };
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (!imageKind(bytes)) return { error: 'field.photo_type' };
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { ref: `media:sha256:${hex}` };
}
