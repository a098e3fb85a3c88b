// Iteration (sprint) dates per project from the classification node tree, read once per pull and
// shared by concurrent callers: work items carry only System.IterationPath, the dates live here.
import type { Iteration } from '../../src/core/work-item.ts';
import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import { LOCATIONS } from './locations.ts';
import { AdoClassificationNode } from './schema.ts';

export type IterationDates = ReadonlyMap<string, Pick<Iteration, 'start' | 'end'>>;

export interface IterationCache {
  get(project: string): Promise<IterationDates>;
  /** Forget what was read, so the next pull sees renamed or re-dated sprints. */
  reset(): void;
}

const iso = (v: string | null | undefined) => (v ? new Date(v).toISOString() : null);

/** Paths as work items spell them: "Project\Release 1\Sprint 2" (the root node is the project). */
export function flattenIterations(root: AdoClassificationNode): Map<string, Pick<Iteration, 'start' | 'end'>> {
  const out = new Map<string, Pick<Iteration, 'start' | 'end'>>();
  const walk = (node: AdoClassificationNode, path: string) => {
    out.set(path, { start: iso(node.attributes?.startDate), end: iso(node.attributes?.finishDate) });
    for (const child of node.children ?? []) walk(child, `${path}\\${child.name}`);
  };
  walk(root, root.name);
  return out;
}

export function createIterationCache(client: AdoClient): IterationCache {
  const cache = new Map<string, Promise<IterationDates>>();
  const l = LOCATIONS.classificationNodes;
  return {
    get(project) {
      const k = project.toLowerCase();
      let p = cache.get(k);
      if (!p) {
        const fetched = client
          .call({
            method: 'GET',
            area: l.area,
            locationId: l.id,
            apiVersion: l.apiVersion,
            routeValues: { project, structureGroup: 'Iterations' },
            query: { $depth: 20 },
            what: `read the iterations of ${project}`,
          })
          .then((r) =>
            flattenIterations(validateReply(AdoClassificationNode, r.body, 'iteration tree', client.source)),
          );
        p = fetched;
        cache.set(k, fetched);
        fetched.catch(() => {
          if (cache.get(k) === fetched) cache.delete(k);
        });
      }
      return p;
    },
    reset: () => cache.clear(),
  };
}
