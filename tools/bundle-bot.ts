// `node tools/bundle-bot.ts` (part of `npm run build`): bundles the bot (src-bot/main.ts) with everything it imports
// (ccxt, undici, jose, zod, our code) into out/bot/: one entry module, main.mjs, and chunks. Each exchange's ccxt
// module is a chunk of its own, imported only by a bot that trades on that exchange, so a bot loads one exchange,
// and an instance needs nothing of node_modules: the node binary and this folder are the whole bot.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'rolldown';
import { BOT_BUNDLE_DIR } from '../src-orchestrator/bot-bundle.ts';

const ROOT = join(import.meta.dirname, '..');

export interface BotBundle {
  dir: string;
  /** Every file written, with its size in bytes. */
  files: { name: string; bytes: number }[];
}

/**
 * Writes the bundle to `dir`. `codeSplitting: false` puts every exchange in the one file (still imported lazily):
 * bench/bot.bench.ts measures both; the split one loads less and starts sooner, so it is the one built.
 */
export async function bundleBot(options: { dir?: string; codeSplitting?: boolean } = {}): Promise<BotBundle> {
  const dir = options.dir ?? join(ROOT, BOT_BUNDLE_DIR);
  rmSync(dir, { recursive: true, force: true });
  const result = await build({
    input: join(ROOT, 'src-bot', 'main.ts'),
    platform: 'node',
    logLevel: 'warn',
    output: {
      dir,
      format: 'esm',
      // .mjs: the image has no package.json to say these files are ES modules.
      entryFileNames: 'main.mjs',
      chunkFileNames: 'chunks/[name]-[hash].mjs',
      minify: true,
      // ccxt's and the bot's errors are told apart by class name in logs and reports: keep names through minifying.
      keepNames: true,
      codeSplitting: options.codeSplitting ?? true,
    },
  });
  const files = result.output.map((file) => ({ name: file.fileName, bytes: file.type === 'chunk' ? Buffer.byteLength(file.code) : file.source.length }));
  return { dir, files };
}

if (import.meta.main) {
  const bundle = await bundleBot();
  const total = bundle.files.reduce((sum, f) => sum + f.bytes, 0);
  console.log(`bot bundle: ${bundle.files.length} files, ${(total / 1024).toFixed(0)} KiB in ${bundle.dir}`);
}
