import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

/** The browser-host bridge: one classic script that defines `window.plutarc` before the app loads. */
export default defineConfig({
  build: {
    outDir: resolve(root, 'out/bridge'),
    emptyOutDir: true,
    lib: { entry: resolve(root, 'src-preload/browser.ts'), formats: ['iife'], name: 'plutarcBridge', fileName: () => 'bridge.js' },
  },
});
