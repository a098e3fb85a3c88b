// The simulator's records: issues, histories, comments, webhooks, and the events changes emit.

export interface SimUser {
  accountId: string;
  displayName: string;
  emailAddress?: string;
}

export interface SimHistory {
  id: string;
  created: string;
  author: SimUser;
  items: {
    field: string;
    fieldtype: string;
    /** Absent where Jira logs none (a parent change, IssueParentAssociation). */
    fieldId?: string;
    from: string | null;
    fromString: string | null;
    to: string | null;
    toString: string | null;
  }[];
}

export interface SimComment {
  id: string;
  body: unknown;
  author: SimUser;
  updateAuthor: SimUser;
  created: string;
  updated: string;
}

export interface SimIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  histories: SimHistory[];
  comments: SimComment[];
  /** Search does not see the issue before this instant (Jira's indexing lag). */
  searchableAt: number;
}

export interface SimWebhook {
  id: number;
  name: string;
  url: string;
  events: string[];
  secret: string | null;
  filters: Record<string, string>;
  /** A dynamic webhook of an OAuth app: deliveries carry a JWT signed with this client secret. */
  jwtSecret?: string;
}

export type SimEvent =
  | {
      kind: 'link';
      event: 'issuelink_created' | 'issuelink_deleted';
      link: { id: number; sourceIssueId: number; destinationIssueId: number; type: string };
      issue: SimIssue;
      actor: SimUser;
    }
  | {
      kind: 'issue';
      event: 'jira:issue_created' | 'jira:issue_updated' | 'jira:issue_deleted';
      typeName: string;
      issue: SimIssue;
      actor: SimUser;
      changelog: SimHistory | null;
    }
  | {
      kind: 'comment';
      event: 'comment_created' | 'comment_updated' | 'comment_deleted';
      issue: SimIssue;
      comment: SimComment;
      actor: SimUser;
    };

export interface NewIssue {
  project: string;
  issuetype: string;
  summary: string;
  status?: string;
  /** Any other raw field: `duedate`, `labels`, `customfield_10016`, `assignee` (a SimUser)… */
  fields?: Record<string, unknown>;
  parent?: string;
}

export interface ChangeOptions {
  actor?: SimUser;
  /** Defaults to the store clock. */
  at?: number;
}
