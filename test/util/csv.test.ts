// The CSV encoder: RFC 4180 quoting that round-trips any text, and formula neutralization of
// every cell a spreadsheet would run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCsv as reportToCsv } from '../../src/report/format.ts';
import { csvStream, toCsv } from '../../src/util/csv.ts';

/** A strict RFC 4180 reader: CRLF between records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
        cell += text[i++];
      }
    }
    record.push(cell);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
      if (i === text.length) return records;
      continue;
    }
    throw new Error(`expected "," or CRLF at ${i}, found ${JSON.stringify(text[i])}`);
  }
}

// The fullwidth forms too: Apple Numbers folds them into their ASCII twins.
const DANGEROUS = ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'];

describe('CSV encoding', () => {
  it('neutralizes every cell a spreadsheet would run as a formula', () => {
    const titles = [
      "=cmd|' /C calc'!A0",
      '+1+1',
      '-2+3',
      '@SUM(A1:A9)',
      '\t=1+1',
      '\r=1+1',
      '=HYPERLINK("http://evil.test","x")',
    ];
    const csv = toCsv(
      ['title'],
      titles.map((t) => [t]),
    );
    expect(csv).toBe(
      [
        'title',
        `'=cmd|' /C calc'!A0`,
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A9)",
        "'\t=1+1",
        `"'\r=1+1"`,
        `"'=HYPERLINK(""http://evil.test"",""x"")"`,
        '',
      ].join('\r\n'),
    );
  });

  it('leaves numbers, safe text, empty cells and the middle of a cell alone', () => {
    expect(toCsv(['a', 'b', 'c', 'd', 'e', 'f'], [[-5, 1.5, null, undefined, 'a=b', true]])).toBe(
      'a,b,c,d,e,f\r\n-5,1.5,,,a=b,true\r\n',
    );
    expect(toCsv(['o'], [[{ id: 'x' }]])).toBe('o\r\n"{""id"":""x""}"\r\n');
  });

  it('round-trips any text through an RFC 4180 reader, dangerous cells prefixed with a quote', () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.tuple(fc.constantFrom(...DANGEROUS, ',', '"', '\n', "'"), fc.string({ maxLength: 10 })).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const width = rows[0]!.length;
        const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ''));
        const header = table[0]!.map((_, i) => `c${i}`);
        const parsed = parseCsv(toCsv(header, table));
        const expected = table.map((r) => r.map((c) => (DANGEROUS.includes(c[0] ?? '') ? `'${c}` : c)));
        expect(parsed).toEqual([header, ...expected]);
      }),
      { numRuns: 500 },
    );
  });

  it('is the encoder `report --format csv` uses', () => {
    expect(reportToCsv(['t'], [['=1+1']])).toBe("t\r\n'=1+1\r\n");
  });

  it('streams page by page, reading the first page before the response starts', async () => {
    const reads: number[] = [];
    async function* pages() {
      for (const n of [1, 2, 3]) {
        reads.push(n);
        yield [[`@row ${n}`, n]];
      }
    }
    const stream = await csvStream(['name', 'n'], pages());
    expect(reads).toEqual([1]);
    const text = await new Response(stream).text();
    expect(text).toBe("name,n\r\n'@row 1,1\r\n'@row 2,2\r\n'@row 3,3\r\n");
    expect(reads).toEqual([1, 2, 3]);
  });

  it('fails before streaming when the first page cannot be read', async () => {
    // biome-ignore lint/correctness/useYield: a source that fails on its first read
    async function* broken(): AsyncGenerator<unknown[][]> {
      throw new Error('database unreachable');
    }
    await expect(csvStream(['a'], broken())).rejects.toThrow('database unreachable');
  });
});
