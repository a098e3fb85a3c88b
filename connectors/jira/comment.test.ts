// ADF rendering of the neutral CommentDoc, reading it back as text, and comparing bodies the
// way ensureComment does (ignoring attributes Jira adds when it stores a document).
import { describe, expect, it } from 'vitest';
import { adfToText, hasMarker, renderAdf, sameBody } from './comment.ts';

const DOC = {
  marker: 'pmo-sync:PAY-1',
  blocks: [
    { type: 'heading' as const, text: 'PMO standard: 1 finding' },
    {
      type: 'paragraph' as const,
      content: [{ text: 'See ' }, { text: 'the dashboard', href: 'https://pmo.example.com/items/PAY-1' }, { text: '' }],
    },
    {
      type: 'bullets' as const,
      items: [[{ text: 'Set a target date', bold: true }, { text: ' · ' }, { text: 'epic-target-date', code: true }]],
    },
  ],
};

describe('renderAdf', () => {
  it('renders blocks as Atlassian Document Format with the marker as a grey footer', () => {
    // Act
    const adf = renderAdf(DOC);

    // Assert
    expect(adf).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'heading', attrs: { level: 3 }, content: [{ type: 'text', text: 'PMO standard: 1 finding' }] },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'See ' },
            {
              type: 'text',
              text: 'the dashboard',
              marks: [{ type: 'link', attrs: { href: 'https://pmo.example.com/items/PAY-1' } }],
            },
          ],
        },
        {
          type: 'bulletList',
          content: [
            {
              type: 'listItem',
              content: [
                {
                  type: 'paragraph',
                  content: [
                    { type: 'text', text: 'Set a target date', marks: [{ type: 'strong' }] },
                    { type: 'text', text: ' · ' },
                    { type: 'text', text: 'epic-target-date', marks: [{ type: 'code' }] },
                  ],
                },
              ],
            },
          ],
        },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'pmo-sync:PAY-1', marks: [{ type: 'textColor', attrs: { color: '#97a0af' } }] },
          ],
        },
      ],
    });
  });

  it('reads back as text containing the marker', () => {
    // Act
    const text = adfToText(renderAdf(DOC));

    // Assert
    expect(text).toBe(
      'PMO standard: 1 finding\nSee the dashboard\nSet a target date · epic-target-date\npmo-sync:PAY-1',
    );
    expect(hasMarker(renderAdf(DOC), 'pmo-sync:PAY-1')).toBe(true);
  });

  it('treats a body Jira decorated with its own attributes as the same, and a changed word as different', () => {
    // Arrange
    const stored = JSON.parse(
      JSON.stringify(renderAdf(DOC)).replaceAll('"type":"paragraph"', '"type":"paragraph","attrs":{"localId":"a1b2"}'),
    );
    const changed = renderAdf({
      ...DOC,
      blocks: [{ type: 'heading', text: 'PMO standard: 2 findings' }, ...DOC.blocks.slice(1)],
    });

    // Act / Assert
    expect([sameBody(stored, renderAdf(DOC)), sameBody(stored, changed)]).toEqual([true, false]);
  });
});
