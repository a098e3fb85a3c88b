// The one CSV encoder every export uses (API, `report --format csv`, `report --writes`): RFC 4180
// quoting (a cell holding a comma, a quote, CR or LF is quoted, quotes doubled, CRLF between
// records) and formula neutralization. Cells come from tracker text anyone with an account can
// write, and a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a CR as a
// formula (OWASP "CSV Injection"), so such a cell gets a leading `'`, which spreadsheets show as
// text. Numbers are left alone: a negative number is not a formula.
import { type Options, stringify } from 'csv-stringify/sync';

const OPTIONS: Options = {
  record_delimiter: 'windows',
  // Off by default once a record delimiter is set: a CR or LF inside a cell would then go unquoted.
  quote_record_delimiter: true,
  eof: true,
  escape_formulas: true,
  cast: {
    // csv-stringify's defaults write booleans as 1/"" and dates as epoch milliseconds.
    boolean: (v) => String(v),
    date: (v) => v.toISOString(),
    object: (v) => JSON.stringify(v),
  },
};

/** Records (each an array of cells) as CSV text, every record ending in CRLF. */
export function csvRecords(rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return '';
  return stringify(rows as unknown[][], OPTIONS);
}

/** A header and its rows as one CSV document. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return csvRecords([header, ...rows]);
}

/**
 * A CSV document streamed page by page: the header, then each page as it is read, so an export
 * of any size holds one page in memory, never the whole document. The first page is read before
 * this resolves, so a failing source (the database is down) fails the request with its proper
 * status instead of a 200 with a cut-off body.
 */
export async function csvStream(
  header: readonly string[],
  pages: AsyncIterable<readonly (readonly unknown[])[]>,
  onError?: (err: unknown) => void,
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  const iterator = pages[Symbol.asyncIterator]();
  const first = await iterator.next();
  let pending: string | null = csvRecords([header, ...(first.done ? [] : first.value)]);
  let done = first.done === true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending !== null) {
        controller.enqueue(encoder.encode(pending));
        pending = null;
        if (done) controller.close();
        return;
      }
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) {
            done = true;
            controller.close();
            return;
          }
          if (next.value.length === 0) continue;
          controller.enqueue(encoder.encode(csvRecords(next.value)));
          return;
        }
      } catch (err) {
        // The status line is gone already: the client sees a cut-off download, never a
        // document that looks complete.
        onError?.(err);
        controller.error(err);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
