// Opaque pagination cursors: the last row's sort key, base64url-encoded JSON. Callers must treat
// them as opaque; a cursor that does not decode is the caller's mistake (400), never a 500.
import { badRequest } from './problem.ts';

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ v: 1, k: key })).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string | undefined,
  type: T,
): (T extends 'string' ? string : number) | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const key = (parsed as { v?: unknown; k?: unknown } | undefined)?.k;
  const ok =
    (parsed as { v?: unknown } | undefined)?.v === 1 &&
    (type === 'string' ? typeof key === 'string' && !key.includes('\u0000') : Number.isSafeInteger(key));
  if (!ok) throw badRequest('The cursor is not one this API issued; pass nextCursor from the previous page.');
  return key as T extends 'string' ? string : number;
}
