// JSON.parse, with the object keys V8 can get wrong read again. V8's JSON.parse can give an
// escaped object key (one written with a backslash in the JSON text) the name of a key it parsed
// earlier, when the earlier key's name matches the escaped key's raw source (nodejs/node#63785,
// crbug 521080746; Node 22–26): "\\0‏" (backslash, 0, U+200F) read back as "\\\\0". pmo-sync
// writes such keys itself (db/storable.ts escapes what jsonb cannot hold) and reads trackers'
// JSON and webhook bodies whose keys it does not choose, so every parse of stored or outside
// JSON goes through here. Text without an escaped key, nearly all of it, is JSON.parse alone;
// text with one is also read by a parser written in JavaScript that builds each object itself.
import { visit } from 'jsonc-parser';

// A JSON string holding a backslash, then a colon: an escaped key. Also matches some texts that
// have none (a value's closing quote read as an opening one), which only costs the second read.
const ESCAPED_KEY = /"[^"\\]*(?:\\[\s\S][^"\\]*)+"\s*:/;

/** Postgres's type oids of json and jsonb, whose values the database drivers parse. */
export const JSON_OIDS = [114, 3802] as const;

/** Whether the JSON text has an object key written with an escape. */
export function hasEscapedKey(text: string): boolean {
  return text.includes('\\') && ESCAPED_KEY.test(text);
}

/** JSON.parse(text), its object keys as the text spells them whatever V8 parsed before. */
export function parseJson(text: string): unknown {
  // Native first: it validates (a SyntaxError as JSON.parse throws it) and is the answer nearly always.
  const value: unknown = JSON.parse(text);
  return hasEscapedKey(text) ? buildExactly(text) : value;
}

/** The value of already-validated JSON text, each object made key by key. */
function buildExactly(text: string): unknown {
  // Containers being filled, and the key each object's next value goes under.
  const stack: { into: Record<string, unknown> | unknown[]; key: string }[] = [];
  let root: unknown;
  const put = (v: unknown) => {
    const top = stack.at(-1);
    if (!top) root = v;
    else if (Array.isArray(top.into)) top.into.push(v);
    // As JSON.parse: an own property even for "__proto__", the last of duplicate keys wins.
    else Object.defineProperty(top.into, top.key, { value: v, writable: true, enumerable: true, configurable: true });
  };
  visit(
    text,
    {
      onObjectBegin: () => void stack.push({ into: {}, key: '' }),
      onObjectProperty: (name) => {
        stack.at(-1)!.key = name;
      },
      onObjectEnd: () => put(stack.pop()!.into),
      onArrayBegin: () => void stack.push({ into: [], key: '' }),
      onArrayEnd: () => put(stack.pop()!.into),
      onLiteralValue: (v) => put(v),
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  return root;
}
