// Zod schemas for the Jira Cloud responses the connector reads, and only the parts it reads.
// Objects are loose: Jira adds fields all the time and an unknown key is not an error; a field we
// read that changed type is, and it is reported by path (SchemaError) instead of surfacing as
// `undefined` three frames later.
import { z } from 'zod';

export const JiraUser = z.looseObject({
  accountId: z.string(),
  displayName: z.string().optional(),
  timeZone: z.string().optional(),
});
export type JiraUser = z.infer<typeof JiraUser>;

export const JiraIssueType = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  subtask: z.boolean().optional(),
  hierarchyLevel: z.number().int().optional(),
});

export const JiraStatus = z.looseObject({
  name: z.string(),
  statusCategory: z.looseObject({ key: z.string() }),
});

const IssueRef = z.looseObject({
  id: z.string().optional(),
  key: z.string(),
  fields: z.looseObject({ issuetype: JiraIssueType.optional() }).optional(),
});

export const JiraIssueLink = z.looseObject({
  type: z.looseObject({ name: z.string(), inward: z.string().optional(), outward: z.string().optional() }),
  inwardIssue: IssueRef.optional(),
  outwardIssue: IssueRef.optional(),
});
export type JiraIssueLink = z.infer<typeof JiraIssueLink>;

export const JiraSprint = z.looseObject({
  name: z.string(),
  state: z.string().optional(),
  startDate: z.string().nullish(),
  endDate: z.string().nullish(),
});
export type JiraSprint = z.infer<typeof JiraSprint>;

/** The fields the mapper reads. Custom fields are read through `catchall` and checked where used. */
export const JiraIssueFields = z.looseObject({
  summary: z.string(),
  issuetype: JiraIssueType,
  status: JiraStatus,
  project: z.looseObject({ key: z.string() }),
  created: z.string(),
  updated: z.string(),
  assignee: JiraUser.nullish(),
  priority: z.looseObject({ name: z.string() }).nullish(),
  labels: z.array(z.string()).nullish(),
  resolutiondate: z.string().nullish(),
  duedate: z.string().nullish(),
  statuscategorychangedate: z.string().nullish(),
  parent: IssueRef.nullish(),
  issuelinks: z.array(JiraIssueLink).nullish(),
  timetracking: z
    .looseObject({
      originalEstimateSeconds: z.number().optional(),
      remainingEstimateSeconds: z.number().optional(),
    })
    .nullish(),
});

export const JiraChangeItem = z.looseObject({
  field: z.string(),
  fieldId: z.string().optional(),
  from: z.string().nullish(),
  fromString: z.string().nullish(),
  to: z.string().nullish(),
  toString: z.string().nullish(),
});

export const JiraChangeHistory = z.looseObject({
  id: z.string().optional(),
  created: z.string(),
  items: z.array(JiraChangeItem),
});
export type JiraChangeHistory = z.infer<typeof JiraChangeHistory>;

export const JiraIssue = z.looseObject({
  id: z.string(),
  key: z.string(),
  fields: JiraIssueFields,
  changelog: z.looseObject({ histories: z.array(JiraChangeHistory) }).optional(),
});
export type JiraIssue = z.infer<typeof JiraIssue>;

/**
 * A search page. Its issues are read one by one (read.ts readEach): one issue the schema refuses
 * must not cost the others on its page.
 */
export const JiraSearchPage = z.looseObject({
  issues: z.array(z.unknown()),
  nextPageToken: z.string().nullish(),
  isLast: z.boolean().optional(),
});
export type JiraSearchPage = z.infer<typeof JiraSearchPage>;

/** `POST search/approximate-count`: how many issues a JQL matches, roughly (for progress only). */
export const JiraApproximateCount = z.looseObject({ count: z.number().int().nonnegative() });
export type JiraApproximateCount = z.infer<typeof JiraApproximateCount>;

/** `fields: ['id']` pages for the reconcile sweep: keys only. */
export const JiraKeyPage = z.looseObject({
  issues: z.array(z.looseObject({ id: z.string(), key: z.string() })),
  nextPageToken: z.string().nullish(),
});

export const JiraBulkFetch = z.looseObject({
  /** Read one by one, as a search page's are. */
  issues: z.array(z.unknown()).default([]),
  issueErrors: z.array(z.looseObject({ id: z.string().optional(), errorMessage: z.string().optional() })).optional(),
});

export const JiraBulkChangelog = z.looseObject({
  issueChangeLogs: z.array(z.looseObject({ issueId: z.string(), changeHistories: z.array(JiraChangeHistory) })),
  nextPageToken: z.string().nullish(),
});

export const JiraField = z.looseObject({
  id: z.string(),
  name: z.string(),
  custom: z.boolean().optional(),
  schema: z.looseObject({ type: z.string(), custom: z.string().optional(), items: z.string().optional() }).optional(),
});
export type JiraField = z.infer<typeof JiraField>;
export const JiraFieldList = z.array(JiraField);

export const JiraComment = z.looseObject({
  id: z.string(),
  body: z.unknown(),
  author: JiraUser.optional(),
  updated: z.string().optional(),
});
export type JiraComment = z.infer<typeof JiraComment>;

export const JiraCommentPage = z.looseObject({
  comments: z.array(JiraComment),
  startAt: z.number(),
  maxResults: z.number(),
  total: z.number(),
});

export const JiraAdminWebhook = z.looseObject({
  self: z.string().optional(),
  name: z.string().optional(),
  url: z.string(),
  events: z.array(z.string()).default([]),
  /** `issue-related-events-section`: the JQL an issue must match for its events to be sent. */
  filters: z.record(z.string(), z.string()).optional(),
});
export const JiraAdminWebhookList = z.array(JiraAdminWebhook);

/** An issue as it appears in a webhook body: the same bean, but some deliveries trim fields. */
export const JiraWebhookBody = z.looseObject({
  timestamp: z.union([z.number(), z.string()]).optional(),
  webhookEvent: z.string(),
  issue_event_type_name: z.string().optional(),
  user: JiraUser.optional(),
  issue: z
    .looseObject({
      id: z.string(),
      key: z.string(),
      fields: z.looseObject({ updated: z.string().optional() }).optional(),
    })
    .optional(),
  comment: z.looseObject({ id: z.string(), author: JiraUser.optional(), updateAuthor: JiraUser.optional() }).optional(),
  issueLink: z
    .looseObject({
      sourceIssueId: z.union([z.number(), z.string()]),
      destinationIssueId: z.union([z.number(), z.string()]),
    })
    .optional(),
  worklog: z.looseObject({ issueId: z.string() }).optional(),
  changelog: z.looseObject({ items: z.array(JiraChangeItem) }).optional(),
});
export type JiraWebhookBody = z.infer<typeof JiraWebhookBody>;
