// What the field app cannot work without and browsers give only to secure contexts (HTTPS, or the
// machine itself): random ids for the offline queue, SHA-256 for photo references, and location.
// Over plain HTTP on a network these are missing, so the app says so instead of failing silently.
export function missingSecureFeatures() {
  const missing = [];
  if (!window.isSecureContext) missing.push('HTTPS (isSecureContext)');
  if (typeof globalThis.crypto?.randomUUID !== 'function') missing.push('crypto.randomUUID');
  if (!globalThis.crypto?.subtle) missing.push('crypto.subtle');
  if (!window.isSecureContext || !('geolocation' in navigator)) missing.push('geolocation');
  return missing;
}
