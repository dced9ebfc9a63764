// The command lines that start a bot: a launcher that joins the instance's cgroups, stages what the bot needs in a
// mount namespace of its own and drops to the instance's own user before anything of the bot runs, then bubblewrap
// with nothing of the host but what the bot needs.
// Nothing here carries a secret: the credential travels on file descriptor 3.
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BotInstanceEnv } from '../../src-shared/bot-instance.ts';
import type { ParsedInstanceSpec } from '../compute-driver.ts';

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
  command: ParsedInstanceSpec['command'];
  egressSocketOnHost: string;
  scratchBytes: number;
}

/** One read-only bind: the host's file or folder (symlinks resolved), and where the bot sees it. */
export interface SandboxBind {
  source: string;
  target: string;
}

/** Everything bound read-only into a sandbox: the node binary, its libraries, the app paths asked for. */
export function sandboxBinds(layout: SandboxLayout): SandboxBind[] {
  return [
    { source: layout.executable, target: IN_SANDBOX.node },
    ...layout.libraries.map((library) => ({ source: realpathSync(library), target: library })),
    ...layout.appPaths.map((path) => ({ source: realpathSync(join(layout.appRoot, path)), target: join(IN_SANDBOX.app, path) })),
  ];
}

/**
 * bubblewrap runs as the instance's user, so it can only bind what that user can reach; the app or node may sit in a
 * folder only its owner may enter (a 0700 checkout, ~/.nvm). So each bind is first mounted, still as root, at its
 * own point of a staging tree that user can enter, and bubblewrap binds from there. Returns the mounts to make
 * (host source → staging point) and the binds for bubblewrap (staging point → place in the sandbox).
 */
export function stagedBinds(binds: readonly SandboxBind[], stagingDir: string): { mounts: SandboxBind[]; binds: SandboxBind[] } {
  const points = binds.map((_, i) => join(stagingDir, String(i)));
  return {
    mounts: binds.map((bind, i) => ({ source: bind.source, target: points[i]! })),
    binds: binds.map((bind, i) => ({ source: points[i]!, target: bind.target })),
  };
}

/** bubblewrap's arguments for one instance; `binds` are read-only, from places the instance's user can reach. */
export function bwrapArgs(binds: readonly SandboxBind[], run: SandboxRun): string[] {
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
  ];
  for (const bind of binds) args.push('--ro-bind', bind.source, bind.target);
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
  args.push('--chdir', IN_SANDBOX.home, '--', IN_SANDBOX.node, ...run.command.nodeOptions, join(IN_SANDBOX.app, run.command.entry), ...run.command.args);
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

/**
 * Still root, in a mount namespace of its own whose mounts never reach the host (`unshare --propagation private`): a
 * small tmpfs on the staging folder, each source bound read-only onto its point there, then the rest is exec'd. The
 * mounts end with the namespace, that is with the instance's last process. Exit 125: staging failed, no bot code ran.
 */
export function stagingArgs(stagingDir: string, mounts: readonly SandboxBind[], then: readonly string[]): string[] {
  const script = [
    'stage=$1; shift',
    'mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev plutarc-staging "$stage" || exit 125',
    'while [ "$1" != -- ]; do',
    '  if [ -d "$1" ]; then mkdir "$2"; else : > "$2"; fi || exit 125',
    '  mount --bind "$1" "$2" && mount -o remount,bind,ro,nosuid,nodev "$2" || exit 125',
    '  shift 2',
    'done',
    'shift; exec "$@"',
  ].join('\n');
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    script,
    'plutarc-staging',
    stagingDir,
    ...mounts.flatMap((m) => [m.source, m.target]),
    '--',
    ...then,
  ];
}

/** Drops from root to the instance's own host user before bubblewrap starts: no capabilities, no way back. */
export function dropToUser(uid: number, then: readonly string[]): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', ...then];
}
