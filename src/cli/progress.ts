// A progress display for `sync` on a terminal: one line per connection with the item count.
// Trackers don't tell totals up front (Jira's search has none), so it counts rather than fills.
import cliProgress from 'cli-progress';

export interface Progress {
  update(connection: string, pulled: number): void;
  stop(): void;
}

export function createProgress(connections: string[]): Progress {
  const multi = new cliProgress.MultiBar(
    {
      format: ' {connection} | {value} items | {duration}s',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...connections.map((c) => c.length));
  const bars = new Map(connections.map((c) => [c, multi.create(0, 0, { connection: c.padEnd(width) })]));
  return {
    update(connection, pulled) {
      const bar = bars.get(connection);
      bar?.setTotal(pulled);
      bar?.update(pulled);
    },
    stop() {
      multi.stop();
    },
  };
}
