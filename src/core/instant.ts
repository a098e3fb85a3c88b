// Timestamps from the trackers, read fast. A first sync reads half a million of them (created,
// updated, every status change in a changelog), and `new Date(s).toISOString()` with the offset
// rewritten by a regular expression cost more than the rest of an item's mapping.

// Jira writes offsets as +0300; Date.parse wants +03:00.
const COMPACT_OFFSET = /([+-]\d\d)(\d\d)$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two digits at `i` as a number, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Epoch milliseconds of an ISO 8601 timestamp with a `Z`, `±HH:MM` or `±HHMM` offset (NaN when
 * it is not one). `YYYY-MM-DDTHH:MM:SS[.fraction]<offset>`, the form both trackers send, is
 * read field by field; anything else goes to Date.parse, so the result is always Date.parse's
 * for the offset written with a colon.
 */
export function parseInstant(s: string): number {
  const fast = parseCommon(s);
  return fast === undefined ? Date.parse(s.replace(COMPACT_OFFSET, '$1:$2')) : fast;
}

function parseCommon(s: string): number | undefined {
  const n = s.length;
  if (n < 20 || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return undefined;
  const century = two(s, 0);
  const year = two(s, 2);
  const y = century * 100 + year;
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  const se = two(s, 17);
  // Date.UTC reads years 0–99 as 1900–1999: those few go to Date.parse.
  const fields = century >= 1 && year >= 0 && mo >= 1 && mo <= 12 && d >= 1;
  if (!fields || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return undefined;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS[mo - 1]! + (leap ? 1 : 0)) return undefined;
  let i = 19;
  let ms = 0;
  if (s[i] === '.') {
    // Milliseconds from the first three digits; Date.parse ignores any beyond them.
    let digits = 0;
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (digits < 3) ms = ms * 10 + c;
      digits++;
    }
    if (digits === 0) return undefined;
    for (let k = Math.min(digits, 3); k < 3; k++) ms *= 10;
  }
  let offset: number;
  if (i === n - 1 && s[i] === 'Z') offset = 0;
  else if ((s[i] === '+' || s[i] === '-') && (n - i === 6 || n - i === 5)) {
    const oh = two(s, i + 1);
    const colon = n - i === 6;
    if (colon && s[i + 3] !== ':') return undefined;
    const om = two(s, colon ? i + 4 : i + 3);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offset = (s[i] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  } else return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset;
}

/** The UTC ISO form (`…T…Z`, milliseconds) of a tracker timestamp, or null when it is not one. */
export function toIsoInstant(s: string): string | null {
  const t = parseInstant(s);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
