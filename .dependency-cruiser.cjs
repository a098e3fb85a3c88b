// The direction of dependency (STYLE.md): src/core/ depends on nothing of ours; db/, connectors/
// and rules/ depend on src/core/ only, and rules/ reaches no database at all; the app in src/ may
// use all of them. `npm run arch` fails CI on any edge against it; `npm run graph` draws the graph.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-a-leaf',
      severity: 'error',
      comment: 'src/core/ holds what everything needs (model, errors, log, time, hashing); it imports nothing of ours.',
      from: { path: '^src/core/' },
      to: { path: '^(src/(?!core/)|connectors/|rules/|db/|bench/|test/|scripts/)' },
    },
    {
      name: 'libraries-use-only-core',
      severity: 'error',
      comment: 'db/, connectors/ and rules/ are libraries of the app: from src/ they may import src/core/ only.',
      from: { path: '^(db|connectors|rules)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(?!core/)' },
    },
    {
      name: 'db-below-connectors-and-rules',
      severity: 'error',
      comment: 'db/ is the storage layer: it does not know the connectors or the rule engine.',
      from: { path: '^db/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(connectors|rules)/' },
    },
    {
      name: 'rules-need-no-database',
      severity: 'error',
      comment:
        'The rule engine is pure: rules/ and its unit tests reach no storage, however indirectly. ' +
        'Loading items and storing findings is src/findings/; tests that need a database live in test/findings/.',
      from: { path: '^rules/' },
      to: { path: '^(db/|node_modules/(drizzle-orm|@electric-sql/pglite|postgres)/)', reachable: true },
    },
    {
      name: 'no-app-code-from-tests-or-bench',
      severity: 'error',
      comment: 'Shipped code never imports test helpers or the bench.',
      from: {
        path: '^(src|db|connectors|rules)/',
        pathNot: '(\\.test\\.ts$|/testing\\.ts$|/test-support\\.ts$|/simulator/)',
      },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle: where two files need each other’s types, move the types to one file both import.',
      from: { path: '^(src|db|connectors|rules)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // swc, as dependency-cruiser drives it, cannot read JSX: the dashboard's .tsx views are left
    // out (they are leaves of src/dashboard/, importing only from src/).
    exclude: { path: '(^node_modules|^\\.cache|^\\.wrangler|^dist|^test-results|\\.tsx$)' },
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with; swc reads the same
    // files. Type-only imports count: they couple modules all the same.
    parser: 'swc',
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
    reporterOptions: {
      dot: { collapsePattern: '^(src/[^/]+|connectors/[^/]+|rules|db)/' },
    },
  },
};
