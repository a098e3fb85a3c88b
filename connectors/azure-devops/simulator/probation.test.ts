// Service hook probation as the simulator models Azure DevOps ("Troubleshoot service hooks"): a
// failed delivery puts the subscription on probation, events raised meanwhile are lost, probation
// retries either enable it again or, failing, disable it (`disabledBySystem`); a 410 disables it
// at once; Replace Subscription (PUT, status enabled) turns it back on.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { startAdoSimulator } from './index.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A receiver answering with whatever status the test sets. */
async function receiver() {
  let status = 200;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    answer(s: number) {
      status = s;
    },
  };
}

async function setup() {
  const sim = await startAdoSimulator({ probationRetriesBeforeDisable: 2 });
  cleanup.push(() => sim.close());
  sim.addProject('P', 'Basic');
  const hook = await receiver();
  const [sub] = sim.subscribe({ url: hook.url, eventTypes: ['workitem.created'] });
  const raise = async () => {
    sim.store.create({ project: 'P', type: 'Issue', title: 'x' });
    await sim.flushDeliveries();
  };
  const status = () => sim.subscriptions()[0]!.status;
  return { sim, hook, sub: sub!, raise, status };
}

describe('probation', () => {
  test('a failed delivery puts it on probation; events raised meanwhile are lost; a retry that succeeds enables it', async () => {
    // Arrange
    const { sim, hook, raise, status } = await setup();
    hook.answer(500);

    // Act
    await raise();
    const afterFailure = status();
    hook.answer(200);
    await raise();
    await sim.retryProbation();

    // Assert
    expect({
      afterFailure,
      deliveries: sim.deliveries().map((d) => [d.notificationId, d.status]),
      now: status(),
    }).toEqual({
      afterFailure: 'onProbation',
      deliveries: [
        [1, 500],
        [2, 'lost'],
        [1, 200],
      ],
      now: 'enabled',
    });
  });

  test('probation retries that keep failing disable it (disabledBySystem)', async () => {
    // Arrange
    const { sim, hook, raise, status } = await setup();
    hook.answer(503);
    await raise();

    // Act
    await sim.retryProbation();
    const afterOne = status();
    await sim.retryProbation();

    // Assert
    expect({ afterOne, now: status() }).toEqual({ afterOne: 'onProbation', now: 'disabledBySystem' });
  });

  test('a 410 (Gone) disables it at once', async () => {
    // Arrange
    const { hook, raise, status } = await setup();
    hook.answer(410);
    // Act
    await raise();
    // Assert
    expect(status()).toBe('disabledBySystem');
  });

  test('the REST API lists the status and Replace Subscription (PUT) re-enables it', async () => {
    // Arrange
    const { sim, hook, sub, raise } = await setup();
    hook.answer(500);
    await raise();
    const headers = { authorization: `Basic ${btoa(':any-pat')}`, 'content-type': 'application/json' };
    const listed = async () =>
      (
        (await (await fetch(`${sim.url}/_apis/hooks/subscriptions`, { headers })).json()) as {
          value: { id: string; status: string }[];
        }
      ).value.map((s) => [s.id, s.status]);
    const before = await listed();

    // Act
    const put = await fetch(`${sim.url}/_apis/hooks/subscriptions/${sub.id}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ status: 'enabled' }),
    });
    hook.answer(200);
    await raise();

    // Assert
    expect({ before, put: put.status, after: await listed(), last: sim.deliveries().at(-1)?.status }).toEqual({
      before: [[sub.id, 'onProbation']],
      put: 200,
      after: [[sub.id, 'enabled']],
      last: 200,
    });
  });
});
