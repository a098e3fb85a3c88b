import { describe, expect, test } from 'vitest';
import { evaluate, parseWiql, WiqlError } from './wiql.ts';

const ctx = { project: 'Payments', now: Date.parse('2026-05-01T12:00:00Z') };

describe('parseWiql', () => {
  test('parses what the connector generates', () => {
    // Act
    const q = parseWiql(
      "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] IN ('Payments', 'O''Brien') AND [System.Id] > 20000 AND ([System.ChangedDate] > '2026-01-01T00:00:00.000Z' OR ([System.ChangedDate] = '2026-01-01T00:00:00.000Z' AND [System.Id] NOT IN (3, 4))) ORDER BY [System.Id] ASC",
      ctx,
    );
    // Assert
    expect(q).toEqual({
      select: ['System.Id'],
      from: 'WorkItems',
      where: {
        k: 'and',
        a: {
          k: 'and',
          a: { k: 'in', field: 'System.TeamProject', not: false, values: ['Payments', "O'Brien"] },
          b: { k: 'cmp', field: 'System.Id', op: '>', value: 20000 },
        },
        b: {
          k: 'or',
          a: { k: 'cmp', field: 'System.ChangedDate', op: '>', value: '2026-01-01T00:00:00.000Z' },
          b: {
            k: 'and',
            a: { k: 'cmp', field: 'System.ChangedDate', op: '=', value: '2026-01-01T00:00:00.000Z' },
            b: { k: 'in', field: 'System.Id', not: true, values: [3, 4] },
          },
        },
      },
      orderBy: [{ field: 'System.Id', desc: false }],
    });
  });

  test("parses Microsoft's example query, friendly field names and macros included", () => {
    // Act
    const q = parseWiql(
      "Select [System.Id], [System.Title], [System.State] From WorkItems Where [System.WorkItemType] = 'Task' AND [State] <> 'Closed' AND [Team Project] = @project order by [Microsoft.VSTS.Common.Priority] asc, [System.CreatedDate] desc",
      ctx,
    );
    // Assert
    expect({ select: q.select, orderBy: q.orderBy }).toEqual({
      select: ['System.Id', 'System.Title', 'System.State'],
      orderBy: [
        { field: 'Microsoft.VSTS.Common.Priority', desc: false },
        { field: 'System.CreatedDate', desc: true },
      ],
    });
  });

  test.each([
    ['SELECT [System.Id] FROM WorkItemLinks', 'The simulator only supports FROM WorkItems, not "WorkItemLinks".'],
    ['SELECT [System.Id] FROM WorkItems WHERE [System.Id] >', 'Expecting a value.'],
    ["SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'open", 'Unterminated string literal.'],
    ['SELECT [System.Id] WorkItems', 'Expecting "FROM" at token 3.'],
  ])('%s is a syntax error', (src, message) => {
    expect(() => parseWiql(src, ctx)).toThrow(new WiqlError(message));
  });
});

describe('evaluate', () => {
  const where = (w: string) => parseWiql(`SELECT [System.Id] FROM WorkItems WHERE ${w}`, ctx).where!;
  const item: Record<string, unknown> = {
    'System.Id': 7,
    'System.ChangedDate': '2026-04-30T10:15:00.250Z',
    'System.State': 'Active',
  };
  const get = (f: string) => item[f];

  test.each([
    ["[System.ChangedDate] >= '2026-04-30T10:15:00.250Z'", true, true],
    ["[System.ChangedDate] > '2026-04-30T10:15:00.250Z'", true, false],
    ["[System.ChangedDate] < '2026-04-30T11:00:00Z'", true, true],
    // Without time precision WIQL compares days: the same day is not "after".
    ["[System.ChangedDate] > '2026-04-30T09:00:00Z'", false, false],
    ["[System.State] IN ('active', 'New') AND [System.Id] = 7", true, true],
    ["[System.State] = 'Closed' OR [System.Id] <= 6", true, false],
  ])('%s (timePrecision %s) is %s', (w, timePrecision, expected) => {
    expect(evaluate(where(w), get, timePrecision)).toEqual(expected);
  });
});
