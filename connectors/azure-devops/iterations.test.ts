import { expect, test } from 'vitest';
import { flattenIterations } from './iterations.ts';
import { AdoClassificationNode } from './schema.ts';
import { fixture } from './testing.ts';

test("Microsoft's iteration tree flattens to the paths work items carry, with sprint dates", () => {
  // Arrange
  const body = fixture<{ responses: { 200: { body: unknown } } }>('wit-classificationnodes-iterations.json')
    .responses[200].body;
  const root = AdoClassificationNode.parse(body);
  const none: { start: string | null; end: string | null } = { start: null, end: null };
  // Act
  const paths = flattenIterations(root);
  // Assert
  expect(paths).toEqual(
    new Map<string, { start: string | null; end: string | null }>([
      ['Fabrikam-Fiber-Git', none],
      ['Fabrikam-Fiber-Git\\Release 3', none],
      ['Fabrikam-Fiber-Git\\Release 2', none],
      ['Fabrikam-Fiber-Git\\Release 4', none],
      ['Fabrikam-Fiber-Git\\Release 1', none],
      ['Fabrikam-Fiber-Git\\Release 1\\Sprint 4', none],
      [
        'Fabrikam-Fiber-Git\\Release 1\\Sprint 2',
        { start: '2014-03-17T00:00:00.000Z', end: '2014-03-28T00:00:00.000Z' },
      ],
      ['Fabrikam-Fiber-Git\\Release 1\\Sprint 6', none],
      ['Fabrikam-Fiber-Git\\Release 1\\Sprint 5', none],
      [
        'Fabrikam-Fiber-Git\\Release 1\\Sprint 1',
        { start: '2014-03-03T00:00:00.000Z', end: '2014-03-14T00:00:00.000Z' },
      ],
      ['Fabrikam-Fiber-Git\\Release 1\\Sprint 3', none],
    ]),
  );
});
