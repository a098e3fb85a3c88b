// The simulator's REST API v2 comment reads: the same comments as v3, with the body as wiki
// markup (what Jira Cloud's v2 returns for rich text) instead of an ADF document, so a person
// reading them with curl sees text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAdf } from '../comment.ts';
import { type JiraSimulator, startJiraSimulator } from './index.ts';

describe('Jira simulator: REST API v2 comments', () => {
  let sim: JiraSimulator;
  let key: string;
  const auth = { authorization: `Basic ${Buffer.from('pmo-bot@example.com:t-1').toString('base64')}` };
  beforeAll(async () => {
    sim = await startJiraSimulator();
    key = sim.store.createIssue({ project: 'PAY', issuetype: 'Story', summary: 'Pay out' }).key;
    sim.store.addComment(
      key,
      renderAdf({
        marker: 'pmo-sync:jira-main:PAY-1',
        blocks: [
          { type: 'heading', text: 'PMO check: 2 things to fix' },
          {
            type: 'bullets',
            items: [
              [{ text: 'error: ', bold: true }, { text: 'set a due date ' }, { text: 'epic-target-date', code: true }],
              [{ text: 'see ' }, { text: 'the standard', href: 'https://pmo.example.com/std' }],
            ],
          },
          { type: 'paragraph', content: [{ text: 'Posted by pmo-sync.' }] },
        ],
      }),
    );
    sim.store.addComment(key, 'plain wiki text');
  });
  afterAll(async () => {
    await sim.close();
  });

  const text = [
    'h3. PMO check: 2 things to fix',
    '',
    '* *error: *set a due date {{epic-target-date}}',
    '* see [the standard|https://pmo.example.com/std]',
    '',
    'Posted by pmo-sync.',
    '',
    '{color:#97a0af}pmo-sync:jira-main:PAY-1{color}',
  ].join('\n');

  it('lists comments with wiki-markup bodies, the rest as in v3', async () => {
    const v2 = await (await fetch(`${sim.url}/rest/api/2/issue/${key}/comment`, { headers: auth })).json();
    const v3 = await (await fetch(`${sim.url}/rest/api/3/issue/${key}/comment`, { headers: auth })).json();
    expect(v2.comments.map((c: { body: unknown }) => c.body)).toEqual([text, 'plain wiki text']);
    expect(v3.comments[0].body.type).toBe('doc');
    const strip = (c: Record<string, unknown>) => ({ ...c, body: null, self: null });
    expect(v2.comments.map(strip)).toEqual(v3.comments.map(strip));
    expect(v2.comments[0].self).toBe(`${sim.url}/rest/api/2/issue/10000/comment/${v2.comments[0].id}`);
    expect({ startAt: v2.startAt, total: v2.total }).toEqual({ startAt: 0, total: 2 });
  });

  it('reads one comment, and answers 404 for a comment that does not exist', async () => {
    const list = await (await fetch(`${sim.url}/rest/api/2/issue/${key}/comment`, { headers: auth })).json();
    const one = await fetch(`${sim.url}/rest/api/2/issue/${key}/comment/${list.comments[0].id}`, { headers: auth });
    expect((await one.json()).body).toBe(text);
    const missing = await fetch(`${sim.url}/rest/api/2/issue/${key}/comment/99999`, { headers: auth });
    expect(missing.status).toBe(404);
  });
});
