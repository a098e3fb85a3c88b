// A naive sync tool, for comparison: the way many integrations are written. It pages search at
// 50, fetches every issue again one by one for details, and posts a new comment per finding on
// every run (no marker, no stored comment id, no "unchanged" check). It runs against the same
// simulators and posts the findings the real pipeline found, so only the I/O pattern differs.
import { ADO_PAT, ADO_PROJECT, JIRA_PROJECTS, JIRA_TOKEN } from '../lib/simulators.ts';

export interface NaiveRun {
  requests: number;
  commentsPosted: number;
  wallMs: number;
}

async function call(url: string, init: RequestInit & { auth: string }): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      ...init,
      headers: { authorization: init.auth, 'content-type': 'application/json', accept: 'application/json' },
    });
    if (res.status === 429 && attempt < 5) {
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (!res.ok) throw new Error(`naive client: ${init.method ?? 'GET'} ${url} → ${res.status}`);
    return res.json();
  }
}

/** Runs `tasks` with at most `n` at once (the naive tool is not sequential; it is just wasteful). */
async function pool<T>(items: readonly T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await f(items[i++]!);
    }),
  );
}

export async function naiveJira(
  baseUrl: string,
  findingsByKey: ReadonlyMap<string, string[]>,
  concurrency: number,
): Promise<NaiveRun> {
  const auth = `Basic ${Buffer.from(`pmo-bot@example.com:${JIRA_TOKEN}`).toString('base64')}`;
  let requests = 0;
  let posted = 0;
  const t0 = performance.now();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = (await call(`${baseUrl}/rest/api/3/search/jql`, {
      method: 'POST',
      auth,
      body: JSON.stringify({
        jql: `project in (${JIRA_PROJECTS.join(', ')}) ORDER BY key`,
        fields: ['*all'],
        maxResults: 50,
        nextPageToken: token,
      }),
    })) as { issues: { key: string }[]; nextPageToken?: string };
    requests++;
    keys.push(...page.issues.map((i) => i.key));
    token = page.nextPageToken ?? undefined;
  } while (token);
  await pool(keys, concurrency, async (key) => {
    await call(`${baseUrl}/rest/api/3/issue/${key}?expand=changelog`, { auth });
    requests++;
    for (const message of findingsByKey.get(key) ?? []) {
      await call(`${baseUrl}/rest/api/3/issue/${key}/comment`, {
        method: 'POST',
        auth,
        body: JSON.stringify({
          body: {
            type: 'doc',
            version: 1,
            content: [{ type: 'paragraph', content: [{ type: 'text', text: message }] }],
          },
        }),
      });
      requests++;
      posted++;
    }
  });
  return { requests, commentsPosted: posted, wallMs: Math.round(performance.now() - t0) };
}

export async function naiveAdo(
  orgUrl: string,
  findingsById: ReadonlyMap<string, string[]>,
  concurrency: number,
): Promise<NaiveRun> {
  const auth = `Basic ${Buffer.from(`:${ADO_PAT}`).toString('base64')}`;
  let requests = 0;
  let posted = 0;
  const t0 = performance.now();
  const q = (await call(`${orgUrl}/${ADO_PROJECT}/_apis/wit/wiql?api-version=7.1`, {
    method: 'POST',
    auth,
    body: JSON.stringify({ query: `SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = '${ADO_PROJECT}'` }),
  })) as { workItems: { id: number }[] };
  requests++;
  await pool(q.workItems, concurrency, async ({ id }) => {
    await call(`${orgUrl}/_apis/wit/workitems/${id}?$expand=all&api-version=7.1`, { auth });
    requests++;
    for (const text of findingsById.get(String(id)) ?? []) {
      await call(`${orgUrl}/${ADO_PROJECT}/_apis/wit/workItems/${id}/comments?api-version=7.1-preview.4`, {
        method: 'POST',
        auth,
        body: JSON.stringify({ text }),
      });
      requests++;
      posted++;
    }
  });
  return { requests, commentsPosted: posted, wallMs: Math.round(performance.now() - t0) };
}
