// The dashboard's static assets by name: the HTTP app's dependencies name them (assets handed in
// by runtimes without a file system) and the dashboard routes serve them.
export const ASSET_NAMES = ['dashboard.css', 'dashboard.js', 'chart.umd.min.js'] as const;
export type AssetName = (typeof ASSET_NAMES)[number];
