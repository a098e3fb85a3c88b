// Rule packs are bundled as text by wrangler (`[[rules]] type = "Text"` in wrangler.toml).
declare module '*.yaml' {
  const text: string;
  export default text;
}
declare module '*.css' {
  const text: string;
  export default text;
}
