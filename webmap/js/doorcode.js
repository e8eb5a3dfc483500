// 门牌 codes (format defined in gis_api/households/doorcode.py): the QR at a door says
// "WGH1:<household id>-<check>", the same code can be typed as "<household id>-<check>"; the check is
// ISO 7064 MOD 97-10, so a mistyped digit or two swapped digits never name another household.
const PATTERN = /^(?:WGH1:)?\s*([1-9][0-9]{0,18})\s*-\s*([0-9]{2})\s*$/i;

// id as a digit string (household ids may exceed 2^53): the remainder digit by digit
function mod97(digits) {
  let rest = 0;
  for (const digit of digits) rest = (rest * 10 + Number(digit)) % 97;
  return rest;
}

export function checkDigits(id) {
  return 98 - ((mod97(String(id)) * 100) % 97);
}

export function doorCode(id) {
  return `${id}-${String(checkDigits(id)).padStart(2, '0')}`;
}

// {id} for a valid scanned payload or typed code, else {error: i18n key}
export function parseDoorCode(text) {
  const match = PATTERN.exec(String(text ?? '').trim());
  if (!match) return { error: 'visit.code_format' };
  if (checkDigits(match[1]) !== Number(match[2])) return { error: 'visit.code_check' };
  return { id: Number(match[1]) };
}
