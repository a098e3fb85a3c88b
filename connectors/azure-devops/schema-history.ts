// Zod schema of the reporting revisions batch, only the parts the history reader reads.
import { z } from 'zod';

export const AdoReportingRevisions = z.looseObject({
  values: z.array(
    z.looseObject({
      id: z.number().int(),
      rev: z.number().int().optional(),
      fields: z.record(z.string(), z.unknown()),
    }),
  ),
  continuationToken: z.string().nullish(),
  nextLink: z.string().nullish(),
  isLastBatch: z.boolean(),
});
export type AdoReportingRevisions = z.infer<typeof AdoReportingRevisions>;
