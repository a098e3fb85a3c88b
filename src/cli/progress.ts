// The progress display of `sync` on a terminal: a line per connection naming its phase, with a
// bar once the tracker has told how many items the pull will bring (Jira's approximate count,
// the ids of an Azure DevOps WIQL query), then a line for the pass's own phases (evaluate, roll
// up, write). Log lines and error lines are written above the bars, never onto them.
import { clearScreenDown } from 'node:readline';
import cliProgress from 'cli-progress';
import type { SyncPhase, SyncProgress } from '../sync/phases.ts';
import { count } from '../util/plural.ts';
import type { TerminalStream } from './context.ts';

export interface Progress {
  update(event: SyncProgress): void;
  /** Writes whole lines above the bars; after `stop()`, straight to the terminal. */
  log(text: string): void;
  stop(): void;
}

interface Payload {
  name: string;
  phase: SyncPhase;
  /** Whether `total` is known: the bar is drawn only then. */
  counted: boolean;
}

const PASS = 'all';
const BAR_SIZE = 30;

export function createProgress(opts: { stream: TerminalStream; connections: string[] }): Progress {
  const width = Math.max(PASS.length, ...opts.connections.map((c) => c.length));
  const multi = new cliProgress.MultiBar({
    stream: opts.stream as NodeJS.WritableStream,
    format: (options, params, payload: Payload) => render(options, params, payload, width),
    barsize: BAR_SIZE,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    // Every redraw writes each bar whole: lines written above them move them down.
    forceRedraw: true,
    // Bars are cut to the terminal's width; log lines above them wrap as the terminal wraps them.
    linewrap: true,
    clearOnComplete: false,
    // The cursor stays visible: a sync stopped by a signal must not leave the terminal without one.
    hideCursor: false,
    gracefulExit: false,
  });
  /** Lines given to `multi.log` and not yet drawn. */
  let pending = 0;
  let active = true;
  // Lines written above the bars replace them: clear the bars first, or a short line would keep
  // the tail of the bar it overwrites.
  multi.on('redraw-pre', () => {
    if (pending > 0) clearScreenDown(opts.stream as NodeJS.WritableStream);
    pending = 0;
  });
  const bars = new Map<string, cliProgress.SingleBar>(
    opts.connections.map((c) => [c, multi.create(0, 0, { name: c, phase: 'pull', counted: false } satisfies Payload)]),
  );
  let pass: cliProgress.SingleBar | undefined;

  return {
    update(e) {
      if (!active) return;
      if (e.connection === null) {
        pass ??= multi.create(0, 0, { name: PASS, phase: e.phase, counted: false } satisfies Payload);
        pass.setTotal(e.total ?? 0);
        pass.update(e.total ?? 0, { phase: e.phase, counted: false } satisfies Partial<Payload>);
        return;
      }
      const bar = bars.get(e.connection);
      if (!bar) return;
      const finished = e.phase === 'done';
      // An approximate count may fall short of what the pages bring; a finished pull is whole.
      const total = e.total === null ? null : finished ? e.done : Math.max(e.total, e.done);
      if (total !== null) bar.setTotal(total);
      bar.update(e.done, { phase: e.phase, counted: total !== null } satisfies Partial<Payload>);
    },
    log(text) {
      if (!active) {
        opts.stream.write(text);
        return;
      }
      multi.log(text.endsWith('\n') ? text : `${text}\n`);
      pending += 1;
      // Drawn now, not at the next tick: the line is not held back, nor lost if the pass ends.
      multi.update();
    },
    stop() {
      if (!active) return;
      active = false;
      multi.stop();
    },
  };
}

function render(options: cliProgress.Options, params: cliProgress.Params, payload: Payload, width: number): string {
  const name = payload.name.padEnd(width);
  const phase = payload.phase.padEnd(8);
  if (payload.name === PASS) {
    return ` ${name}  ${params.total > 0 ? `${phase} ${count(params.total, 'item')}` : payload.phase}`;
  }
  if (payload.phase === 'skipped') return ` ${name}  ${phase} another sync of it is running`;
  if (!payload.counted) return ` ${name}  ${phase} ${count(params.value, 'item')}`;
  const bar = cliProgress.Format.BarFormat(params.total > 0 ? Math.min(1, params.value / params.total) : 1, options);
  const pct = params.total > 0 ? Math.floor((100 * Math.min(params.value, params.total)) / params.total) : 100;
  return ` ${name}  ${phase} ${bar} ${String(pct).padStart(3)}%  ${params.value}/${count(params.total, 'item')}`;
}
