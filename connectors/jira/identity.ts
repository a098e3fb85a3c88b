// The bot's own identity on Jira: the account the API token or OAuth grant acts as
// (GET /rest/api/3/myself). Webhook events by this account are echoes of our own writes.

import type { Person } from '../../src/core/work-item.ts';
import type { SelfIdentity } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraApi } from './client.ts';
import type { JiraConnection } from './config.ts';
import { JiraUser } from './schema.ts';

/**
 * Every `whoami()` asks Jira again (doctor and the server's start use it as a live credential
 * check); the writer and echo detection reuse the last answer through `current()`.
 */
export function createIdentity(deps: { api: JiraApi; config: JiraConnection }): SelfIdentity {
  const { api, config } = deps;
  let self: Person | null = null;
  return {
    async whoami() {
      const me = validateReply(JiraUser, await api.myself.getCurrentUser(), 'GET myself', {
        tracker: 'jira',
        connection: config.id,
      });
      self = { id: me.accountId, name: me.displayName ?? me.accountId };
      return self;
    },
    current: () => self,
  };
}
