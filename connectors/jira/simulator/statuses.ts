// `GET /rest/api/3/status`: every status of the site with its category, as Jira lists them. The
// history reader turns the changelog's status ids into categories with it.
import { STATUSES } from './catalog.ts';

export function statusList(site: string) {
  return Object.entries(STATUSES).map(([name, s]) => ({
    self: `${site}/rest/api/3/status/${s.id}`,
    description: '',
    iconUrl: `${site}/images/icons/statuses/generic.png`,
    name,
    untranslatedName: name,
    id: s.id,
    statusCategory: {
      self: `${site}/rest/api/3/statuscategory/${s.categoryId}`,
      id: s.categoryId,
      key: s.category,
      colorName: s.category === 'done' ? 'green' : s.category === 'new' ? 'blue-gray' : 'yellow',
      name: s.categoryName,
    },
    scope: { type: 'GLOBAL' },
  }));
}
