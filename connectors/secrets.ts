// Secrets taken out of text a connector shows (error messages, log lines). A secret of real
// length goes wherever it appears. A short one (a placeholder, a typo) is matched only where it
// stands as a word of its own: scrubbing every "t" would leave "refused ***he connec***ion"
// where the error said why the connection failed, and hide nothing worth hiding.
const SHORT = 8;
const ESCAPE = /[.*+?^${}()|[\]\\]/g;

/** `text` with each non-empty secret replaced by `mark`. */
export function scrubSecrets(text: string, secrets: readonly (string | null | undefined)[], mark: string): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    out =
      s.length >= SHORT
        ? out.split(s).join(mark)
        : out.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${s.replace(ESCAPE, '\\$&')}(?![\\p{L}\\p{N}_])`, 'gu'), mark);
  }
  return out;
}
