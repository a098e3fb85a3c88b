// Shared pieces of route definitions: the problem responses every route can give and the
// bearer security requirement, so each route states only what is particular to it.
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { PROBLEM_TYPE } from './problem.ts';
import { Problem } from './schemas.ts';

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Bad parameters (problem details name each one)',
  401: 'No token, or an unknown or revoked token',
  403: 'The token lacks the scope this route needs',
  404: 'No such resource',
  503: 'Not available in this process',
};

export function problems(...statuses: (400 | 401 | 403 | 404 | 503)[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { content: { [PROBLEM_TYPE]: { schema: Problem } }, description: PROBLEM_TEXT[s]! }]),
  ) as Record<
    400 | 401 | 403 | 404 | 503,
    { content: { [PROBLEM_TYPE]: { schema: typeof Problem } }; description: string }
  >;
}

export const bearer = [{ bearer: [] }];

export const csv = (description: string) => ({
  content: { 'text/csv': { schema: z.string() } },
  description,
});

export function registerSecurity(app: OpenAPIHono): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from `pmo-sync token create --scope read|admin`.',
  });
}

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'pmo-sync API',
    version: '1',
    description:
      'Cross-tracker PMO rollups, items and findings from Jira and Azure DevOps. Every /api route needs ' +
      '`Authorization: Bearer <token>`; errors are RFC 9457 problem details.',
  },
};
