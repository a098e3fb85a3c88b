// Iteration (sprint) dates per project from the classification node tree, shared by concurrent
// callers and kept across pulls: work items carry only System.IterationPath, the dates live here.
// A tree is read again when it is old, on a full pull, or when an item names a sprint it lacks.
import type { Iteration } from '../../src/core/work-item.ts';
import { type KeptRead, keptRead } from '../kept-read.ts';
import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import { LOCATIONS } from './locations.ts';
import { AdoClassificationNode } from './schema.ts';

export type IterationDates = ReadonlyMap<string, Pick<Iteration, 'start' | 'end'>>;

export interface IterationCache {
  /**
   * The project's iteration dates. Read again when the last read is older than the cache's
   * maximum age, or when `path` names an iteration the last read lacked, unless that read is
   * less than a minute old (a new sprint is read once, however many items name it).
   */
  get(project: string, path?: string): Promise<IterationDates>;
  /** A pull starts; a full one (no cursor) reads every tree again. */
  newPull(full: boolean): void;
}

/**
 * How long a tree read serves: a sprint re-dated or renamed without its items changing shows on
 * the items read after the next read, which every full pull (the reconcile sweep) also makes.
 */
export const ITERATIONS_MAX_AGE_MS = 60 * 60_000;
/** A tree read this recently is not read again for a sprint it lacks. */
const MISSING_REREAD_MS = 60_000;

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

export function createIterationCache(
  client: AdoClient,
  opts: { now?: () => number; maxAgeMs?: number } = {},
): IterationCache {
  const now = opts.now ?? Date.now;
  const maxAgeMs = opts.maxAgeMs ?? ITERATIONS_MAX_AGE_MS;
  const l = LOCATIONS.classificationNodes;
  const trees = new Map<string, KeptRead<IterationDates>>();
  const readTree = async (project: string) => {
    const r = await client.call({
      method: 'GET',
      area: l.area,
      locationId: l.id,
      apiVersion: l.apiVersion,
      routeValues: { project, structureGroup: 'Iterations' },
      query: { $depth: 20 },
      what: `read the iterations of ${project}`,
    });
    return flattenIterations(validateReply(AdoClassificationNode, r.body, 'iteration tree', client.source));
  };

  return {
    async get(project, path) {
      const k = project.toLowerCase();
      let tree = trees.get(k);
      if (!tree) {
        tree = keptRead(() => readTree(project), now);
        trees.set(k, tree);
      }
      const dates = await tree.get(maxAgeMs);
      if (path === undefined || path === project || dates.has(path)) return dates;
      // A sprint the tree lacks: the first caller past the minute reads it again, the others share that read.
      return tree.get(MISSING_REREAD_MS);
    },
    newPull(full) {
      if (full) trees.clear();
    },
  };
}
