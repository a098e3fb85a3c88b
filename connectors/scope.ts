// Scope membership shared by the connectors: a `projects` scope is decided by the item's own
// project (key, name or id, as the tracker's query would accept it), a query scope by asking
// the tracker (each connector's scope.ts). Split out so both connectors decide the same way.
import type { WorkItem } from '../src/core/work-item.ts';
import type { ScopeCheck } from './types.ts';

/**
 * Splits items by `projectsOf(item)` meeting the configured projects (compared without case, as
 * the trackers compare project keys and names).
 */
export function byProjects(
  items: readonly WorkItem[],
  projects: readonly string[],
  projectsOf: (item: WorkItem) => readonly (string | undefined)[],
): ScopeCheck {
  const wanted = new Set(projects.map((p) => p.toLowerCase()));
  const out: ScopeCheck = { inScope: [], outOfScope: [] };
  for (const it of items) {
    const names = projectsOf(it);
    if (names.some((n) => n !== undefined && wanted.has(n.toLowerCase()))) out.inScope.push(it);
    else out.outOfScope.push(it.key);
  }
  return out;
}

/** Splits items by the keys a scope query returned for them. */
export function byKeys(items: readonly WorkItem[], inScope: ReadonlySet<string>): ScopeCheck {
  const out: ScopeCheck = { inScope: [], outOfScope: [] };
  for (const it of items) {
    if (inScope.has(it.key)) out.inScope.push(it);
    else out.outOfScope.push(it.key);
  }
  return out;
}
