import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BotInstanceEnv } from '../../../src-shared/bot-instance.ts';
import { botEnvironment, bwrapArgs, dropToUser, IN_SANDBOX, launcherArgs, sandboxBinds, stagedBinds, stagingArgs } from '../../../src-orchestrator/local/sandbox.ts';
import { ROOT } from '../../support/build.ts';

const layout = { executable: process.execPath, libraries: [], appRoot: ROOT, appPaths: ['src-shared', 'package.json'] };
const run = {
  command: { executable: process.execPath, entry: 'src-bot/main.ts', args: ['--region', 'sg'], nodeOptions: ['--max-old-space-size=48'] },
  egressSocketOnHost: '/run/plutarc/i-1/egress.sock',
  scratchBytes: 16 * 1024 * 1024,
};

/** The values given to each occurrence of a flag. */
function values(args: string[], flag: string, count = 1): string[][] {
  return args.flatMap((a, i) => (a === flag ? [args.slice(i + 1, i + 1 + count)] : []));
}

describe('the sandbox’s command line', () => {
  const args = bwrapArgs(sandboxBinds(layout), run);
  const options = args.slice(0, args.indexOf('--'));

  it('takes every namespace, no capabilities, no environment, and dies with the orchestrator', () => {
    for (const flag of [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup',
      '--unshare-net',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
    ]) {
      expect(options).toContain(flag);
    }
    expect(values(options, '--cap-drop')).toEqual([['ALL']]);
    expect(options).not.toContain('--share-net');
  });

  it('binds the app read-only, and only the folders asked for, under /app', () => {
    const binds = values(options, '--ro-bind', 2).map(([, to]) => to);
    expect(binds).toEqual([IN_SANDBOX.node, '/app/src-shared', '/app/package.json']);
    expect(values(options, '--bind', 2)).toEqual([[run.egressSocketOnHost, IN_SANDBOX.egressSocket]]);
    expect(values(options, '--remount-ro')).toEqual([['/']]);
  });

  it('caps home and /tmp in size, in memory', () => {
    const tmpfs = options.flatMap((a, i) => (a === '--tmpfs' ? [[options[i - 1], options[i - 2], options[i + 1]]] : []));
    expect(tmpfs).toEqual([
      [String(run.scratchBytes), '--size', IN_SANDBOX.home],
      [String(run.scratchBytes), '--size', IN_SANDBOX.tmp],
    ]);
  });

  it('sets only the bot’s non-secret settings, and runs the entry with its fixed arguments', () => {
    const env = Object.fromEntries(values(options, '--setenv', 2).map(([k, v]) => [k, v]));
    expect(env).toEqual(botEnvironment({ home: IN_SANDBOX.home, tmp: IN_SANDBOX.tmp, egressSocket: IN_SANDBOX.egressSocket, sandbox: 'bubblewrap' }));
    expect(Object.keys(env).sort()).toEqual(['HOME', 'PLUTARC_CREDENTIAL_FD', 'PLUTARC_EGRESS_SOCKET', 'PLUTARC_SANDBOX', 'TMPDIR']);
    // The bot's side of the contract reads exactly this.
    expect(BotInstanceEnv.parse(env)).toMatchObject({ PLUTARC_CREDENTIAL_FD: 3, PLUTARC_SANDBOX: 'bubblewrap', PLUTARC_EGRESS_SOCKET: IN_SANDBOX.egressSocket });
    expect(args.slice(args.indexOf('--') + 1)).toEqual([IN_SANDBOX.node, '--max-old-space-size=48', '/app/src-bot/main.ts', '--region', 'sg']);
  });

  it('joins the cgroups before anything else runs, then drops to the instance’s user with no way back', () => {
    const inner = dropToUser(61_004, ['bwrap', '--unshare-all']);
    expect(inner.slice(0, inner.indexOf('--'))).toEqual([
      'setpriv',
      '--reuid=61004',
      '--regid=61004',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
    ]);
    const { file, args: launcher } = launcherArgs(['/cg/memory/i-1/cgroup.procs', '/cg/pids/i-1/cgroup.procs'], inner);
    expect(file).toBe('/bin/sh');
    expect(launcher.slice(2)).toEqual(['plutarc-launcher', '/cg/memory/i-1/cgroup.procs', '/cg/pids/i-1/cgroup.procs', '--', ...inner]);
  });

  it('binds from a staging tree: each source mounted, as root in a private mount namespace, on its own point there', () => {
    const staging = '/run/plutarc/i-1/staging';
    const { mounts, binds } = stagedBinds(sandboxBinds(layout), staging);
    expect(mounts).toEqual([
      { source: process.execPath, target: `${staging}/0` },
      { source: join(ROOT, 'src-shared'), target: `${staging}/1` },
      { source: join(ROOT, 'package.json'), target: `${staging}/2` },
    ]);
    expect(binds.map((b) => [b.source, b.target])).toEqual([
      [`${staging}/0`, IN_SANDBOX.node],
      [`${staging}/1`, '/app/src-shared'],
      [`${staging}/2`, '/app/package.json'],
    ]);
    const staged = bwrapArgs(binds, run);
    expect(values(staged.slice(0, staged.indexOf('--')), '--ro-bind', 2).every(([from]) => from!.startsWith(`${staging}/`))).toBe(true);

    const inner = dropToUser(61_004, ['bwrap']);
    const command = stagingArgs(staging, mounts, inner);
    // Mounts made here must never reach the host's mount table.
    expect(command.slice(0, 5)).toEqual(['unshare', '--mount', '--propagation', 'private', '--']);
    expect(command.slice(8)).toEqual(['plutarc-staging', staging, ...mounts.flatMap((m) => [m.source, m.target]), '--', ...inner]);
  });
});
