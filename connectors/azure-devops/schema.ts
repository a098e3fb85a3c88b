// Zod schemas for the Azure DevOps responses and service hook payloads the connector reads.
// Only the fields we use are checked; everything else passes through untouched so `raw` keeps
// the tracker's JSON as read.
import { z } from 'zod';

/** An identity as ADO sends it: an IdentityRef object, or "Display Name <unique@name>" in older payloads. */
export const AdoIdentity = z.union([
  z.looseObject({
    id: z.string().optional(),
    displayName: z.string().optional(),
    uniqueName: z.string().optional(),
  }),
  z.string(),
]);
export type AdoIdentity = z.infer<typeof AdoIdentity>;

export const AdoRelation = z.looseObject({
  rel: z.string(),
  url: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type AdoRelation = z.infer<typeof AdoRelation>;

export const AdoWorkItem = z.looseObject({
  id: z.number().int(),
  rev: z.number().int(),
  fields: z.record(z.string(), z.unknown()),
  relations: z.array(AdoRelation).optional(),
  url: z.string().optional(),
});
export type AdoWorkItem = z.infer<typeof AdoWorkItem>;

/** `workitemsbatch` with `errorPolicy: omit` answers `null` for ids that no longer exist. */
export const AdoWorkItemList = z.looseObject({
  count: z.number().int().optional(),
  value: z.array(AdoWorkItem.nullable()),
});

/**
 * A `workitemsbatch` answer as the reader takes it: each work item is read on its own (index.ts
 * readBatch), so one the schema refuses does not cost the others of its batch.
 */
export const AdoWorkItemBatch = z.looseObject({
  count: z.number().int().optional(),
  value: z.array(z.unknown()),
});
export type AdoWorkItemList = z.infer<typeof AdoWorkItemList>;

export const AdoWiqlResult = z.looseObject({
  queryType: z.string().optional(),
  asOf: z.string().optional(),
  workItems: z.array(z.looseObject({ id: z.number().int() })),
});
export type AdoWiqlResult = z.infer<typeof AdoWiqlResult>;

export const AdoWorkItemState = z.looseObject({
  name: z.string(),
  category: z.string(),
});
export const AdoWorkItemStates = z.looseObject({ value: z.array(AdoWorkItemState) });
export type AdoWorkItemStates = z.infer<typeof AdoWorkItemStates>;

export interface AdoClassificationNode {
  name: string;
  attributes?: { startDate?: string | null; finishDate?: string | null } | undefined;
  children?: AdoClassificationNode[] | undefined;
}
export const AdoClassificationNode: z.ZodType<AdoClassificationNode> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    attributes: z
      .looseObject({ startDate: z.string().nullable().optional(), finishDate: z.string().nullable().optional() })
      .optional(),
    children: z.array(AdoClassificationNode).optional(),
  }),
);

export const AdoComment = z.looseObject({
  id: z.number().int(),
  workItemId: z.number().int().optional(),
  version: z.number().int().optional(),
  text: z.string().nullable().optional(),
  isDeleted: z.boolean().optional(),
  createdBy: AdoIdentity.optional(),
});
export type AdoComment = z.infer<typeof AdoComment>;

export const AdoCommentList = z.looseObject({
  totalCount: z.number().int().optional(),
  count: z.number().int().optional(),
  comments: z.array(AdoComment),
  continuationToken: z.string().nullable().optional(),
});
export type AdoCommentList = z.infer<typeof AdoCommentList>;

export const AdoConnectionData = z.looseObject({
  authenticatedUser: z.looseObject({
    id: z.string(),
    providerDisplayName: z.string().optional(),
    customDisplayName: z.string().nullable().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type AdoConnectionData = z.infer<typeof AdoConnectionData>;

export const AdoSubscription = z.looseObject({
  id: z.string(),
  eventType: z.string(),
  /** `enabled`, `onProbation`, `disabledByUser`, `disabledBySystem`, `disabledByInactiveIdentity`. */
  status: z.string().optional(),
  modifiedDate: z.string().optional(),
  /** `projectId`: the one project whose events the subscription sends (absent: every project). */
  publisherInputs: z.record(z.string(), z.string()).optional(),
  consumerInputs: z.record(z.string(), z.string()).optional(),
});

export const AdoProject = z.looseObject({ id: z.string(), name: z.string() });
export const AdoSubscriptionList = z.looseObject({ value: z.array(AdoSubscription) });

/** A field change in a `workitem.updated` resource: `{ oldValue, newValue }`. */
const AdoFieldChange = z.looseObject({ oldValue: z.unknown().optional(), newValue: z.unknown().optional() });

export const AdoServiceHookEvent = z.looseObject({
  subscriptionId: z.string().optional(),
  notificationId: z.number().int(),
  id: z.string(),
  eventType: z.string(),
  createdDate: z.string().optional(),
  resource: z.looseObject({
    id: z.number().int().optional(),
    workItemId: z.number().int().optional(),
    rev: z.number().int().optional(),
    revisedBy: AdoIdentity.nullable().optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
    revision: z
      .looseObject({
        id: z.number().int(),
        rev: z.number().int().optional(),
        fields: z.record(z.string(), z.unknown()),
      })
      .optional(),
  }),
});
export type AdoServiceHookEvent = z.infer<typeof AdoServiceHookEvent>;
export { AdoFieldChange };
