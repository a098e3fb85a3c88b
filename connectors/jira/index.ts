// Placeholder until the Jira connector lands (issue 3): refuses clearly instead of pretending.
import { NotAvailableError } from '../../src/errors.ts';
import type { Connector, JiraConnectorDeps } from '../types.ts';

export function createJiraConnector(_deps: JiraConnectorDeps): Connector {
  throw new NotAvailableError('The Jira connector');
}
