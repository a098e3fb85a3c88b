// The rules section of pmo-sync.yaml: owned here, composed by src/config/schema.ts.
import { z } from 'zod';
import { nonEmpty } from '../src/core/config-fields.ts';
import { KINDS } from '../src/core/work-item.ts';

const isoDate = z.iso.date({ error: 'a date like 2027-03-31' });

export const Waiver = z
  .strictObject({
    rule: nonEmpty,
    ref: nonEmpty.optional(),
    project: nonEmpty.optional(),
    until: z.union([isoDate, z.date().transform((d) => d.toISOString().slice(0, 10))]),
    reason: nonEmpty,
  })
  .refine((w) => w.ref || w.project, { error: 'a waiver needs "ref" or "project"' });
export type Waiver = z.infer<typeof Waiver>;

export const RuleOverride = z.strictObject({
  enabled: z.boolean().optional(),
  severity: z.enum(['error', 'warning', 'info']).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  scope: z
    .strictObject({
      connections: z.array(nonEmpty).optional(),
      projects: z.array(nonEmpty).optional(),
      kinds: z.array(z.enum(KINDS)).optional(),
    })
    .optional(),
});

export const RulesConfig = z.strictObject({
  packs: z.array(nonEmpty).default(['pmo-standard']),
  files: z.array(nonEmpty).default([]),
  overrides: z.record(z.string(), RuleOverride).default({}),
  waivers: z.array(Waiver).default([]),
});
