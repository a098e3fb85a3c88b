import { expect, test } from 'vitest';
import { sliceQuery } from './wiql.ts';

test('a projects scope becomes an id-ordered slice with a time-precise change filter', () => {
  // Act
  const q = sliceQuery(
    { projects: ['Payments', "O'Hare"] },
    { afterId: 20_000, changedSince: '2026-05-01T10:00:00.123Z' },
  );
  // Assert
  expect(q).toEqual(
    "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] IN ('Payments', 'O''Hare') AND [System.Id] > 20000 AND " +
      "[System.ChangedDate] >= '2026-05-01T10:00:00.123Z' ORDER BY [System.Id] ASC",
  );
});

test("the user's WIQL keeps its conditions, gains ours, and is re-ordered by id", () => {
  // Act
  const q = sliceQuery(
    {
      wiql: "SELECT [System.Id], [System.Title] FROM WorkItems WHERE [System.AreaPath] UNDER 'Payments' OR [System.Tags] CONTAINS 'pmo' ORDER BY [System.ChangedDate] DESC",
    },
    { afterId: 0, changedSince: null },
  );
  // Assert
  expect(q).toEqual(
    "SELECT [System.Id], [System.Title] FROM WorkItems WHERE ([System.AreaPath] UNDER 'Payments' OR [System.Tags] CONTAINS 'pmo') AND [System.Id] > 0 ORDER BY [System.Id] ASC",
  );
});

test('a WIQL without WHERE gets one', () => {
  expect(
    sliceQuery({ wiql: 'SELECT [System.Id] FROM WorkItems' }, { afterId: 5, changedSince: '2026-01-01T00:00:00.000Z' }),
  ).toEqual(
    "SELECT [System.Id] FROM WorkItems WHERE [System.Id] > 5 AND [System.ChangedDate] >= '2026-01-01T00:00:00.000Z' ORDER BY [System.Id] ASC",
  );
});
