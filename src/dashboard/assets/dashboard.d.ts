// dashboard.js is a browser script; TypeScript only meets it when the Worker build imports it as
// text (wrangler `[[rules]] type = "Text"`, src/worker/assets.ts).
declare const text: string;
export default text;
