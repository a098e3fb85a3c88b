import { createAgileClient } from 'jira.js';
import type { Connector, JiraConnectorDeps, MappingDrift, WebhookRequest } from '../types.ts';
import { createJiraBoards } from './boards.ts';
import { createJiraApi, createJiraTransport, type JiraTuning } from './client.ts';
import { createDynamicWebhooks } from './dynamic-webhooks.ts';
import { createJiraHistory } from './history.ts';
import { createIdentity } from './identity.ts';
import { createReader } from './read.ts';
import { createJiraScopeCheck } from './scope.ts';
import { parseJiraWebhook, verifyJiraSignature } from './webhook.ts';
import { verifyDeliveryJwt } from './webhook-jwt.ts';
import { createWriter } from './write.ts';

export type { JiraTuning } from './client.ts';

export function createJiraConnector(deps: JiraConnectorDeps, tuning: JiraTuning = {}): Connector {
  const { config, log } = deps;
  const transport = createJiraTransport({
    connection: config.id,
    baseUrl: deps.baseUrl ?? config.baseUrl,
    auth: config.auth,
    apiUrl: config.apiUrl,
    authUrl: config.authUrl,
    tokenStore: deps.tokenStore,
    limits: config.limits,
    log,
    tuning,
  });
  const api = createJiraApi(transport);
  const identity = createIdentity({ api, config });
  const reader = createReader({
    api,
    config,
    log,
    resolveRef: deps.resolveRef,
    siteUrl: config.baseUrl,
    now: tuning.now ?? Date.now,
  });
  const history = createJiraHistory({
    api,
    config,
    now: tuning.now ?? Date.now,
    fieldIds: async () => (await reader.mapContext()).fieldIds,
  });
  const agile = createAgileClient(transport);
  const boards = createJiraBoards({
    config,
    getConfiguration: (boardId) => agile.board.getConfiguration({ boardId }),
    getFilter: (id) => api.filters.getFilter({ id: Number(id) }),
    keysMatching: reader.keysMatching,
  });
  const writer = createWriter({
    api,
    transport,
    config,
    selfAccountId: async () => (identity.current() ?? (await identity.whoami())).id,
  });
  // OAuth apps cannot register admin webhooks; theirs are dynamic and lapse after 30 days.
  const dynamic =
    'oauth' in config.auth ? createDynamicWebhooks({ transport, config, now: tuning.now ?? Date.now }) : null;
  /**
   * Keeps dynamic webhooks alive from the sync schedule. A failed refresh is logged and tried
   * again next pass: the pull it rides on must not fail for it, and there are weeks to spare.
   */
  const keepWebhooksAlive = async () => {
    if (!dynamic) return;
    try {
      const refreshed = await dynamic.refreshDue();
      if (refreshed.length) log.info({ webhooks: refreshed }, 'jira dynamic webhooks refreshed');
    } catch (err) {
      log.warn({ err }, 'jira dynamic webhook refresh failed; trying again on the next sync');
    }
  };

  return {
    id: config.id,
    tracker: 'jira',

    whoami: identity.whoami,

    // The pull's signal reaches every request it causes, so aborting it ends their waits too.
    pull: (opts) =>
      transport.withSignal(opts.signal, async () => {
        await keepWebhooksAlive();
        return reader.pull(opts);
      }),
    listKeys: (opts) => transport.withSignal(opts?.signal, () => reader.listKeys(opts)),
    fetchItems: reader.fetchItems,
    checkScope: createJiraScopeCheck({ api, config }),
    ensureComment: writer.ensureComment,
    deleteComment: writer.deleteComment,
    updateLabels: writer.updateLabels,
    updateFields: writer.updateFields,
    installWebhooks: dynamic ? (input) => dynamic.install(input) : writer.installWebhooks,
    history: (opts) => transport.withSignal(opts.signal, () => history.history(opts)),
    boardIssues: (opts) => transport.withSignal(opts.signal, () => boards.boardIssues(opts)),

    verifyWebhook(req: WebhookRequest) {
      // An OAuth app's dynamic webhooks are signed with a JWT keyed on the client secret; a
      // delivery with X-Hub-Signature (an admin webhook) is held to the webhook secret as ever.
      if ('oauth' in config.auth && !req.headers.has('x-hub-signature')) {
        verifyDeliveryJwt(req, config.auth.oauth.clientSecret, (tuning.now ?? Date.now)());
        return;
      }
      verifyJiraSignature(req, [config.webhookSecret, config.webhookSecretPrevious]);
    },

    /** Echo detection needs `whoami()` to have run once; until then no event counts as ours. */
    parseWebhook(req: WebhookRequest) {
      return parseJiraWebhook(req, identity.current()?.id ?? null);
    },

    async checkMapping(): Promise<MappingDrift[]> {
      // Reuses this run's field list (discovery may have just read it); older than a minute, re-reads.
      const fields = await reader.siteFields(60_000);
      const known = new Set(fields.map((f) => f.id));
      const configured = { ...config.fields, ...config.writeback.fields };
      return Object.entries(configured)
        .filter(([, fieldId]) => !known.has(fieldId))
        .map(([name, fieldId]) => ({
          what: 'field' as const,
          name,
          message: `field "${name}" is configured as ${fieldId}, which this Jira site does not have`,
        }));
    },

    stats: () => transport.stats(),
    close: () => transport.close(),
  };
}
