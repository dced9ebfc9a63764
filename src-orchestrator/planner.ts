// What to run for a bot, and where it may connect: the bot program on the host's node, an egress allowlist of
// exactly its exchange (the simulator in the local stack, otherwise the exchange's own API hosts), the API and the
// key broker, and the limits the orchestrator is configured with. Nothing here is secret.
import { exchangeHostsFor, hostOf } from '../src-shared/exchange-hosts.ts';
import type { EgressEndpoint, InstanceLimits } from './compute-driver.ts';
import type { HandOffAddresses } from './hand-off.ts';
import type { InstancePlanner } from './reconcile-loop.ts';

/** The bot's program, relative to the app folder, and what of the app folder it imports (bound into its sandbox). */
export const BOT_ENTRY = 'src-bot/main.ts';
export const BOT_APP_PATHS = ['package.json', 'src-bot', 'src-engine', 'src-server', 'src-shared', 'node_modules'] as const;

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
    command: { executable: options.executable, entry: BOT_ENTRY, args: [] },
    egress: [...exchangeHostsFor(bot.exchange, bot.testnet, bot.exchangeUrl).map((host) => ({ ...host, kind: 'exchange' as const })), ...services],
    limits: options.limits,
  });
}
