// What to run for a bot, and where it may connect: the bundled bot program on the host's node under its heap caps
// (bot-bundle.ts), an egress allowlist of
// exactly its exchange (the simulator in the local stack, otherwise the exchange's own API hosts), the API and the
// key broker, and the limits the orchestrator is configured with. Nothing here is secret.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exchangeHostsFor, hostOf } from '../src-shared/exchange-hosts.ts';
import { BOT_BUNDLE_DIR, BOT_BUNDLE_ENTRY, bundledBotCommand } from './bot-bundle.ts';
import type { EgressEndpoint, InstanceLimits } from './compute-driver.ts';
import type { HandOffAddresses } from './hand-off.ts';
import type { InstancePlanner } from './reconcile-loop.ts';

/** What of the app folder a bot needs (bound into its sandbox): the bundle's folder, nothing of node_modules. */
export const BOT_APP_PATHS = [BOT_BUNDLE_DIR] as const;

/** The bundle is not there: the orchestrator refuses to start rather than bind the sources and node_modules instead. */
export class BotBundleMissingError extends Error {
  constructor(appRoot: string) {
    super(`the bundled bot ${join(appRoot, BOT_BUNDLE_ENTRY)} is missing: run "npm run build" (it bundles the bot) before starting the orchestrator`);
    this.name = 'BotBundleMissingError';
  }
}

/** Checks the bundled bot is in the app folder; throws BotBundleMissingError if not. */
export function requireBotBundle(appRoot: string): void {
  if (!existsSync(join(appRoot, BOT_BUNDLE_ENTRY))) throw new BotBundleMissingError(appRoot);
}

export interface PlannerOptions {
  /** The runtime the bot runs on (this process's node). */
  executable: string;
  limits: InstanceLimits;
  /** The API and the broker as the bot reaches them: the same addresses its hand-off names. */
  reach: HandOffAddresses;
}

export function botPlanner(options: PlannerOptions): InstancePlanner {
  const services: EgressEndpoint[] = [
    { ...hostOf(options.reach.apiUrl), kind: 'api' },
    { ...hostOf(options.reach.brokerUrl), kind: 'broker' },
  ];
  return (bot) => ({
    command: bundledBotCommand(options.executable),
    egress: [...exchangeHostsFor(bot.exchange, bot.testnet, bot.exchangeUrl).map((host) => ({ ...host, kind: 'exchange' as const })), ...services],
    limits: options.limits,
  });
}
