// Scrubbing secrets out of connector messages: long ones wherever they appear, short ones only
// as words of their own, so a placeholder token cannot garble the message it is scrubbed from.
import { describe, expect, it } from 'vitest';
import { scrubSecrets } from './secrets.ts';

describe('scrubSecrets', () => {
  it('replaces a secret of real length wherever it appears, inside words too', () => {
    const pat = 'abcd1234efgh5678';
    expect(scrubSecrets(`GET x?token=${pat}&y=1 sent ${pat}x`, [pat], '***')).toBe('GET x?token=***&y=1 sent ***x');
  });

  it('replaces a short secret only where it stands alone, and leaves the message readable', () => {
    const line = 'GET field: 127.0.0.1:59999 refused the connection (ECONNREFUSED); check the host';
    expect(scrubSecrets(line, ['t'], '***')).toBe(line);
    expect(scrubSecrets('sent Basic t to the site; t.', ['t'], '[redacted]')).toBe(
      'sent Basic [redacted] to the site; [redacted].',
    );
    expect(scrubSecrets('a+b* in a+b*c and (a+b*)', ['a+b*'], '***')).toBe('*** in a+b*c and (***)');
  });

  it('ignores empty and missing secrets', () => {
    expect(scrubSecrets('unchanged', ['', null, undefined], '***')).toBe('unchanged');
  });
});
