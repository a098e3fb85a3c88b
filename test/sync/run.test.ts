// runSync over a scripted connector: stores run behind the pull in several lanes, and an item
// that comes back in a later batch with an older revision never overwrites the newer one, even
// when the two batches would be stored side by side.
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, PullOptions } from '../../connectors/types.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { workItems } from '../../db/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { runSync } from '../../src/sync/run.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { item } from '../helpers/items.ts';

const config = oneJiraConnection();

/** A connector whose pull hands over the given pages, each after a tick, and nothing else. */
function scripted(pages: WorkItem[][]): Connector {
  const unused = () => {
    throw new Error('not used by this test');
  };
  return {
    id: 'jira-main',
    tracker: 'jira',
    whoami: unused,
    async pull(opts: PullOptions) {
      for (const page of pages) {
        await new Promise((r) => setImmediate(r));
        await opts.onPage(page);
      }
      return { cursor: 'c1' };
    },
    listKeys: unused,
    fetchItems: unused,
    // The scripted pull's pages are its scope.
    checkScope: async (items) => ({ inScope: items, outOfScope: [] }),
    ensureComment: unused,
    deleteComment: unused,
    updateLabels: unused,
    updateFields: unused,
    verifyWebhook: unused,
    parseWebhook: unused,
    stats: () => ({ requests: 0, throttled: 0, retries: 0, byEndpoint: {} }),
    close: async () => {},
  };
}

const page = (from: number, n: number, over: (i: number) => Partial<WorkItem> = () => ({})) =>
  Array.from({ length: n }, (_, k) =>
    item(`jira-main:PAY-${from + k}`, { revision: '2026-01-01T00:00:00.000+0000', ...over(from + k) }),
  );

describe('runSync stores', () => {
  let database: Database;
  beforeEach(async () => {
    database = await openDatabase('memory://');
    await database.migrate();
  });
  afterEach(async () => {
    await database.close();
  });

  it('stores every page of a pull run in several batches', async () => {
    const pages = [0, 1, 2, 3, 4].map((p) => page(1 + p * 700, 700));
    const log = createLogger({ level: 'silent', pretty: false });
    const s = await runSync({ database, config, connectors: new Map([['jira-main', scripted(pages)]]), log });
    expect(s.connections[0]).toMatchObject({ status: 'ok', itemsPulled: 3500, itemsChanged: 3500 });
    const [row] = await database.db
      .select({ n: workItems.ref })
      .from(workItems)
      .where(eq(workItems.ref, 'jira-main:PAY-3500'));
    expect(row?.n).toBe('jira-main:PAY-3500');
  });

  it('never lets a later batch with an older revision overwrite an item', async () => {
    // PAY-5 is read at 10:00 in the first batch, then again (a stale copy) in the second.
    const first = page(1, 1000, (i) =>
      i === 5 ? { title: 'Newer', revision: '2026-01-01T10:00:00.000+0000', updated: '2026-01-01T10:00:00.000Z' } : {},
    );
    const second = [
      ...page(1001, 999),
      item('jira-main:PAY-5', {
        title: 'Older',
        revision: '2026-01-01T09:00:00.000+0000',
        updated: '2026-01-01T09:00:00.000Z',
      }),
    ];
    const log = createLogger({ level: 'silent', pretty: false });
    const s = await runSync({
      database,
      config,
      connectors: new Map([['jira-main', scripted([first, second])]]),
      log,
    });
    expect(s.connections[0]?.status).toBe('ok');
    const [row] = await database.db
      .select({ title: workItems.title })
      .from(workItems)
      .where(eq(workItems.ref, 'jira-main:PAY-5'));
    expect(row?.title).toBe('Newer');
  });
});
