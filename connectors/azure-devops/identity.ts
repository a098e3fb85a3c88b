// The bot's own identity on Azure DevOps: the user the PAT or Entra ID token acts as
// (GET _apis/connectionData). Service hook events by this user are echoes of our own writes.
import type { Person } from '../../src/core/work-item.ts';
import type { SelfIdentity } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import { LOCATIONS } from './locations.ts';
import { AdoConnectionData } from './schema.ts';

export interface AdoSelfIdentity extends SelfIdentity {
  /**
   * The lower-cased id, unique name (the account) and display name the bot writes as: an event's
   * actor may carry any of them. Empty until `whoami` has answered.
   */
  readonly ids: ReadonlySet<string>;
}

/**
 * `whoami()` asks once and shares the answer with concurrent and later callers (writes call it
 * first, so the hooks they cause are recognised); a failed ask is forgotten and asked again.
 */
export function createIdentity(deps: { client: AdoClient }): AdoSelfIdentity {
  const { client } = deps;
  const ids = new Set<string>();
  let answer: Person | null = null;
  let asking: Promise<Person> | null = null;
  return {
    ids,
    current: () => answer,
    whoami() {
      if (!asking) {
        const l = LOCATIONS.connectionData;
        const p = client
          .call({
            method: 'GET',
            area: l.area,
            locationId: l.id,
            apiVersion: l.apiVersion,
            what: 'read the PAT identity',
          })
          .then((reply) => {
            const u = validateReply(AdoConnectionData, reply.body, 'connection data', client.source).authenticatedUser;
            const account = (u.properties?.Account as { $value?: unknown } | undefined)?.$value;
            const name = u.customDisplayName ?? u.providerDisplayName ?? u.id;
            const id = typeof account === 'string' && account ? account : u.id;
            for (const s of [u.id, id, name]) ids.add(s.toLowerCase());
            answer = { id, name };
            return answer;
          });
        asking = p;
        p.catch(() => {
          if (asking === p) asking = null;
        });
      }
      return asking;
    },
  };
}
