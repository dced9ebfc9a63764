// What a bot instance finds in its environment, whichever driver started it. None of it is secret: the one-time
// credential arrives on the file descriptor named here, never in the environment itself.
import { z } from 'zod';

export const BotInstanceEnv = z.object({
  HOME: z.string().startsWith('/'),
  TMPDIR: z.string().startsWith('/'),
  /** The egress proxy's unix socket (HTTP CONNECT and plain-HTTP forwarding): the bot's only way to the network. */
  PLUTARC_EGRESS_SOCKET: z.string().startsWith('/'),
  /** Read to its end, once, at start: the credential the bot shows the key broker. */
  PLUTARC_CREDENTIAL_FD: z.coerce.number().int().min(3),
  /** `off` when the bot runs without the sandbox (and its card says so). */
  PLUTARC_SANDBOX: z.enum(['bubblewrap', 'off']),
});
export type BotInstanceEnv = z.infer<typeof BotInstanceEnv>;
