// The dashboard's static files, bundled as text (wrangler.toml `[[rules]] type = "Text"`), handed
// to createApp's `assets` because a Worker has no node_modules or src/ to read them from.
// chart.js's `exports` hide dist/chart.umd.min.js, so it is imported by path; TypeScript then
// sees a JS file without types, though the bundle makes it a string.
// @ts-expect-error TS7016: a text module (wrangler.toml [[rules]]), typed where it is used below
import chartJs from '../../node_modules/chart.js/dist/chart.umd.min.js';
import dashboardCss from '../dashboard/assets/dashboard.css';
import dashboardJs from '../dashboard/assets/dashboard.js';

export const DASHBOARD_ASSETS = {
  'dashboard.css': dashboardCss as string,
  'dashboard.js': dashboardJs as string,
  'chart.umd.min.js': chartJs as string,
};
