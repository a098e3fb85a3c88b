import type { AdoConnectorDeps, Connector, MappingDrift } from '../types.ts';
import { createAdoCredential } from './auth.ts';
import { type AdoClientOptions, createAdoClient, TRACKER } from './client.ts';
import { createAdoHistory } from './history.ts';
import { createHookHealth } from './hook-health.ts';
import { createIdentity } from './identity.ts';
import { createIterationCache } from './iterations.ts';
import { DEFAULT_KINDS, parseIdentity, statusCategoryOf } from './map.ts';
import { createReader, rewindCursor } from './read.ts';
import { createAdoScopeCheck } from './scope.ts';
import { createStateCategoryCache } from './states.ts';
import { parseServiceHook, verifyServiceHook } from './webhook.ts';
import { createWriter, WEBHOOK_EVENTS } from './write.ts';

export interface AdoConnectorOptions {
  /** Tuning for tests (retry delays, a fake sleep) and the transport (`fetch` on Workers). */
  client?: Pick<AdoClientOptions, 'retry' | 'sleep' | 'now' | 'timeoutMs' | 'slowdownBelow' | 'transport'>;
  /** The agent Entra ID token requests use (a test authority's own certificate); see auth.ts. */
  entraAgent?: import('node:http').Agent;
}

export function createAdoConnector(deps: AdoConnectorDeps, options: AdoConnectorOptions = {}): Connector {
  const { config, log, resolveRef } = deps;
  const orgUrl = (deps.baseUrl ?? config.orgUrl).replace(/\/+$/, '');
  const client = createAdoClient({
    orgUrl,
    credential: createAdoCredential(config.auth, {
      connectionId: config.id,
      now: options.client?.now ?? Date.now,
      entraAgent: options.entraAgent,
    }),
    connectionId: config.id,
    limits: config.limits,
    log,
    ...options.client,
  });
  const states = createStateCategoryCache(client);
  const hookHealth = createHookHealth({ client, config, events: WEBHOOK_EVENTS });
  const iterations = createIterationCache(client, { now: options.client?.now });
  const revisions = createAdoHistory({ client, config, states });
  const projects = new Map<string, string>();
  const reader = createReader({ client, config, log, resolveRef, states, iterations, projects });
  const identity = createIdentity({ client });
  const writer = createWriter({
    client,
    config,
    projects,
    enableWebhook: hookHealth.enableWebhook,
    isSelf: (who) => {
      const p = parseIdentity(who);
      const ids = identity.ids;
      // Before whoami has answered we cannot tell; writes call whoami first, so this is rare.
      return ids.size === 0 || (p !== null && (ids.has(p.id.toLowerCase()) || ids.has(p.name.toLowerCase())));
    },
  });
  const whoami = identity.whoami;

  const connector: Connector = {
    id: config.id,
    tracker: TRACKER,
    whoami,

    // The pull's signal reaches every call it makes, so aborting it ends their waits too.
    pull: (opts) => client.withSignal(opts.signal, () => reader.pull(opts)),
    listKeys: (opts) => client.withSignal(opts?.signal, () => reader.listKeys(opts)),
    fetchItems: reader.fetchItems,

    checkScope: createAdoScopeCheck({ config, runQuery: reader.runScopeQuery }),

    // Before our first write we learn who we are, so the service hooks our writes cause are
    // recognised as echoes even if nobody called whoami() (one request, once).
    async ensureComment(input) {
      await whoami();
      return writer.ensureComment(input);
    },
    async deleteComment(input) {
      await whoami();
      return writer.deleteComment(input);
    },
    async updateLabels(change) {
      await whoami();
      return writer.updateLabels(change);
    },
    async updateFields(change) {
      await whoami();
      return writer.updateFields(change);
    },

    verifyWebhook: (req) => verifyServiceHook(config.webhookAuth, req),
    parseWebhook: (req) => parseServiceHook(req, identity.ids),

    installWebhooks: writer.installWebhooks,

    webhookHealth: (input) => hookHealth.webhookHealth(input),
    enableWebhook: (input) => hookHealth.enableWebhook(input),

    rewindCursor,

    async checkMapping(): Promise<MappingDrift[]> {
      const drift: MappingDrift[] = [];
      // States items were seen in that their type does not list (renamed or added since the
      // states were read): those items were read as todo, which the PMO must hear about.
      for (const key of reader.unknownStates) {
        const [project, type, state] = key.split('\u0000') as [string, string, string];
        drift.push({
          what: 'status',
          name: state,
          message: `state "${state}" of ${type} in ${project} is not among the type's states; its items are read as todo`,
        });
      }
      for (const { project, type, states: st } of await states.known()) {
        if (!config.typeMap[type] && !DEFAULT_KINDS[type]) {
          drift.push({
            what: 'type',
            name: type,
            message: `type "${type}" in ${project} has no kind; add it to typeMap`,
          });
        }
        for (const [state, category] of st) {
          if (!statusCategoryOf(category)) {
            drift.push({
              what: 'status',
              name: state,
              message: `state "${state}" of ${type} in ${project} has unknown category "${category}"`,
            });
          }
        }
      }
      return drift;
    },

    history: (opts) => client.withSignal(opts.signal, () => revisions.history(opts)),

    stats: () => client.stats(),
    close: () => client.close(),
  };
  return connector;
}
