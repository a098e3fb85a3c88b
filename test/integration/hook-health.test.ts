// Service hook health (issue 24.7) over the Azure DevOps simulator and a real database: while our
// endpoint fails, the service puts our subscriptions on probation and the events raised meanwhile
// are lost (a deletion among them, which no incremental pull can see). The scheduled pass finds
// them, reports them on /readyz, /metrics and the dashboard's freshness card, and — once the
// endpoint answers again — re-enables them and sweeps the window: the deleted item is gone from
// pmo-sync too, and the next change is delivered again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, PERSON, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { createConnectors } from '../../connectors/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { syncRuns, workItems } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { loadFreshness } from '../../src/http/queries.ts';
import { createHookHealthMonitor, type HookHealthState, loadHookHealth } from '../../src/server/hook-health.ts';
import { createReadiness } from '../../src/server/readiness.ts';
import { type Runtime, startRuntime } from '../../src/server/runtime.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync } from '../../src/sync/run.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';

const HOOK = { username: 'pmo-sync', password: 'ado-hook-password-health-01' };

/** Our public endpoint: the real webhook routes behind a switch that answers 500 while "down". */
async function startFrontDoor(hooks: () => HookServer) {
  let up = true;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (!up) {
        res.writeHead(500).end('down');
        return;
      }
      if (req.url === '/healthz') {
        res.writeHead(200).end('ok');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      const r = await hooks().app.request(req.url ?? '/', {
        method: req.method,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(r.status).end(await r.text());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setUp(v: boolean) {
      up = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const target of dbTargets()) {
  describe(`service hook health, on ${target.name}`, () => {
    let database: Database;
    let sim: AdoSimulator;
    let config: Config;
    let connectors: Map<string, Connector>;
    let pipeline: SyncPipeline;
    let hooks: HookServer;
    let front: Awaited<ReturnType<typeof startFrontDoor>>;
    let runtime: Runtime;
    let ids: number[];
    const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
    const state = async (): Promise<HookHealthState> => (await loadHookHealth(database.db)).get('ap')!;
    const statuses = () => sim.subscriptions().map((s) => s.status);
    const hooksProblem = async () => {
      const ready = await createReadiness({ db: database.db, config })();
      const conns = ready.checks.connections as Record<string, { serviceHooks?: { problem: string | null } }>;
      return conns.ap?.serviceHooks?.problem;
    };

    beforeAll(async () => {
      database = await target.open();
      sim = await startAdoSimulator();
      sim.addProject('Payments', 'Agile');
      ids = sim.seedPortfolio({
        process: 'Agile',
        project: 'Payments',
        epics: 1,
        featuresPerEpic: 1,
        storiesPerFeature: 3,
        seed: 24,
      }).ids;
      front = await startFrontDoor(() => hooks);
      config = parseConfig(
        `server: { publicUrl: "${front.url}" }
connections:
  - id: ap
    kind: azure-devops
    orgUrl: ${sim.url}
    auth: { pat: ado-health-pat-01 }
    scope: { projects: [Payments] }
    webhookAuth: { username: ${HOOK.username}, password: ${HOOK.password} }
    limits: { concurrency: 4, requestsPerSecond: 500 }
`,
        { env: {} },
      ).config;
      connectors = createConnectors(config.connections, { log });
      pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors });
      hooks = await startHookServer({ db: database.db, connectors, log });
      await runSync({ database, config, connectors, log, pipeline });
      await connectors.get('ap')!.installWebhooks!({ url: `${front.url}/webhooks/azure-devops/ap` });
      runtime = startRuntime({
        config,
        database,
        connectors,
        log,
        pipeline,
        schedule: false,
        pollMs: 50,
        debounceMs: 0,
        hookHealth: createHookHealthMonitor({ config, connectors, database, log }),
      });
    });
    afterAll(async () => {
      await runtime?.stop();
      await hooks?.close();
      await front?.close();
      for (const c of connectors?.values() ?? []) await c.close();
      await sim?.close();
      await database?.close();
    });

    it('finds the subscriptions on probation while the endpoint fails, and leaves them until it answers', async () => {
      // Arrange: the endpoint fails; a person edits one item twice and deletes another.
      front.setUp(false);
      sim.store.update(ids[1]!, { 'System.Title': 'Edited while the hooks failed' }, PERSON);
      await sim.flushDeliveries();
      sim.store.update(ids[1]!, { 'System.Title': 'Edited again, on probation' }, PERSON);
      sim.store.remove(ids[2]!);
      await sim.flushDeliveries();

      // Act: a scheduled pass.
      await runtime.triggerSync();

      // Assert: the service's view, ours, and what was lost.
      const s = await state();
      expect({
        tracker: statuses().sort(),
        lost: sim.deliveries().filter((d) => d.status === 'lost').length,
        ours: s.subscriptions.map((x) => x.trackerStatus).sort(),
        unhealthy: s.unhealthy,
        endpointHealthy: s.endpointHealthy,
        reenabled: s.reenabled,
      }).toEqual({
        tracker: ['enabled', 'enabled', 'enabled', 'onProbation', 'onProbation'],
        lost: 1,
        ours: ['enabled', 'enabled', 'enabled', 'onProbation', 'onProbation'],
        unhealthy: 2,
        endpointHealthy: false,
        reenabled: [],
      });
    });

    it('reports them on /readyz, /metrics and the freshness card', async () => {
      // Act
      const ready = await createReadiness({ db: database.db, config })();
      const metrics = await createMetrics({ db: database.db, log, now: () => new Date() }).registry.metrics();
      const [fresh] = await loadFreshness(database.db, config, new Date());
      const { token } = await createToken(database.db, { scope: 'read', name: 'hook-health' });
      const app = createApp({ database, config, log });
      const login = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token }) });
      const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
      const html = await (await app.request('/', { headers: { cookie } })).text();

      // Assert
      const hooksCheck = (ready.checks.connections as Record<string, { serviceHooks?: { problem: string } }>).ap;
      expect({
        ok: ready.ok,
        problem: hooksCheck?.serviceHooks?.problem,
        probationGauge: metrics.includes('pmo_sync_service_hooks{connection="ap",status="probation"} 2'),
        portfolio: fresh?.hooks,
        card: /data-testid="hook-health"[^>]*>2 service hooks on probation</.test(html),
      }).toEqual({
        ok: false,
        problem: '2 service hooks on probation',
        probationGauge: true,
        portfolio: '2 service hooks on probation',
        card: true,
      });
    });

    it('re-enables them once the endpoint answers and sweeps the window the events were lost in', async () => {
      // Arrange
      const before = await state();
      front.setUp(true);

      // Act: the next scheduled pass.
      await runtime.triggerSync();

      // Assert: enabled again, the window reaches back before the first failure, the deletion
      // (no pull can see it) found by the sweep's reconcile pass, the edit read.
      const s = await state();
      const [edited] = await database.db
        .select({ title: workItems.title, deletedAt: workItems.deletedAt })
        .from(workItems)
        .where(eq(workItems.ref, `ap:${ids[1]}`));
      const [deleted] = await database.db
        .select({ deletedAt: workItems.deletedAt })
        .from(workItems)
        .where(eq(workItems.ref, `ap:${ids[2]}`));
      const reconciles = await database.db
        .select({ id: syncRuns.id })
        .from(syncRuns)
        .where(and(eq(syncRuns.kind, 'reconcile'), eq(syncRuns.connection, 'ap')));
      expect({
        tracker: statuses(),
        reenabled: s.reenabled.length,
        unhealthy: s.unhealthy,
        windowFromBeforeFailure: Date.parse(s.lastSweep!.from) < Date.parse(before.unhealthySince!),
        edited: edited?.title,
        deleted: deleted?.deletedAt !== null,
        reconciles: reconciles.length,
        hooksOnReadyz: await hooksProblem(),
      }).toEqual({
        tracker: ['enabled', 'enabled', 'enabled', 'enabled', 'enabled'],
        reenabled: 2,
        unhealthy: 0,
        windowFromBeforeFailure: true,
        edited: 'Edited again, on probation',
        deleted: true,
        reconciles: 1,
        hooksOnReadyz: null,
      });
    });

    it('delivers the next change again, and /readyz is ready once it arrives', async () => {
      // Act
      sim.store.update(ids[0]!, { 'System.Title': 'After the recovery' }, PERSON);
      await sim.flushDeliveries();

      // Assert: accepted by the webhook route (202); no webhook gap, no hook problem.
      expect({
        delivered: sim.deliveries().at(-1)?.status,
        ready: (await createReadiness({ db: database.db, config })()).ok,
      }).toEqual({ delivered: 202, ready: true });
    });
  });
}
