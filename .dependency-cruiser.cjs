// Import direction (docs/architecture.md "Layers"), checked by `npm run lint` (and so by CI).
// Each folder imports only the layers listed for it; type-only imports count too, and no module
// may be part of an import cycle. The workflow sandbox rules (no Node built-ins, no I/O, activities
// as types only) stay in eslint.config.js.

/** folder -> the folders (besides itself and npm packages) it may import */
const LAYERS = {
  common: [],
  ml: ['common'],
  data: ['common', 'ml'],
  config: ['common'],
  store: ['common', 'ml', 'data', 'config'],
  activities: ['common', 'ml', 'data', 'store', 'config'],
  workflows: ['common', 'activities'],
  client: ['common', 'ml', 'data', 'store', 'config'],
  stack: ['common'],
  obs: ['common'],
  worker: ['common', 'ml', 'data', 'store', 'config', 'activities', 'client', 'obs'],
  api: ['common', 'ml', 'data', 'store', 'config', 'client', 'obs'],
  sim: ['common', 'ml', 'data', 'store', 'config', 'client', 'api', 'worker', 'stack', 'obs'],
  cli: ['common', 'ml', 'data', 'store', 'config', 'client', 'api', 'worker', 'stack', 'sim', 'obs'],
  // not the product: nothing above imports these
  testkit: ['common', 'ml', 'data', 'store', 'config', 'activities', 'client', 'stack', 'obs'],
  bench: ['common', 'ml', 'data', 'store', 'config', 'activities', 'client', 'api', 'worker', 'stack', 'sim', 'cli', 'testkit', 'obs'],
  scripts: ['stack'],
  test: ['common', 'ml', 'data', 'store', 'config', 'activities', 'workflows', 'client', 'api', 'worker', 'stack', 'sim', 'cli', 'testkit', 'scripts', 'obs'],
};

const folder = (name) => (name === 'config' ? '^config\\.ts$' : `^${name}/`);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle makes load order matter and hides which module owns what',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(LAYERS).map(([layer, allowed]) => ({
      name: `layer-${layer}`,
      severity: 'error',
      comment: `${layer} may import only: ${[layer, ...allowed].join(', ')} (docs/architecture.md)`,
      from: { path: folder(layer) },
      to: {
        dependencyTypesNot: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown', 'core'],
        pathNot: [layer, ...allowed].map(folder),
      },
    })),
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.tools|\\.data|test-artifacts|bench/results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
