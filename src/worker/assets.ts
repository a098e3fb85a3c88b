// The dashboard's static files, bundled as text (wrangler.toml `[[rules]] type = "Text"`), handed
// to createApp's `assets` because a Worker has no node_modules or src/ to read them from.
import chartJs from '../../node_modules/chart.js/dist/chart.umd.min.js';
import dashboardCss from '../dashboard/assets/dashboard.css';
import dashboardJs from '../dashboard/assets/dashboard.js';

export const DASHBOARD_ASSETS = {
  'dashboard.css': dashboardCss as string,
  'dashboard.js': dashboardJs as string,
  'chart.umd.min.js': chartJs as string,
};
