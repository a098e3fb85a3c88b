// The connections section of pmo-sync.yaml: owned here, composed by src/config/schema.ts.
import { z } from 'zod';
import { AdoConnection } from './azure-devops/config.ts';
import { JiraConnection } from './jira/config.ts';

export const Connection = z.discriminatedUnion('kind', [JiraConnection, AdoConnection]);
export type Connection = z.infer<typeof Connection>;
