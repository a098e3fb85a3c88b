// Which failures are the data's (a store then isolates the item at fault) and which are not (the
// connection fails as a whole), and the one line a quarantined item is recorded with.
import { describe, expect, it } from 'vitest';
import { failureReason, isDataError } from '../../db/errors.ts';

describe('failure classes', () => {
  it('tells a refused value from an unreachable database', () => {
    const pg = (code: string, message: string) => Object.assign(new Error(message), { code });
    const wrapped = (cause: unknown) => new Error('Failed query: insert …\nparams: …', { cause });
    expect(
      [
        wrapped(pg('22008', 'date/time field value out of range: "0000-12-31"')),
        wrapped(pg('54000', 'index row size 3000 exceeds btree version 4 maximum 2704')),
        new RangeError('Maximum call stack size exceeded'),
        wrapped(pg('08006', 'connection failure')),
        wrapped(pg('57P01', 'terminating connection due to administrator command')),
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
        wrapped(pg('42P01', 'relation "work_items" does not exist')),
      ].map(isDataError),
    ).toEqual([true, true, true, false, false, false, false]);
    expect(failureReason(wrapped(pg('22008', 'date/time field value out of range: "0000-12-31"')))).toBe(
      'date/time field value out of range: "0000-12-31"',
    );
  });
});
