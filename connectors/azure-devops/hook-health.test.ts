// The connector's view of its service hooks against the simulator: each subscription's status as
// the service reports it, re-enabling one the service turned off (with the configured password,
// which the service never returns), and `webhooks install` turning such a one back on.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { createAdoConnector } from './index.ts';
import { startAdoSimulator } from './simulator/index.ts';
import { adoConfig } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const HOOK = { username: 'pmo-sync', password: 'hook-pass' };

async function setup() {
  let status = 200;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/azure-devops/ado`;
  const sim = await startAdoSimulator();
  cleanup.push(() => sim.close());
  sim.addProject('Payments', 'Agile');
  const connector = createAdoConnector({
    config: adoConfig({ scope: { projects: ['Payments'] }, webhookAuth: HOOK }),
    log: silentLogger(),
    resolveRef: () => null,
    baseUrl: sim.url,
  });
  cleanup.push(() => connector.close());
  await connector.installWebhooks!({ url });
  const fail = async () => {
    status = 500;
    sim.store.create({ project: 'Payments', type: 'User Story', title: 'x' });
    await sim.flushDeliveries();
    status = 200;
  };
  return { sim, connector, url, fail };
}

describe('service hook health', () => {
  test('reads each subscription’s status: on probation, disabled by the system or by a person', async () => {
    // Arrange: a failed created event (probation), then a person disables the updated one.
    const { sim, connector, url, fail } = await setup();
    await fail();
    const updated = sim.subscriptions().find((s) => s.eventType === 'workitem.updated')!;
    sim.setSubscriptionStatus(updated.id, 'disabledByUser');

    // Act
    const health = await connector.webhookHealth!({ url });

    // Assert
    expect(
      health
        .map((h) => [h.events[0], h.status, h.trackerStatus, h.since !== null])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['workitem.commented', 'enabled', 'enabled', true],
      ['workitem.created', 'probation', 'onProbation', true],
      ['workitem.deleted', 'enabled', 'enabled', true],
      ['workitem.restored', 'enabled', 'enabled', true],
      ['workitem.updated', 'disabled-by-user', 'disabledByUser', true],
    ]);
  });

  test('enableWebhook turns one on probation back on, with the configured password', async () => {
    // Arrange
    const { sim, connector, fail } = await setup();
    await fail();
    const created = sim.subscriptions().find((s) => s.eventType === 'workitem.created')!;

    // Act
    const first = await connector.enableWebhook!({ id: created.id });
    const again = await connector.enableWebhook!({ id: created.id });

    // Assert
    const now = sim.subscriptions().find((s) => s.id === created.id)!;
    expect({ first, again, status: now.status, password: now.password }).toEqual({
      first: 'enabled',
      again: 'unchanged',
      status: 'enabled',
      password: HOOK.password,
    });
  });

  test('webhooks install turns a subscription the service turned off back on', async () => {
    // Arrange
    const { sim, connector, url, fail } = await setup();
    await fail();

    // Act
    const out = await connector.installWebhooks!({ url });

    // Assert
    expect({
      actions: out.map((r) => [r.events[0], r.action]).filter(([, a]) => a !== 'unchanged'),
      statuses: [...new Set(sim.subscriptions().map((s) => s.status))],
    }).toEqual({ actions: [['workitem.created', 'refreshed']], statuses: ['enabled'] });
  });
});
