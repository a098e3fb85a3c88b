// The simulator's organization: projects (each on a process), work items with revisions, comments
// and service hook subscriptions. Changes made here "as a person" bump rev and System.ChangedDate
// and notify subscriptions, exactly as changes made through the REST API do.
import { PROCESSES, type ProcessName, type SimState } from './processes.ts';

export interface SimIdentity {
  id: string;
  displayName: string;
  uniqueName: string;
}

export interface SimRelation {
  rel: string;
  url: string;
  attributes: Record<string, unknown>;
}

export interface SimComment {
  id: number;
  text: string;
  version: number;
  createdBy: SimIdentity;
  createdDate: string;
  modifiedBy: SimIdentity;
  modifiedDate: string;
  isDeleted: boolean;
}

/** One field edit, kept so the reporting revisions can show each field's value at any revision. */
export interface SimEdit {
  at: number;
  field: string;
  from: unknown;
  to: unknown;
}

export interface SimWorkItem {
  id: number;
  rev: number;
  fields: Record<string, unknown>;
  relations: SimRelation[];
  deleted: boolean;
  comments: SimComment[];
  /** Edits of its fields after creation, the state's included, oldest first (bookkeeping aside). */
  edits: SimEdit[];
}

/** Set by the service when a work item is created and whenever its state changes. */
export const STATE_CHANGE_DATE = 'Microsoft.VSTS.Common.StateChangeDate';

/** Fields every revision sets or that the reporting stream derives otherwise: not logged as edits. */
const UNLOGGED = new Set([
  'System.Rev',
  'System.ChangedDate',
  'System.ChangedBy',
  'System.AuthorizedDate',
  'System.CommentCount',
  STATE_CHANGE_DATE,
]);

const PARENT_REL = 'System.LinkTypes.Hierarchy-Reverse';
const CHILD_REL = 'System.LinkTypes.Hierarchy-Forward';

/**
 * When a seeded item (placed in the past with its transition dates) entered its state: closed at
 * ClosedDate, activated at ActivatedDate, else at its creation.
 */
function seededStateChange(it: SimWorkItem, states: readonly SimState[]): string {
  const f = it.fields;
  const category = states.find((s) => s.name === f['System.State'])?.category;
  const closed = f['Microsoft.VSTS.Common.ClosedDate'];
  const activated = f['Microsoft.VSTS.Common.ActivatedDate'];
  if ((category === 'Completed' || category === 'Resolved') && typeof closed === 'string') return closed;
  if (category !== undefined && category !== 'Proposed' && typeof activated === 'string') return activated;
  return String(f['System.CreatedDate']);
}

export type SimEventType =
  | 'workitem.created'
  | 'workitem.updated'
  | 'workitem.deleted'
  | 'workitem.restored'
  | 'workitem.commented';

export interface SimChange {
  eventType: SimEventType;
  item: SimWorkItem;
  /** Field → { oldValue, newValue } for updates. */
  changes: Record<string, { oldValue?: unknown; newValue?: unknown }>;
  by: SimIdentity;
  comment?: string;
}

export const PERSON: SimIdentity = {
  id: 'd291b0c4-a05c-4ea6-8df1-4b41d5f39eff',
  displayName: 'Jamal Hartnett',
  uniqueName: 'fabrikamfiber4@hotmail.com',
};

export function identityJson(who: SimIdentity, baseUrl: string) {
  return {
    displayName: who.displayName,
    url: `${baseUrl}/_apis/Identities/${who.id}`,
    id: who.id,
    uniqueName: who.uniqueName,
    imageUrl: `${baseUrl}/_api/_common/identityImage?id=${who.id}`,
    descriptor: `aad.${Buffer.from(who.id).toString('base64url')}`,
  };
}

export interface SimIteration {
  name: string;
  startDate: string;
  finishDate: string;
}

export interface SimProject {
  name: string;
  id: string;
  process: ProcessName;
  /** Sprints directly under the project's root iteration. */
  iterations: SimIteration[];
}

const SPRINT_DAYS = 14;
/** Six two-week sprints, the first starting on this Monday. */
const FIRST_SPRINT = Date.parse('2025-11-03T00:00:00Z');

export interface StoreOptions {
  baseUrl: () => string;
  onChange: (c: SimChange) => void;
  /** Millisecond clock; the store keeps ChangedDate strictly increasing on top of it. */
  now?: () => number;
}

