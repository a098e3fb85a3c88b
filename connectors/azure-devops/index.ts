// Placeholder until the Azure DevOps connector lands (issue 4): refuses clearly instead of pretending.
import { NotAvailableError } from '../../src/errors.ts';
import type { AdoConnectorDeps, Connector } from '../types.ts';

export function createAdoConnector(_deps: AdoConnectorDeps): Connector {
  throw new NotAvailableError('The Azure DevOps connector');
}
