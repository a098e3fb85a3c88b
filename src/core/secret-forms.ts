// The forms a secret takes in text that may be logged: as written, URL-encoded, JSON-escaped,
// and inside base64 — the form of every Basic credential (Jira `email:apiToken`, the Azure DevOps
// PAT, service hook passwords). A secret inside base64 has no fixed spelling: its characters
// depend on what precedes it (the byte offset modulo 3) and what follows. So for each of the
// three offsets the run of base64 characters made of the secret's bytes alone is taken; whatever
// the secret is encoded with, one of those runs appears in the output. At most two bytes at each
// end of the secret stay readable, which is no use to anyone.

/** Base64 (and base64url) runs that appear wherever `secret` is base64-encoded within other bytes. */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const b64 = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Groups of three bytes that lie wholly inside the secret: from the first group after the
    // filler to the last group the secret fills.
    const first = offset === 0 ? 0 : 1;
    const last = Math.floor((offset + bytes.length) / 3);
    const core = b64.slice(4 * first, 4 * last);
    if (core.length < 8) continue;
    forms.add(core);
    forms.add(core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...forms];
}

/** Every form of every secret, longest first (so a longer form is replaced before its parts). */
export function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    for (const f of [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1), ...base64Forms(s)]) {
      if (f.length >= 4) forms.add(f);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

export function replaceForms(text: string, forms: readonly string[], mark: string): string {
  let out = text;
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(mark);
  return out;
}
