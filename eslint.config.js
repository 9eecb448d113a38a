// Lint: TypeScript rules, no floating promises, and the workflow sandbox rule — code under
// workflows/ may not import Node built-ins, the MongoDB driver, activities as values, or ML code.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'stream', 'worker_threads', 'url', 'util', 'events', 'zlib', 'dns', 'tls', 'readline', 'process', 'buffer', 'timers'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'test-artifacts/**', 'bench/results/**', '**/*.mjs', '**/*.js', '**/*.py'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.flatMap((m) => [{ name: m, message: 'workflows are deterministic: no Node built-ins' }, { name: `node:${m}`, message: 'workflows are deterministic: no Node built-ins' }]),
          { name: 'mongodb', message: 'workflows do no I/O: call an activity' },
          { name: '@temporalio/activity', message: 'activities are imported as types only' },
        ],
        patterns: [
          { group: ['../ml/*', '../data/*', '../store/*', '../api/*', '../cli/*', '../worker/*'], message: 'workflows import only common/ and activity types' },
          { group: ['../activities', '../activities/*'], allowTypeImports: true, message: 'import activities as types only: proxyActivities<Activities>()' },
        ],
      }],
    },
  },
);
