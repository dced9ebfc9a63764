// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers of ARCHITECTURE.md. Arrows point only down: each folder names what of ours it may import,
// and every other folder of ours is kept out of it.
const SERVER_PROCESSES = ['src-api', 'src-orchestrator', 'src-keybroker', 'src-exchange-sim', 'src-bot'];
const MAY_IMPORT = {
  'src-shared': [],
  'src-engine': ['src-shared'],
  'src-server': ['src-shared'],
  ...Object.fromEntries(SERVER_PROCESSES.map((folder) => [folder, ['src-server', 'src-shared', 'src-engine']])),
  'src-main': ['src-shared', 'src-engine'],
  'src-preload': ['src-shared'],
  'src-renderer': ['src-shared', 'src-engine'],
};
/** Tests, benchmarks and command-line tools may use any layer; no layer uses them. */
const OURS = [...Object.keys(MAY_IMPORT), 'tests', 'bench', 'tools'];

const WHY = {
  'src-shared': 'src-shared imports nothing of ours: it is the bottom layer.',
  'src-engine': 'src-engine is the pure trading core: it imports only src-shared.',
  'src-server': 'src-server is the kit every server process shares: it imports only src-shared.',
  'src-main': 'main talks to the servers over HTTP and to the renderer over IPC, never by import.',
  'src-preload': 'The preload imports only src-shared and electron.',
  'src-renderer': 'The renderer imports only src-shared (and src-engine); it reaches main through window.plutarc.',
};
const why = (folder) =>
  WHY[folder] ?? `${folder} is a server process: it imports src-server, src-shared and src-engine, never another process's code.`;

/** The import patterns that keep `folder` in its layer. */
const layer = (folder) => ({
  group: OURS.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f)).flatMap((f) => [`**/${f}`, `**/${f}/**`]),
  message: why(folder),
});

const ELECTRON = { name: 'electron', message: 'Only src-main/electron/** and src-preload/** may import electron.' };
/** Node built-ins by either name: `node:fs` by pattern, bare `fs` by exact name (a pattern would also catch `./fs/…`). */
const nodeBuiltins = (message) => ({
  paths: builtinModules.filter((name) => !name.startsWith('node:')).map((name) => ({ name, message })),
  patterns: [{ group: ['node:*'], message }],
});
/** Packages that do I/O: the engine gets candles and fills handed to it, and hands back decisions. */
const IO_PACKAGES = ['ccxt', 'axios', 'ws', 'pg', 'better-sqlite3', 'kysely', 'fastify', 'pino'].map((name) => ({
  name,
  message: 'src-engine does no I/O: the bot and the backtest worker are its adapters.',
}));

const ENGINE_PURITY = 'src-engine is pure: a backtest and a live bot must decide the same from the same candles.';
const ENGINE_GLOBALS = [
  ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'clearTimeout', 'clearInterval', 'clearImmediate'].map((name) => ({
    name,
    message: `No timers in src-engine: ${ENGINE_PURITY}`,
  })),
  { name: 'Date', message: `No Date in src-engine: time comes in with the candles. ${ENGINE_PURITY}` },
  ...['fetch', 'XMLHttpRequest', 'WebSocket', 'process', 'require', 'Buffer', 'crypto', 'performance'].map((name) => ({
    name,
    message: `No I/O, process state, clock or randomness in src-engine: ${ENGINE_PURITY}`,
  })),
];
const ENGINE_PROPERTIES = [
  { object: 'Math', property: 'random', message: `No Math.random in src-engine: ${ENGINE_PURITY}` },
  // The same globals reached through globalThis.
  ...ENGINE_GLOBALS.map(({ name, message }) => ({ object: 'globalThis', property: name, message })),
];

/** The layer rule for a folder, with the other import bans that folder needs. */
const imports = (folder, { electron = false, builtins = undefined, paths = [] } = {}) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [...(electron ? [] : [ELECTRON]), ...paths, ...(builtins?.paths ?? [])],
      patterns: [layer(folder), ...(builtins?.patterns ?? [])],
    },
  ],
});

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'tests/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [ELECTRON] }],
    },
  },
  {
    files: ['src-shared/**'],
    rules: imports('src-shared', { builtins: nodeBuiltins('src-shared runs everywhere, the renderer too: no Node built-ins.') }),
  },
  {
    files: ['src-engine/**'],
    rules: {
      ...imports('src-engine', { paths: IO_PACKAGES, builtins: nodeBuiltins(`No Node built-ins in src-engine: ${ENGINE_PURITY}`) }),
      'no-restricted-globals': ['error', ...ENGINE_GLOBALS],
      'no-restricted-properties': ['error', ...ENGINE_PROPERTIES],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: `No dynamic import in src-engine: ${ENGINE_PURITY}` },
        { selector: 'NewExpression[callee.name="Function"]', message: `No code built at run time in src-engine: ${ENGINE_PURITY}` },
      ],
    },
  },
  { files: ['src-server/**'], rules: imports('src-server') },
  ...SERVER_PROCESSES.map((folder) => ({ files: [`${folder}/**`], rules: imports(folder) })),
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: imports('src-renderer', { builtins: nodeBuiltins('The renderer runs in a sandboxed page: no Node built-ins.') }),
  },
  {
    files: ['src-preload/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: imports('src-preload', { electron: true }),
  },
  { files: ['src-main/**'], rules: imports('src-main') },
  { files: ['src-main/electron/**'], rules: imports('src-main', { electron: true }) },
);
