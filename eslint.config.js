// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Imports that would cross a layer (ARCHITECTURE.md): each rule names the folders it keeps out. */
const layer = (folders, message) => ({
  group: folders.flatMap((f) => [`**/${f}`, `**/${f}/**`]),
  message,
});
const OURS = ['src-main', 'src-preload', 'src-renderer', 'src-api', 'src-keybroker', 'src-bot', 'src-exchange-sim', 'tests', 'bench'];
const MAIN_LAYERS = layer(
  ['src-renderer', 'src-preload', 'src-api', 'src-keybroker', 'src-bot', 'src-exchange-sim'],
  'main talks to the servers over HTTP and to the renderer over IPC, never by import.',
);
const ELECTRON = { name: 'electron', message: 'Only src-main/electron/** and src-preload/** may import electron.' };

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
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [ELECTRON], patterns: [layer(OURS, 'src-shared imports nothing of ours: it is the bottom layer.')] },
      ],
    },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON],
          patterns: [
            layer(
              OURS.filter((f) => f !== 'src-renderer'),
              'The renderer imports only src-shared; it reaches main through window.plutarc.',
            ),
            { group: ['node:*'], message: 'The renderer runs in a sandboxed page: no Node built-ins.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-preload/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layer(
              OURS.filter((f) => f !== 'src-preload'),
              'The preload imports only src-shared and electron.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON], patterns: [MAIN_LAYERS] }] },
  },
  {
    files: ['src-main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [MAIN_LAYERS] }] },
  },
);
