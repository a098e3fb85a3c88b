/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The pragma repeats tsconfig's JSX settings: tsx finds tsconfig.json from the working directory,
// so `pmo-sync` started anywhere else would otherwise compile this file for React.
// The OpenAPI 3.1 document and a docs page rendered from it on the server: no CDN, no client
// bundle, so it works offline and in the demo exactly as in production.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { raw } from 'hono/html';
import { OPENAPI_INFO } from './openapi.ts';

type Operation = {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
};
type Schema = { type?: string | string[]; enum?: unknown[]; $ref?: string };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const typeOf = (s: Schema | undefined): string => {
  if (!s) return '';
  if (s.enum) return s.enum.map(String).join(' | ');
  return Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? '');
};

export function registerDocs(app: OpenAPIHono): void {
  // Built on first use, after every route (including ones mounted later) is registered.
  let cached: ReturnType<OpenAPIHono['getOpenAPI31Document']> | undefined;
  const document = () => {
    cached ??= app.getOpenAPI31Document(OPENAPI_INFO);
    return cached;
  };

  app.get('/openapi.json', (c) => c.json(document(), 200));

  app.get('/docs', (c) => {
    const doc = document();
    const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => ({
        path,
        method: m,
        op: (item as Record<string, Operation>)[m]!,
      })),
    );
    return c.html(
      <>
        {raw('<!doctype html>')}
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>{doc.info.title}</title>
            <link rel="icon" href="data:," />
            <link rel="stylesheet" href="/assets/dashboard.css" />
          </head>
          <body class="docs">
            <header class="bar">
              <h1>{doc.info.title}</h1>
              <nav>
                <a href="/openapi.json">openapi.json</a> · <a href="/">dashboard</a>
              </nav>
            </header>
            <main>
              <p>{doc.info.description}</p>
              {ops.map(({ path, method, op }) => (
                <section class="card op" id={`${method}-${path}`}>
                  <h2>
                    <span class={`method ${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
                    {op.security && op.security.length > 0 ? <span class="badge">token</span> : null}
                  </h2>
                  <p>{op.summary}</p>
                  {op.description ? <p class="muted">{op.description}</p> : null}
                  {op.parameters && op.parameters.length > 0 ? (
                    <table>
                      <thead>
                        <tr>
                          <th>parameter</th>
                          <th>in</th>
                          <th>type</th>
                          <th>about</th>
                        </tr>
                      </thead>
                      <tbody>
                        {op.parameters.map((p) => (
                          <tr>
                            <td>
                              <code>{p.name}</code>
                              {p.required ? ' *' : ''}
                            </td>
                            <td>{p.in}</td>
                            <td>{typeOf(p.schema)}</td>
                            <td>{p.description ?? ''}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                  <ul class="responses">
                    {Object.entries(op.responses ?? {}).map(([status, r]) => (
                      <li>
                        <code>{status}</code> {r.description}{' '}
                        <span class="muted">{Object.keys(r.content ?? {}).join(', ')}</span>
                      </li>
                    ))}
                  </ul>
                </section>
              ))}
            </main>
          </body>
        </html>
      </>,
      200,
    );
  });
}
