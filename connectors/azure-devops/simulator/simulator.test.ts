// The simulator's REST behaviour checked against Microsoft's specs and HTTP examples (copied
// into ../__fixtures__ with provenance), plus the limits and faults it must reproduce.
import { afterEach, describe, expect, test } from 'vitest';
import { fixture } from '../testing.ts';
import { type AdoSimulator, startAdoSimulator } from './index.ts';

type Def = { properties?: Record<string, { type?: string }>; allOf?: { $ref: string }[] };
const defs = fixture<{ definitions: Record<string, Def> }>('wit-7.2-definitions.json').definitions;

/** Property names a definition allows, following allOf. */
function allowed(name: string): string[] {
  const d = defs[name]!;
  const own = Object.keys(d.properties ?? {});
  const inherited = (d.allOf ?? []).flatMap((r) => allowed(r.$ref.split('/').pop()!));
  return [...own, ...inherited];
}

const notInSpec = (body: Record<string, unknown>, def: string) =>
  Object.keys(body).filter((k) => !allowed(def).includes(k));

const sims: AdoSimulator[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

async function sim() {
  const s = await startAdoSimulator();
  sims.push(s);
  return s;
}

async function call(s: AdoSimulator, method: string, path: string, body?: unknown, pat = 'any-pat') {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`:${pat}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

type Example = { responses: { 200: { body: Record<string, unknown> } } };
const exampleBody = (name: string) => fixture<Example>(name).responses[200].body;
const sortedKeys = (o: object) => Object.keys(o).sort();

describe('responses match the 7.2 spec and the HTTP examples', () => {
  test("a work item with $expand=all has the example's shape and only spec properties", async () => {
    // Arrange
    const s = await sim();
    s.seedFromExamples();
    const example = (exampleBody('wit-workitems-expand-all.json').value as Record<string, unknown>[])[1]!;
    // Act
    const r = await call(s, 'GET', '/_apis/wit/workitems/299?$expand=all');
    // Assert
    expect({
      keys: sortedKeys(r.body!),
      notInSpec: notInSpec(r.body!, 'WorkItem'),
      fields: r.body!.fields,
      relations: (r.body!.relations as { rel: string }[]).map((x) => x.rel),
    }).toEqual({
      keys: sortedKeys(example),
      notInSpec: [],
      fields: example.fields,
      relations: (example.relations as { rel: string }[]).map((x) => x.rel),
    });
  });

  test("GET workitems?ids=297,299,300&$expand=all answers Microsoft's example, URLs aside", async () => {
    // Arrange
    const s = await sim();
    s.seedFromExamples();
    const example = exampleBody('wit-workitems-expand-all.json');
    const host = (v: unknown) => JSON.stringify(v).replaceAll('https://dev.azure.com/fabrikam', 'ORG');
    const shape = (body: Record<string, unknown>) =>
      (body.value as Record<string, unknown>[]).map((w) => ({
        id: w.id,
        rev: w.rev,
        fields: w.fields,
        relations: JSON.parse(host(w.relations)),
        links: Object.keys(w._links as object).filter((k) => k !== 'workItemComments'),
      }));
    // Act
    const r = await call(s, 'GET', '/_apis/wit/workitems?ids=297,299,300&$expand=all');
    // Assert
    const ours = shape(JSON.parse(JSON.stringify(r.body).replaceAll(s.url, 'ORG')) as Record<string, unknown>);
    expect({ count: r.body!.count, items: ours }).toEqual({ count: 3, items: shape(example) });
  });

  test('WIQL answers like the QueryByWiql example', async () => {
    // Arrange
    const s = await sim();
    s.seedFromExamples();
    const example = exampleBody('wit-wiql.json');
    const query = fixture<{ parameters: { body: { query: string } } }>('wit-wiql.json').parameters.body.query;
    // Act
    const r = await call(s, 'POST', '/Fabrikam-Fiber-Git/_apis/wit/wiql', { query });
    // Assert: the example's Task ids that exist here, in its order (priority asc, created desc).
    expect({
      keys: sortedKeys(r.body!).filter((k) => k !== 'queryResultType'),
      notInSpec: notInSpec(r.body!, 'WorkItemQueryResult'),
      ids: (r.body!.workItems as { id: number }[]).map((w) => w.id),
    }).toEqual({
      keys: sortedKeys(example),
      notInSpec: [],
      ids: (example.workItems as { id: number }[]).map((w) => w.id).filter((id) => id === 299 || id === 300),
    });
  });

  test('workitemsbatch with fields answers like the example', async () => {
    // Arrange
    const s = await sim();
    s.seedFromExamples();
    const req = fixture<{ parameters: { body: unknown } }>('wit-workitemsbatch.json').parameters.body;
    // Act
    const r = await call(s, 'POST', '/_apis/wit/workitemsbatch', req);
    // Assert
    const strip = (v: Record<string, unknown>[]) => v.map(({ url: _u, ...rest }) => rest);
    expect(strip(r.body!.value as Record<string, unknown>[])).toEqual(
      strip(exampleBody('wit-workitemsbatch.json').value as Record<string, unknown>[]),
    );
  });

  test('states carry categories like the workItemTypeStates example', async () => {
    // Arrange
    const s = await sim();
    s.addProject('Fabrikam', 'Agile');
    // Act
    const r = await call(s, 'GET', '/Fabrikam/_apis/wit/workitemtypes/Bug/states');
    // Assert
    const value = r.body!.value as Record<string, unknown>[];
    const example = exampleBody('wit-workitemtype-states.json').value as Record<string, unknown>[];
    expect({
      keys: sortedKeys(value[0]!),
      notInSpec: notInSpec(value[0]!, 'WorkItemStateColor'),
      categories: value.map((v) => v.category),
    }).toEqual({
      keys: sortedKeys(example[0]!),
      notInSpec: [],
      categories: ['Proposed', 'InProgress', 'Resolved', 'Completed'],
    });
  });

  test('a created comment and a comment list use only spec properties', async () => {
    // Arrange
    const s = await sim();
    s.seedFromExamples();
    // Act
    const created = await call(s, 'POST', '/Fabrikam-Fiber-Git/_apis/wit/workItems/299/comments', {
      text: 'Moving to the right area path',
    });
    const list = await call(s, 'GET', '/Fabrikam-Fiber-Git/_apis/wit/workItems/299/comments');
    // Assert
    expect({
      comment: notInSpec(created.body!, 'Comment'),
      list: notInSpec(list.body!, 'CommentList'),
      text: created.body!.text,
    }).toEqual({
      comment: [],
      list: [],
      text: 'Moving to the right area path',
    });
  });

  test("a PATCH with Microsoft's example body (test /rev) applies, and a stale rev is refused", async () => {
    // Arrange
    const s = await sim();
    s.seedFromExamples();
    s.store.get(299).rev = 1;
    const ops = fixture<{ parameters: { body: unknown[] } }>('wit-patch-test-rev.json').parameters.body;
    // Act
    const ok = await call(s, 'PATCH', '/_apis/wit/workitems/299', ops);
    const stale = await call(s, 'PATCH', '/_apis/wit/workitems/299', ops);
    // Assert
    expect({
      ok: [ok.status, ok.body!.rev, (ok.body!.fields as Record<string, unknown>)['System.AreaPath']],
      stale: stale.status,
    }).toEqual({
      ok: [200, 2, 'Fabrikam-Fiber-Git\\Website'],
      stale: 412,
    });
  });
});

describe('the Recycle Bin', () => {
  test('links to a deleted work item are hidden on the other one, with no revision of its own, until restored', async () => {
    // Arrange: 2 is a successor of 1 (1 is 2's predecessor).
    const s = await sim();
    s.addProject('P', 'Agile');
    const first = s.store.create({ project: 'P', type: 'User Story', title: 'predecessor' });
    const second = s.store.create({
      project: 'P',
      type: 'User Story',
      title: 'successor',
      relations: [
        {
          rel: 'System.LinkTypes.Dependency-Reverse',
          url: s.store.relationUrl(first.id),
          attributes: { isLocked: false, name: 'Predecessor' },
        },
      ],
    });
    const read = async () => {
      const r = await call(s, 'GET', `/_apis/wit/workitems/${second.id}?$expand=relations`);
      return { rev: r.body!.rev, relations: ((r.body!.relations as { url: string }[]) ?? []).map((x) => x.url) };
    };
    const before = await read();
    // Act
    s.store.remove(first.id);
    const deleted = { item: (await call(s, 'GET', `/_apis/wit/workitems/${first.id}`)).status, other: await read() };
    s.store.restore(first.id);
    const restored = await read();
    // Assert
    expect({ before, deleted, restored }).toEqual({
      before: { rev: 1, relations: [s.store.relationUrl(first.id)] },
      deleted: { item: 404, other: { rev: 1, relations: [] } },
      restored: { rev: 1, relations: [s.store.relationUrl(first.id)] },
    });
  });
});

describe('limits and faults', () => {
  test('WIQL over 20,000 results is refused unless $top bounds it', async () => {
    // Arrange
    const s = await sim();
    s.seedPortfolio({ process: 'Basic', project: 'Big', epics: 1000, storiesPerFeature: 20, limit: 20_001 });
    const query = { query: 'SELECT [System.Id] FROM WorkItems ORDER BY [System.Id]' };
    // Act
    const over = await call(s, 'POST', '/_apis/wit/wiql', query);
    const top = await call(s, 'POST', '/_apis/wit/wiql?$top=20000', query);
    // Assert
    expect({ over: [over.status, over.body!.message], top: (top.body!.workItems as unknown[]).length }).toEqual({
      over: [
        400,
        'VS402337: The number of work items returned exceeds the size limit of 20000. Change the query to return fewer work items.',
      ],
      top: 20_000,
    });
  });

  test('workitemsbatch refuses more than 200 ids, and fields with $expand', async () => {
    // Arrange
    const s = await sim();
    // Act
    const many = await call(s, 'POST', '/_apis/wit/workitemsbatch', {
      ids: Array.from({ length: 201 }, (_, i) => i + 1),
    });
    const both = await call(s, 'POST', '/_apis/wit/workitemsbatch', {
      ids: [1],
      fields: ['System.Id'],
      $expand: 'Relations',
    });
    // Assert
    expect([many.status, both.status, both.body!.message]).toEqual([
      400,
      400,
      'The expand parameter can not be used with the fields parameter.',
    ]);
  });

  test('an unknown PAT is a 401, injected faults fire as many times as asked, counts are by endpoint', async () => {
    // Arrange
    const s = await sim();
    s.configure({ pats: ['good'] });
    s.injectFault({ endpoint: 'GET resourceareas', status: 503, times: 2, retryAfterSeconds: 1 });
    // Act
    const statuses = [
      (await call(s, 'GET', '/_apis/resourceAreas', undefined, 'bad')).status,
      (await call(s, 'GET', '/_apis/resourceAreas', undefined, 'good')).status,
      (await call(s, 'GET', '/_apis/resourceAreas', undefined, 'good')).headers.get('retry-after'),
      (await call(s, 'GET', '/_apis/resourceAreas', undefined, 'good')).status,
    ];
    // Assert
    expect({ statuses, counts: s.requestCounts() }).toEqual({
      statuses: [401, 503, '1', 200],
      counts: { 'GET resourceareas': 4 },
    });
  });

  test('a delaying budget answers 200 with Retry-After and the X-RateLimit headers', async () => {
    // Arrange
    const s = await sim();
    s.configure({ budget: { limit: 1, windowMs: 60_000, mode: 'delay', retryAfterSeconds: 2 } });
    // Act
    await call(s, 'GET', '/_apis/resourceAreas');
    const r = await call(s, 'GET', '/_apis/resourceAreas');
    // Assert
    const h = (n: string) => r.headers.get(n);
    expect([
      r.status,
      h('retry-after'),
      h('x-ratelimit-delay'),
      h('x-ratelimit-limit'),
      h('x-ratelimit-remaining'),
      h('x-ratelimit-resource'),
    ]).toEqual([200, '2', '0.050', '1', '0', 'Core']);
  });

  test('deliveries can be dropped', async () => {
    // Arrange
    const s = await sim();
    s.addProject('P', 'Basic');
    s.subscribe({ url: 'http://127.0.0.1:9/none', eventTypes: ['workitem.created'] });
    s.setDeliveryFaults({ dropNext: 1 });
    // Act
    s.store.create({ project: 'P', type: 'Issue', title: 'x' });
    await s.flushDeliveries();
    // Assert
    expect(s.deliveries().map((d) => [d.notificationId, d.status])).toEqual([[1, 'dropped']]);
  });
});
