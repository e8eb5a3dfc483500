// The logged-in user as the server describes them (GET /auth/me): scope, its name, what they may do,
// their districts, and the rules of area levels and code lengths. Pages use these instead of
// spelling roles or code lengths themselves.
import { getJson } from './api.js';

let pending = null;

export function whoAmI() {
  pending ??= getJson('/auth/me');
  return pending;
}

// The level ('city', 'district', 'street', 'community', 'grid') of an area code, by its length.
export function levelOf(me, code) {
  const found = me.definitions.levels.find((level) => level.code_lengths.includes(code.length));
  return found ? found.level : null;
}

// How many digits the codes of a level have (the shortest, for levels with several).
export function codeLength(me, level) {
  return Math.min(...me.definitions.levels.find((item) => item.level === level).code_lengths);
}

// The area filter to send for a selected code: none for the user's own scope (the server's default).
export function narrowing(me, code) {
  return code && code !== me.scope_code ? code : '';
}