export function createStore(opts: StoreOptions) {
  const items = new Map<number, SimWorkItem>();
  const projects = new Map<string, SimProject>();
  let nextId = 1;
  let nextCommentId = 1;
  let lastTs = 0;
  const clock = () => {
    lastTs = Math.max((opts.now ?? Date.now)(), lastTs + 1);
    return new Date(lastTs).toISOString();
  };

  const project = (name: string) => {
    const p = [...projects.values()].find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!p) throw new Error(`simulator: unknown project "${name}"`);
    return p;
  };

  const statesOf = (projectName: string, type: string): SimState[] => {
    const t = PROCESSES[project(projectName).process].types[type];
    if (!t) throw new Error(`simulator: no work item type "${type}" in ${projectName}`);
    return t;
  };

  const get = (id: number) => {
    const it = items.get(id);
    if (!it) throw new Error(`simulator: no work item ${id}`);
    return it;
  };

  const setField = (it: SimWorkItem, ref: string, value: unknown, changes: SimChange['changes']) => {
    const old = it.fields[ref];
    if (value === null || value === undefined) {
      if (old === undefined) return;
      delete it.fields[ref];
      changes[ref] = { oldValue: old };
    } else {
      if (old === value) return;
      it.fields[ref] = value;
      changes[ref] = old === undefined ? { newValue: value } : { oldValue: old, newValue: value };
    }
  };

  /** One new revision: rev, ChangedDate, ChangedBy move together, as in the service. */
  const revise = (it: SimWorkItem, by: SimIdentity, changes: SimChange['changes'], date = clock()) => {
    setField(it, 'System.Rev', it.rev + 1, changes);
    it.rev += 1;
    setField(it, 'System.ChangedDate', date, changes);
    it.fields['System.ChangedBy'] = identityJson(by, opts.baseUrl());
    it.fields['System.AuthorizedDate'] = date;
  };

  const relationUrl = (id: number) => `${opts.baseUrl()}/_apis/wit/workItems/${id}`;

  /**
   * A work item in the Recycle Bin keeps its links (restoring it brings them back), but the work
   * items it was linked to no longer show them: their `relations` leave it out, with no new
   * revision of their own, until it is restored.
   */
  const visibleRelations = (it: SimWorkItem): SimRelation[] =>
    it.relations.filter((r) => {
      const m = /\/_apis\/wit\/workItems\/(\d+)$/i.exec(r.url);
      return !(m && items.get(Number(m[1]))?.deleted);
    });

  const store = {
    items,
    projects,
    project,
    statesOf,
    get,
    relationUrl,
    visibleRelations,
    clock,

    addProject(name: string, process: ProcessName, id = `proj-${projects.size + 1}`) {
      const day = 86_400_000;
      const iterations = Array.from({ length: 6 }, (_, i) => ({
        name: `Sprint ${i + 1}`,
        startDate: new Date(FIRST_SPRINT + i * SPRINT_DAYS * day).toISOString(),
        finishDate: new Date(FIRST_SPRINT + ((i + 1) * SPRINT_DAYS - 3) * day).toISOString(),
      }));
      projects.set(id, { name, id, process, iterations });
    },

    /** Creates a work item; `createdDate` lets seeding place items in the past. */
    create(input: {
      project: string;
      type: string;
      title: string;
      fields?: Record<string, unknown>;
      parentId?: number;
      relations?: SimRelation[];
      by?: SimIdentity;
      createdDate?: string;
      id?: number;
      silent?: boolean;
    }): SimWorkItem {
      const p = project(input.project);
      const states = statesOf(p.name, input.type);
      const by = input.by ?? PERSON;
      const date = input.createdDate ?? clock();
      const id = input.id ?? nextId++;
      nextId = Math.max(nextId, id + 1);
      const ident = identityJson(by, opts.baseUrl());
      const it: SimWorkItem = {
        id,
        rev: 1,
        fields: {
          'System.Id': id,
          'System.AreaPath': p.name,
          'System.TeamProject': p.name,
          'System.IterationPath': p.name,
          'System.WorkItemType': input.type,
          'System.State': states[0]!.name,
          'System.Reason': 'New',
          'System.CreatedDate': date,
          'System.CreatedBy': ident,
          'System.ChangedDate': date,
          'System.ChangedBy': ident,
          'System.AuthorizedDate': date,
          'System.Rev': 1,
          'System.CommentCount': 0,
          'System.Title': input.title,
        },
        relations: [...(input.relations ?? [])],
        deleted: false,
        comments: [],
        edits: [],
      };
      for (const [k, v] of Object.entries(input.fields ?? {})) if (v !== null && v !== undefined) it.fields[k] = v;
      if (it.fields[STATE_CHANGE_DATE] === undefined) it.fields[STATE_CHANGE_DATE] = seededStateChange(it, states);
      if (input.parentId !== undefined) {
        it.fields['System.Parent'] = input.parentId;
        it.relations.push({
          rel: PARENT_REL,
          url: relationUrl(input.parentId),
          attributes: { isLocked: false, name: 'Parent' },
        });
        const parent = items.get(input.parentId);
        parent?.relations.push({
          rel: CHILD_REL,
          url: relationUrl(id),
          attributes: { isLocked: false, name: 'Child' },
        });
      }
      items.set(id, it);
      if (!input.silent) opts.onChange({ eventType: 'workitem.created', item: it, changes: {}, by });
      return it;
    },

    /** A person's edit: `null` removes a field. Returns false (no revision) when nothing changed. */
    update(
      id: number,
      fields: Record<string, unknown>,
      by: SimIdentity = PERSON,
      relations?: { add?: SimRelation[]; removeIndexes?: number[] },
    ) {
      const it = get(id);
      if (it.deleted) throw new Error(`simulator: work item ${id} is deleted`);
      const changes: SimChange['changes'] = {};
      for (const [k, v] of Object.entries(fields)) setField(it, k, v, changes);
      let relChanged = false;
      if (relations?.removeIndexes?.length) {
        // Indexes into the relations as the service shows them (visibleRelations).
        const shown = visibleRelations(it);
        const drop = new Set(relations.removeIndexes.map((i) => shown[i]));
        it.relations = it.relations.filter((r) => !drop.has(r));
        relChanged = true;
      }
      if (relations?.add?.length) {
        it.relations.push(...relations.add);
        relChanged = true;
      }
      if (relChanged) {
        // System.Parent follows the parent link, as in the service.
        const link = it.relations.find((r) => r.rel === PARENT_REL);
        const parentId = link ? Number(link.url.split('/').pop()) : null;
        setField(it, 'System.Parent', Number.isInteger(parentId) ? parentId : null, changes);
      }
      if (Object.keys(changes).length === 0 && !relChanged) return false;
      const date = clock();
      if (changes['System.State']) setField(it, STATE_CHANGE_DATE, date, changes);
      for (const [k, c] of Object.entries(changes))
        if (!UNLOGGED.has(k)) it.edits.push({ at: Date.parse(date), field: k, from: c.oldValue, to: c.newValue });
      revise(it, by, changes, date);
      opts.onChange({ eventType: 'workitem.updated', item: it, changes, by });
      return true;
    },

    /**
     * Moves a work item under another parent (null: under none) as a person does on the board: the
     * child's parent link replaced in one revision, the parents' child links kept in step.
     */
    setParent(id: number, parentId: number | null, by: SimIdentity = PERSON) {
      const it = get(id);
      const old = it.relations.findIndex((r) => r.rel === PARENT_REL);
      const oldParent = old >= 0 ? Number(it.relations[old]!.url.split('/').pop()) : null;
      if (oldParent === parentId) return false;
      const before = oldParent === null ? undefined : items.get(oldParent);
      if (before)
        before.relations = before.relations.filter((r) => !(r.rel === CHILD_REL && r.url === relationUrl(id)));
      const after = parentId === null ? undefined : get(parentId);
      after?.relations.push({ rel: CHILD_REL, url: relationUrl(id), attributes: { isLocked: false, name: 'Child' } });
      return store.update(id, {}, by, {
        removeIndexes: old >= 0 ? [old] : [],
        add:
          parentId === null
            ? []
            : [{ rel: PARENT_REL, url: relationUrl(parentId), attributes: { isLocked: false, name: 'Parent' } }],
      });
    },

    /** Moves a work item to the Recycle Bin: a revision of its own, as in the service. */
    remove(id: number, by: SimIdentity = PERSON) {
      const it = get(id);
      revise(it, by, {});
      it.deleted = true;
      opts.onChange({ eventType: 'workitem.deleted', item: it, changes: {}, by });
    },

    restore(id: number, by: SimIdentity = PERSON) {
      const it = get(id);
      it.deleted = false;
      revise(it, by, {});
      opts.onChange({ eventType: 'workitem.restored', item: it, changes: {}, by });
    },

    addComment(id: number, text: string, by: SimIdentity = PERSON): SimComment {
      const it = get(id);
      const date = clock();
      const c: SimComment = {
        id: nextCommentId++,
        text,
        version: 1,
        createdBy: by,
        createdDate: date,
        modifiedBy: by,
        modifiedDate: date,
        isDeleted: false,
      };
      it.comments.push(c);
      const changes: SimChange['changes'] = {};
      setField(it, 'System.CommentCount', it.comments.filter((x) => !x.isDeleted).length, changes);
      revise(it, by, changes, date);
      opts.onChange({ eventType: 'workitem.commented', item: it, changes, by, comment: text });
      return c;
    },

    editComment(id: number, commentId: number, text: string, by: SimIdentity = PERSON): SimComment | null {
      const c = get(id).comments.find((x) => x.id === commentId && !x.isDeleted);
      if (!c) return null;
      c.text = text;
      c.version += 1;
      c.modifiedBy = by;
      c.modifiedDate = clock();
      return c;
    },

    deleteComment(id: number, commentId: number): boolean {
      const it = get(id);
      const c = it.comments.find((x) => x.id === commentId && !x.isDeleted);
      if (!c) return false;
      c.isDeleted = true;
      it.fields['System.CommentCount'] = it.comments.filter((x) => !x.isDeleted).length;
      return true;
    },
  };
  return store;
}

export type SimStore = ReturnType<typeof createStore>;
