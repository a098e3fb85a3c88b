// A terminal for tests: what the CLI writes to a TTY is run through xterm's emulator, and the
// screen is read back as a person would see it (cursor moves, line clears and all).
import xterm from '@xterm/headless';
import type { TerminalStream } from '../../src/cli/context.ts';

export interface TestTerminal {
  stream: TerminalStream;
  /**
   * The screen's lines once every write is drawn, trailing blanks trimmed; a line the terminal
   * wrapped is given whole, as it was written.
   */
  screen(): Promise<string[]>;
  dispose(): void;
}

export function testTerminal(opts: { cols?: number; rows?: number } = {}): TestTerminal {
  const cols = opts.cols ?? 100;
  // A tty turns \n into \r\n (onlcr); convertEol does that here.
  const term = new xterm.Terminal({ cols, rows: opts.rows ?? 40, convertEol: true, allowProposedApi: true });
  return {
    stream: {
      isTTY: true,
      columns: cols,
      write(text: string) {
        term.write(text);
        return true;
      },
    },
    async screen() {
      await new Promise<void>((resolve) => term.write('', resolve));
      const buf = term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < buf.length; i++) {
        const line = buf.getLine(i);
        const text = line?.translateToString(true) ?? '';
        if (line?.isWrapped && lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.padEnd(cols) + text;
        else lines.push(text);
      }
      while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      return lines;
    },
    dispose() {
      term.dispose();
    },
  };
}
