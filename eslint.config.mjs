import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Folder boundaries in src/ (docs/development.md, "Layout"): another folder is reached through its
 * face, `index.ts`, never a file inside it; the database drivers are storage's alone; Express is the
 * admin routes' alone. One rule entry per file group, since a later entry for the same rule replaces
 * an earlier one's options instead of adding to them.
 */
const FOLDERS = readdirSync(new URL('./src', import.meta.url), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
/** Sub-folders with a face of their own, re-exported as namespaces by `authz/index.ts`. */
const SUB_FACES = ['authz/graphql', 'authz/objects', 'authz/rest'];
const DB_DRIVERS = ['knex', 'pg', 'mysql2', 'better-sqlite3'];

function boundaries({ depth, folder, allow = [] }) {
  const up = depth === 0 ? '\\./' : '(\\.\\./){' + depth + '}';
  const faces = SUB_FACES.map((f) => f.replace('/', '\\/')).join('|');
  const deep = {
    regex: `^${up}(?!(${faces})$)[^./][^/]*/.+`,
    message: 'Import another folder through its face (index.ts); export what you need from there.',
  };
  const paths = [
    ...DB_DRIVERS.filter((name) => !allow.includes(name)).map((name) => ({
      name, message: 'Database access belongs to src/storage: take an interface from there (KeyAdmin, AuditReader, ...).',
    })),
    ...(allow.includes('express') ? [] : [{
      name: 'express',
      message: 'Express serves only the admin routes (src/admin).',
      // The authentication middleware the admin routes mount is built in src/http, typed for Express.
      allowTypeImports: folder === 'http',
    }]),
  ];
  return { paths, patterns: [deep] };
}

function boundaryConfigs() {
  const configs = [{ files: ['src/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', boundaries({ depth: 0 })] } }];
  for (const folder of FOLDERS) {
    const allow = folder === 'storage' ? DB_DRIVERS : folder === 'admin' ? ['express'] : [];
    for (let depth = 1; depth <= 3; depth++) {
      configs.push({
        files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
        rules: { '@typescript-eslint/no-restricted-imports': ['error', boundaries({ depth, folder, allow })] },
      });
    }
  }
  // LISTEN needs a connection of its own, held open for as long as the proxy runs: a pooled Knex
  // connection would go back to the pool and lose it. Publishing goes through storage.
  configs.push({
    files: ['src/invalidation/postgres-bus.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', boundaries({ depth: 1, folder: 'invalidation', allow: ['pg'] })] },
  });
  return configs;
}

/**
 * The formatter: ESLint's layout rules, set to the style the code is written in, applied by
 * `eslint --fix` and checked by `npm run lint` in .ci/run. (Deprecated in ESLint core, kept until
 * ESLint 11; @stylistic/eslint-plugin carries the same rules under the `@stylistic/` prefix.)
 */
const layout = {
  indent: ['error', 2, { SwitchCase: 1, flatTernaryExpressions: true, offsetTernaryExpressions: true, ignoredNodes: ['TSUnionType', 'TSIntersectionType', 'TSTypeParameterInstantiation', 'TSTypeLiteral *', 'TemplateLiteral *'] }],
  quotes: ['error', 'single', { avoidEscape: true, allowTemplateLiterals: true }],
  semi: ['error', 'always'],
  'comma-dangle': ['error', 'always-multiline'],
  'no-trailing-spaces': 'error',
  'eol-last': ['error', 'always'],
  'no-multiple-empty-lines': ['error', { max: 1, maxEOF: 0, maxBOF: 0 }],
  'comma-spacing': 'error',
  'keyword-spacing': 'error',
  'space-before-blocks': 'error',
  'object-curly-spacing': ['error', 'always'],
  'array-bracket-spacing': ['error', 'never'],
  'arrow-spacing': 'error',
  'space-infix-ops': 'error',
  'key-spacing': 'error',
  'semi-spacing': 'error',
  'brace-style': ['error', '1tbs', { allowSingleLine: true }],
  'space-in-parens': 'error',
  'no-tabs': 'error',
  'linebreak-style': ['error', 'unix'],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.cache/', 'test/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  { files: ['**/*.ts', '**/*.mjs', '**/*.js'], rules: layout },
  ...boundaryConfigs(),
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', module: 'writable', require: 'readonly', __dirname: 'readonly', fetch: 'readonly', performance: 'readonly' } },
  },
);
