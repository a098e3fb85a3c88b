import fc from 'fast-check';
import { expect, test } from 'vitest';
import { planTags } from './write.ts';

const tag = fc.constantFrom('team-a', 'Team-A', 'urgent', 'pmo-red', 'PMO-RED', 'pmo-green', 'q3');

test('planTags: ours added once, ours removed, a person’s tags kept in order', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(tag, { selector: (t) => t.toLowerCase() }),
      fc.array(tag),
      fc.array(tag),
      (current, add, rawRemove) => {
        // Arrange: a tag is either added or removed in one change, never both.
        const remove = rawRemove.filter((r) => !add.some((a) => a.toLowerCase() === r.toLowerCase()));
        const lc = (xs: readonly string[]) => xs.map((x) => x.toLowerCase());
        // Act
        const next = planTags(current, add, remove) ?? current;
        // Assert
        const kept = current.filter((c) => !lc(remove).includes(c.toLowerCase()));
        expect({
          keptInOrder: next.slice(0, kept.length),
          added: lc(add).every((a) => lc(next).includes(a)),
          removed: lc(remove).some((r) => lc(next).includes(r)),
          unique: new Set(lc(next)).size === next.length,
        }).toEqual({ keptInOrder: kept, added: true, removed: false, unique: true });
      },
    ),
  );
});

test('planTags: nothing to change is null, so no request is sent', () => {
  expect([planTags(['Team-A', 'pmo-red'], ['PMO-RED'], ['urgent']), planTags([], [], ['x'])]).toEqual([null, null]);
});
