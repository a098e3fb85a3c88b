// Text Postgres holds as it is: no U+0000 (text refuses it, jsonb refuses its escape) and no lone
// UTF-16 surrogate (jsonb refuses the escape JSON.stringify writes; text turns it into U+FFFD).
// A leaf so that code deciding what to store (the findings planner in rules/) can make its text
// storable without depending on the storage layer; db/storable.ts builds on it.

export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Whether Postgres holds this string as it is, in text and in jsonb. */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\u0000');
}

/** The string with U+0000 and every lone surrogate replaced by U+FFFD; the same string when storable. */
export function storableText(s: string): string {
  if (isStorableText(s)) return s;
  return s.toWellFormed().replaceAll('\u0000', REPLACEMENT_CHARACTER);
}
