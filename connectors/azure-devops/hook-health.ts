// Service hook health: reads our subscriptions' `status` and turns the ones Azure DevOps put on
// probation or disabled back on. A subscription whose deliveries fail goes `onProbation` — the
// events raised meanwhile are not sent, they are lost — and after more failures
// `disabledBySystem`. The caller (src/server/hook-health.ts) decides when to re-enable (our
// endpoint answers again) and sweeps the window in which events may have been lost.

import { ConnectorError } from '../../src/core/errors.ts';
import type { WebhookHealth, WebhookStatus } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import { TRACKER } from './client.ts';
import type { AdoConnection } from './config.ts';
import { LOCATIONS } from './locations.ts';
import { AdoSubscription, AdoSubscriptionList } from './schema.ts';

const STATUS: Record<string, WebhookStatus> = {
  enabled: 'enabled',
  onProbation: 'probation',
  disabledBySystem: 'disabled-by-system',
  disabledByUser: 'disabled-by-user',
};

export function createHookHealth(deps: { client: AdoClient; config: AdoConnection; events: readonly string[] }) {
  const { client, config } = deps;
  const l = LOCATIONS.subscriptions;
  const base = { area: l.area, locationId: l.id, apiVersion: l.apiVersion } as const;

  return {
    async webhookHealth({ url }: { url: string }): Promise<WebhookHealth[]> {
      const list = await client.call({ ...base, method: 'GET', what: 'list service hook subscriptions' });
      return validateReply(AdoSubscriptionList, list.body, 'subscriptions', client.source)
        .value.filter((s) => s.consumerInputs?.url === url && deps.events.includes(s.eventType))
        .map((s) => {
          const trackerStatus = s.status ?? 'enabled';
          const since = s.modifiedDate && !Number.isNaN(Date.parse(s.modifiedDate)) ? s.modifiedDate : null;
          return {
            id: s.id,
            url,
            events: [s.eventType],
            status: STATUS[trackerStatus] ?? 'disabled-other',
            trackerStatus,
            since: since && new Date(since).toISOString(),
          };
        });
    },

    /**
     * Replace Subscription with `status: enabled`. The service never returns the basic auth
     * password it stores (it answers `********`), so the configured one is sent with it.
     */
    async enableWebhook({ id }: { id: string }): Promise<'enabled' | 'unchanged'> {
      const got = await client.call({
        ...base,
        method: 'GET',
        routeValues: { subscriptionId: id },
        what: `read the service hook ${id}`,
      });
      const sub = validateReply(AdoSubscription, got.body, 'subscription', client.source);
      if ((sub.status ?? 'enabled') === 'enabled') return 'unchanged';
      if (!config.webhookAuth) {
        throw new ConnectorError(`Azure DevOps (${config.id}): set webhookAuth to re-enable service hooks`, {
          tracker: TRACKER,
          connection: config.id,
        });
      }
      await client.call({
        ...base,
        method: 'PUT',
        routeValues: { subscriptionId: id },
        body: {
          ...sub,
          status: 'enabled',
          consumerInputs: {
            ...sub.consumerInputs,
            basicAuthUsername: config.webhookAuth.username,
            basicAuthPassword: config.webhookAuth.password,
          },
        },
        what: `re-enable the service hook ${id}`,
      });
      return 'enabled';
    },
  };
}
