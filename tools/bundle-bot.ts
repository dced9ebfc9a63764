// `node tools/bundle-bot.ts` (part of `npm run build`): bundles the bot (src-bot/main.ts) with everything it imports
// (ccxt, undici, jose, zod, our code) into out/bot/: one entry module, main.mjs, and chunks. Each exchange's ccxt
// module is a chunk of its own, imported only by a bot that trades on that exchange, so a bot loads one exchange,
// and an instance needs nothing of node_modules: the node binary and this folder are the whole bot.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'rolldown';
import { ExchangeId } from '../src-shared/exchanges.ts';
import { BOT_BUNDLE_DIR } from '../src-orchestrator/bot-bundle.ts';

const ROOT = join(import.meta.dirname, '..');

export interface BotBundle {
  dir: string;
  /** Every file written, with its size in bytes. */
  files: { name: string; bytes: number }[];
}

/**
 * Writes the bundle to `dir`. Two other shapes, measured against it in bench/bot.bench.ts: `codeSplitting: false`
 * puts every exchange in the one file (still imported lazily); `onlyExchange` makes one file that can trade on that
 * exchange alone (the others' modules left out). The split bundle starts as fast as the one-exchange file and holds
 * the least memory idle, with one build for every exchange, so it is the one shipped.
 */
export async function bundleBot(options: { dir?: string; codeSplitting?: boolean; onlyExchange?: ExchangeId } = {}): Promise<BotBundle> {
  const dir = options.dir ?? join(ROOT, BOT_BUNDLE_DIR);
  rmSync(dir, { recursive: true, force: true });
  const only = options.onlyExchange;
  const leaveOut: Plugin = {
    name: 'plutarc-one-exchange',
    load(id) {
      const exchange = /ccxt\/js\/src\/([a-z]+)\.js$/.exec(id)?.[1];
      if (only === undefined || exchange === undefined || exchange === only || !(ExchangeId.options as readonly string[]).includes(exchange)) return null;
      return `throw new Error('this bot bundle trades on ${only} only');`;
    },
  };
  const result = await build({
    input: join(ROOT, 'src-bot', 'main.ts'),
    platform: 'node',
    logLevel: 'warn',
    plugins: only === undefined ? [] : [leaveOut],
    output: {
      dir,
      format: 'esm',
      // .mjs: the image has no package.json to say these files are ES modules.
      entryFileNames: 'main.mjs',
      chunkFileNames: 'chunks/[name]-[hash].mjs',
      minify: true,
      // ccxt's and the bot's errors are told apart by class name in logs and reports: keep names through minifying.
      keepNames: true,
      codeSplitting: only === undefined ? (options.codeSplitting ?? true) : false,
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
