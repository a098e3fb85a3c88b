// Two `pmo-sync demo` processes (bin/pmo-sync.mjs) side by side in one checkout: both find the
// asked-for port taken and fall back to a free one, each keeps its database and config file in
// a run directory of its own, neither touches the other's, each removes its own when it stops,
// and runs left behind by a dead demo are removed. The banner's config file and comment `curl`
// work as printed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../src/demo/run.ts';
import { type Spawned, spawnCli } from '../helpers/spawn.ts';

const cwd = mkdtempSync(join(tmpdir(), 'pmo-sync-demos-'));
const running: Spawned[] = [];
afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exit(10_000).catch(() => {})));
  rmSync(cwd, { recursive: true, force: true });
});

interface Banner {
  url: string;
  token: string;
  configPath: string;
  commentCurl: string;
}

function banner(out: string): Banner {
  const pick = (re: RegExp) => {
    const m = out.match(re);
    if (!m) throw new Error(`banner lacks ${re}:\n${out}`);
    return m[1]!;
  };
  return {
    url: pick(/Dashboard\s+(http:\/\/\S+?)\/\s/).replace('localhost', '127.0.0.1'),
    token: pick(/Read token\s+(\S+)/),
    configPath: pick(/Config\s+(\S+pmo-sync\.yaml)/),
    commentCurl: pick(/curl -u \S+ (http:\/\/\S+\/rest\/api\/2\/issue\/[A-Z]+-\d+\/comment)\n/),
  };
}

const api = (b: Banner) =>
  fetch(`${b.url}/api/v1/portfolio`, { headers: { authorization: `Bearer ${b.token}` } }).then((r) => r.status);

/** The pid of a process that has ended. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('exit', () => resolve(child.pid!));
  });
}

describe('two demos in one checkout (real processes)', () => {
  it('both run on free ports with their own data; each stops cleanly and removes only its own', async () => {
    // A run left by a demo that was killed: removed by the next demo to start.
    const leftover = join(cwd, '.pmo-sync', 'demo', 'run-dead-x');
    mkdirSync(join(leftover, 'db'), { recursive: true });
    writeFileSync(join(leftover, 'owner.json'), JSON.stringify({ pid: await deadPid(), host: hostname(), started: 1 }));

    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const a = spawnCli(['demo', '--port', String(port)], { cwd });
      const b = spawnCli(['demo', '--port', String(port)], { cwd });
      running.push(a, b);
      await Promise.all([a.waitFor(/Ctrl-C stops everything/, 180_000), b.waitFor(/Ctrl-C stops everything/, 180_000)]);
      for (const p of [a, b]) {
        const fallbacks = p.stderr().match(/port \d+ is in use; serving on port \d+ instead/g) ?? [];
        expect(fallbacks).toEqual([expect.stringMatching(new RegExp(`^port ${port} is in use`))]);
      }
      const [ba, bb] = [banner(a.stdout()), banner(b.stdout())];
      expect(ba.configPath).not.toBe(bb.configPath);
      expect(ba.url).not.toBe(bb.url);
      expect(existsSync(leftover)).toBe(false);
      expect([await api(ba), await api(bb)]).toEqual([200, 200]);

      // The printed config file is a real one: the CLI reads it, and is told plainly that the
      // running demo holds its database.
      const rules = spawnCli(['--config', ba.configPath, 'rules', 'list'], { cwd });
      expect((await rules.exit(60_000)).code).toBe(0);
      expect(rules.stdout()).toContain('epic-target-date');
      const report = spawnCli(['--config', ba.configPath, 'report'], { cwd });
      expect(await report.exit(60_000)).toEqual({ code: 1, signal: null });
      expect(report.stderr()).toMatch(
        new RegExp(
          `^pmo-sync: database ${join(dirname(ba.configPath), 'db')} is in use by another pmo-sync process \\(pid ${a.child.pid}\\)`,
        ),
      );

      // The comment curl shows the comment as text (REST API v2), not a document tree.
      const { email, apiToken } = DEMO_CREDENTIALS.jiraPerson;
      const res = await fetch(ba.commentCurl, {
        headers: { authorization: `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}` },
      });
      const { comments } = (await res.json()) as { comments: { body: unknown }[] };
      expect(comments.map((c) => typeof c.body)).toEqual(['string']);
      expect(comments[0]!.body).toMatch(/^h3\. PMO check: \d+ things? to fix\n\n\* \*/);

      a.child.kill('SIGINT');
      expect(await a.exit(10_000)).toEqual({ code: 0, signal: null });
      expect(a.stderr()).toContain(`pmo-sync demo: stopped; removed ${dirname(ba.configPath)}`);
      expect(existsSync(dirname(ba.configPath))).toBe(false);
      // The other demo lost nothing.
      expect(existsSync(join(dirname(bb.configPath), 'db', 'PG_VERSION'))).toBe(true);
      expect(await api(bb)).toBe(200);

      b.child.kill('SIGTERM');
      expect(await b.exit(10_000)).toEqual({ code: 0, signal: null });
      expect(readdirSync(join(cwd, '.pmo-sync', 'demo'))).toEqual([]);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  }, 300_000);
});
