#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point of the `pmo-sync` command. Re-runs itself on Node 24 where the machine's
// node is too old, then loads the TypeScript sources through tsx (no build step). The shebang's
// option is scripts/node24.mjs NODE_FLAGS, which `npm start` passes too; its NODE_ENV is set by
// starting again in place where the environment lacks it.
import { fileURLToPath } from 'node:url';
import { isModern, restartWithEnv, runOnModernNode, tuneHeap } from '../scripts/node24.mjs';

if (!isModern()) {
  runOnModernNode(fileURLToPath(import.meta.url), process.argv.slice(2));
} else {
  restartWithEnv(fileURLToPath(import.meta.url), process.argv.slice(2));
  tuneHeap();
  const { register } = await import('tsx/esm/api');
  // The project's tsconfig (JSX for hono), wherever the command is run from.
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
