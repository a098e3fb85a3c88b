// Shared test fixtures for the Jira connector's tests: a valid connection config and a silent
// logger. Not imported by production code.
import pino from 'pino';
import type { RefResolver } from '../types.ts';
import { JiraConnection } from './config.ts';

export const TEST_TOKEN = 'ATATT3xFfGF0-super-secret-token';

export function jiraConfig(overrides: Partial<Record<keyof JiraConnection, unknown>> = {}): JiraConnection {
  return JiraConnection.parse({
    id: 'jira-main',
    kind: 'jira',
    baseUrl: 'https://acme.atlassian.net',
    auth: { email: 'bot@acme.test', apiToken: TEST_TOKEN },
    scope: { projects: ['PAY'] },
    limits: { concurrency: 8, requestsPerSecond: 1000 },
    ...overrides,
  });
}

export const silentLog = pino({ level: 'silent' });

export const noRefs: RefResolver = () => null;
