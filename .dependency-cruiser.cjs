/** The architecture as a check (`npm run lint`): import cycles and which layer may import what. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'etl-is-the-bottom-layer',
      severity: 'error',
      comment: 'The engine knows nothing of its callers, the tooling or the tests.',
      from: { path: '^etl/' },
      to: { path: '^(cli|lambdas|lib|bin|bench|scripts|test)/' },
    },
    {
      name: 'etl-aws-sdk-only-in-storage-and-catalog',
      severity: 'error',
      comment: 'The AWS SDK stays behind the storage and catalog adapters.',
      from: { path: '^etl/', pathNot: '^etl/(storage|catalog)/' },
      to: { path: '(^|/)node_modules/@aws-sdk/|^@aws-sdk/' },
    },
    {
      name: 'etl-fs-only-in-storage-config-capture',
      severity: 'error',
      comment: 'The file system stays behind storage, config loading and the capture.',
      from: { path: '^etl/', pathNot: '^etl/(storage|config|capture)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?fs(/promises)?$' },
    },
    {
      name: 'only-tests-import-tests',
      severity: 'error',
      comment: 'test/ is a leaf: scripts, bench and the product never depend on it.',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        "An import that resolves to nothing; the build output and measure-libraries.mjs's $LIBS packages may not exist.",
      from: {},
      to: { couldNotResolve: true, pathNot: ['^(\\.\\./)+dist/', '^(csv-parse|parquetjs-lite)(/|$)'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports and that imports nothing: dead, or an entry point not wired up.',
      from: { orphan: true },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
}
