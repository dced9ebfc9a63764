// Where the bundled bot is (made by `npm run build`, see tools/bundle-bot.ts): one ES module and its chunks, with
// ccxt, undici, jose and zod inside, so an instance needs the node binary and this one folder, nothing of
// node_modules. Planners hand drivers these paths relative to the app folder.
import type { InstanceCommand } from './compute-driver.ts';

/** The folder holding the bundle, relative to the app folder: the only app path a sandbox or image needs. */
export const BOT_BUNDLE_DIR = 'out/bot';

/** The bundle's entry, relative to the app folder. */
export const BOT_BUNDLE_ENTRY = `${BOT_BUNDLE_DIR}/main.mjs`;

/**
 * Node options a bot runs under: a bot holds a few thousand candles and its reports, so a small heap is plenty, and
 * capping it keeps V8 from growing into memory it does not need (idle resident memory, see bench/bot.bench.ts).
 */
export const BOT_NODE_OPTIONS: readonly string[] = ['--max-old-space-size=48', '--max-semi-space-size=1'];

/** The bundled bot as an instance's command, for a given node binary. */
export function bundledBotCommand(executable: string): InstanceCommand {
  return { executable, entry: BOT_BUNDLE_ENTRY, args: [], nodeOptions: [...BOT_NODE_OPTIONS] };
}
