import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // The backtest and summary workers are their own entries: main starts them as worker threads from beside the bundle.
      rollupOptions: {
        input: {
          index: resolve(root, 'src-main/electron/main.ts'),
          'backtest-worker': resolve(root, 'src-main/services/templates/backtest-worker.ts'),
          'summary-worker': resolve(root, 'src-main/services/trades/summary-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // A sandboxed preload can require only `electron`: bundle everything else into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'src-preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // authorize.html is the hosted passkey page: the API serves it at /desktop/authorize, its assets at
      // /desktop/assets/, which the relative base ('./') makes its URLs resolve to.
      rollupOptions: {
        input: { index: resolve(root, 'src-renderer/index.html'), authorize: resolve(root, 'src-renderer/authorize.html') },
      },
    },
  },
});
