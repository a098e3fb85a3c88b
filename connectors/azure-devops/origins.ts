// Where the credential (a PAT or an Entra ID token) may go. The service names other hosts in its answers (resource areas'
// `locationUrl`, redirects), and azure-devops-node-api would send the credential to any of them.
// A PAT is only ever sent to the configured organization: its own origin and path, and — for Azure
// DevOps Services — Microsoft's hosts of that same organization: dev.azure.com/{org} and
// {service}.dev.azure.com/{org} (vssps, vsrm, feeds, pkgs…), {org}.visualstudio.com and
// {org}.{service}.visualstudio.com (Microsoft's "allowed domain URLs" list). Over https only.

export interface OrgPolicy {
  /** Null when the PAT may go to `target`, else where it may go instead ("outside …"). */
  refuse(target: URL): string | null;
  /** The organization's name on Azure DevOps Services, or null for a server of its own. */
  readonly org: string | null;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DEV_AZURE = new RegExp(`^(?:${LABEL}\\.)?dev\\.azure\\.com$`);
const VISUALSTUDIO = new RegExp(`^(${LABEL})(?:\\.${LABEL})?\\.visualstudio\\.com$`);

const firstSegment = (u: URL) => {
  const s = u.pathname.split('/').find((x) => x.length > 0) ?? '';
  try {
    return decodeURIComponent(s).toLowerCase();
  } catch {
    return s.toLowerCase();
  }
};

/** The organization an Azure DevOps Services URL belongs to, or null for any other host. */
export function organizationOf(u: URL): string | null {
  if (DEV_AZURE.test(u.hostname)) return firstSegment(u) || null;
  const m = VISUALSTUDIO.exec(u.hostname);
  return m ? m[1]! : null;
}

const isDefaultHttps = (u: URL) => u.protocol === 'https:' && (u.port === '' || u.port === '443');

/** `/acme` contains `/acme`, `/acme/` and `/acme/x`, not `/acme2` (compared without case, as the service does). */
function underPath(target: URL, base: URL): boolean {
  const b = base.pathname.replace(/\/+$/, '').toLowerCase();
  const t = target.pathname.toLowerCase();
  return b === '' || t === b || t.startsWith(`${b}/`);
}

export function createOrgPolicy(orgUrl: string): OrgPolicy {
  const configured = new URL(orgUrl);
  const org = organizationOf(configured);
  const allowed = org
    ? `organization "${org}" on Azure DevOps Services (dev.azure.com/${org}, ${org}.visualstudio.com and their service hosts)`
    : `the configured orgUrl's origin ${configured.origin}`;
  return {
    org,
    refuse(target) {
      if (org) {
        // Same host, another organization (dev.azure.com/other) is somebody else's.
        if (isDefaultHttps(target) && organizationOf(target) === org) return null;
        if (target.origin === configured.origin && underPath(target, configured)) return null;
      } else if (target.origin === configured.origin) return null;
      return `outside ${allowed}`;
    },
  };
}

/** A request the policy stopped before it was sent: nothing, credential or body, went to `target`. */
export class CredentialOriginError extends Error {
  readonly target: URL;
  constructor(target: URL, why: string) {
    super(`refused to send the credential to ${target.protocol}//${target.host}, ${why}`);
    this.name = 'CredentialOriginError';
    this.target = target;
  }
}

/** Throws CredentialOriginError unless the PAT may go to `target`. */
export function checkOrigin(policy: OrgPolicy, target: URL): void {
  const why = policy.refuse(target);
  if (why) throw new CredentialOriginError(target, why);
}
