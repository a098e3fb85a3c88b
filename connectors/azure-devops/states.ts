// State categories per project and work item type, fetched once and shared: concurrent callers
// await the same promise, and a failed fetch is forgotten so the next caller retries it.

import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import { LOCATIONS } from './locations.ts';
import { AdoWorkItemStates } from './schema.ts';

export interface StateCategoryCache {
  get(project: string, type: string): Promise<ReadonlyMap<string, string>>;
  /** Every (project, type) read so far, with its states. */
  known(): Promise<{ project: string; type: string; states: ReadonlyMap<string, string> }[]>;
}

export function createStateCategoryCache(client: AdoClient): StateCategoryCache {
  const cache = new Map<string, { project: string; type: string; p: Promise<ReadonlyMap<string, string>> }>();
  const fetchStates = async (project: string, type: string) => {
    const l = LOCATIONS.workItemTypeStates;
    const reply = await client.call({
      method: 'GET',
      area: l.area,
      locationId: l.id,
      apiVersion: l.apiVersion,
      routeValues: { project, type },
      what: `read the states of work item type "${type}" in ${project}`,
    });
    const body = validateReply(AdoWorkItemStates, reply.body, 'work item type states', client.source);
    return new Map(body.value.map((s) => [s.name, s.category]));
  };
  return {
    get(project, type) {
      const k = `${project.toLowerCase()}\u0000${type}`;
      let hit = cache.get(k);
      if (!hit) {
        const p = fetchStates(project, type);
        hit = { project, type, p };
        cache.set(k, hit);
        p.catch(() => {
          if (cache.get(k)?.p === p) cache.delete(k);
        });
      }
      return hit.p;
    },
    async known() {
      const out = [];
      for (const { project, type, p } of cache.values()) out.push({ project, type, states: await p });
      return out;
    },
  };
}
