// Times as people in the district read them: in the working calendar's zone (Beijing time), which
// the API names in /config.json (`time_zone`), whatever zone the phone or browser is set to. The
// pages call useTimeZone once they have the config; until then the browser's own zone is used.
import { locale } from './i18n.js';

let zone;

export function useTimeZone(name) {
  zone = name || undefined;
}

// the zone's name (undefined until the config is read: the browser's own zone)
export function zoneName() {
  return zone;
}

// a date-time for display, e.g. 2026/12/7 09:30:00; '—' for none
export function formatTime(value, options = {}) {
  if (!value) return '—';
  return new Date(value).toLocaleString(locale(), { timeZone: zone, hour12: false, ...options });
}

// the calendar day of a moment in that zone (to compare days, e.g. "closed today")
export function dayOf(value) {
  return new Date(value).toLocaleDateString('en-CA', { timeZone: zone });
}
