// The command lines that start a bot: a launcher that joins the instance's cgroups and drops to the instance's
// own user before anything of the bot runs, then bubblewrap with nothing of the host but what the bot needs.
// Nothing here carries a secret: the credential travels on file descriptor 3.
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BotInstanceEnv } from '../../src-shared/bot-instance.ts';
import type { InstanceCommand } from '../compute-driver.ts';

/** Where things are inside the sandbox; the bot finds the egress socket and the credential through these. */
export const IN_SANDBOX = {
  node: '/usr/bin/node',
  app: '/app',
  home: '/home/bot',
  tmp: '/tmp',
  egressSocket: '/run/plutarc/egress.sock',
  credentialFd: 3,
  uid: 1000,
  hostname: 'bot',
} as const;

/** The non-secret settings a bot reads from its environment (everything else is cleared); the bot parses them with BotInstanceEnv. */
export function botEnvironment(options: { home: string; tmp: string; egressSocket: string; sandbox: BotInstanceEnv['PLUTARC_SANDBOX'] }): Record<keyof BotInstanceEnv, string> {
  return {
    HOME: options.home,
    TMPDIR: options.tmp,
    PLUTARC_EGRESS_SOCKET: options.egressSocket,
    PLUTARC_CREDENTIAL_FD: String(IN_SANDBOX.credentialFd),
    PLUTARC_SANDBOX: options.sandbox,
  };
}

/** The shared libraries a binary loads, as the dynamic loader would find them (ldd), so exactly those get bound. */
export async function sharedLibraries(executable: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ldd', [executable]);
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match) libraries.push(match[1]!);
  }
  return libraries;
}

export interface SandboxLayout {
  /** The host's node binary (symlinks resolved). */
  executable: string;
  libraries: readonly string[];
  appRoot: string;
  /** Folders and files of the app the bot imports, relative to appRoot (resolved through symlinks, like node_modules). */
  appPaths: readonly string[];
}

export interface SandboxRun {
  command: InstanceCommand;
  egressSocketOnHost: string;
  scratchBytes: number;
}

/** bubblewrap's arguments for one instance. */
export function bwrapArgs(layout: SandboxLayout, run: SandboxRun): string[] {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup',
    '--unshare-net',
    // The bot cannot make namespaces of its own to climb out of these.
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--cap-drop',
    'ALL',
    '--hostname',
    IN_SANDBOX.hostname,
    '--uid',
    String(IN_SANDBOX.uid),
    '--gid',
    String(IN_SANDBOX.uid),
    '--ro-bind',
    layout.executable,
    IN_SANDBOX.node,
  ];
  for (const library of layout.libraries) args.push('--ro-bind', realpathSync(library), library);
  for (const path of layout.appPaths) args.push('--ro-bind', realpathSync(join(layout.appRoot, path)), join(IN_SANDBOX.app, path));
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(run.scratchBytes),
    '--tmpfs',
    IN_SANDBOX.home,
    '--size',
    String(run.scratchBytes),
    '--tmpfs',
    IN_SANDBOX.tmp,
    '--dir',
    '/run/plutarc',
    '--bind',
    run.egressSocketOnHost,
    IN_SANDBOX.egressSocket,
    '--remount-ro',
    '/',
  );
  const env = botEnvironment({ home: IN_SANDBOX.home, tmp: IN_SANDBOX.tmp, egressSocket: IN_SANDBOX.egressSocket, sandbox: 'bubblewrap' });
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--chdir', IN_SANDBOX.home, '--', IN_SANDBOX.node, join(IN_SANDBOX.app, run.command.entry), ...run.command.args);
  return args;
}

/**
 * `/bin/sh` joins every given cgroup with its own pid, then execs the rest: the bot's first instruction already
 * runs inside its limits. Exit 125 means a cgroup could not be joined (nothing of the bot ran).
 */
export function launcherArgs(procsFiles: readonly string[], then: readonly string[]): { file: string; args: string[] } {
  const script = 'for f do if [ "$f" = -- ]; then shift; break; fi; echo $$ > "$f" || exit 125; shift; done; exec "$@"';
  return { file: '/bin/sh', args: ['-c', script, 'plutarc-launcher', ...procsFiles, '--', ...then] };
}

/** Drops from root to the instance's own host user before bubblewrap starts: no capabilities, no way back. */
export function dropToUser(uid: number, then: readonly string[]): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', ...then];
}
