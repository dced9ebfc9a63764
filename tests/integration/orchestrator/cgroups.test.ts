// Which cgroup version the driver picks and what it writes. cgroup v2 with its controllers cannot be had on this
// host (its v2 mount offers only hugetlb), so v2 is checked against a folder laid out as the kernel lays out cgroupfs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectCgroups, InstanceCgroup } from '../../../src-orchestrator/local/cgroups.ts';
import { tempDir } from '../../support/temp.ts';

const limits = { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 48, scratchBytes: 8 * 1024 * 1024 };

describe('cgroups', () => {
  let dir: ReturnType<typeof tempDir>;
  afterEach(() => dir?.cleanup());

  function file(path: string, text: string): void {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }

  it('v2: hands memory, cpu and pids down from the orchestrator’s own group and writes the limits', async () => {
    dir = tempDir('plutarc-cgroup-');
    const root = dir.path;
    file(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    file(join(root, 'system.slice/plutarc.service/cgroup.subtree_control'), '');
    file(join(root, 'system.slice/plutarc.service/cgroup.procs'), '');
    const support = await detectCgroups({ root, selfCgroup: '0::/system.slice/plutarc.service\n' });
    const parent = join(root, 'system.slice/plutarc.service/plutarc-bots');
    expect(support).toEqual({ kind: 'v2', parent });
    expect(readFileSync(join(root, 'system.slice/plutarc.service/cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +pids');

    const group = await InstanceCgroup.create(support as { kind: 'v2'; parent: string }, 'inst-1', limits);
    const at = (name: string) => readFileSync(join(parent, 'inst-1', name), 'utf8');
    expect([at('memory.max'), at('cpu.max'), at('pids.max')]).toEqual([String(128 * 1024 * 1024), '50000 100000', '48']);
    expect(group.procsFiles).toEqual([join(parent, 'inst-1/cgroup.procs')]);
    writeFileSync(join(parent, 'inst-1/memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n');
    expect(await group.oomKills()).toBe(1);
  });

  it('v2 where the orchestrator’s group cannot hand controllers down: says why it cannot limit bots', async () => {
    dir = tempDir('plutarc-cgroup-');
    const root = dir.path;
    file(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
    // A folder where the control file should be makes the write fail, as the kernel refuses it for a busy group.
    mkdirSync(join(root, 'user.slice/cgroup.subtree_control'), { recursive: true });
    const support = await detectCgroups({ root, selfCgroup: '0::/user.slice\n' });
    expect(support).toMatchObject({ kind: 'none', reason: expect.stringContaining('cannot create bot cgroups under /user.slice') });
  });

  it('hybrid host whose v2 mount has no controllers (like this one): uses v1', async () => {
    dir = tempDir('plutarc-cgroup-');
    const root = dir.path;
    file(join(root, 'unified/cgroup.controllers'), 'hugetlb\n');
    for (const c of ['memory', 'cpu', 'pids']) file(join(root, c, 'cgroup.procs'), '');
    const selfCgroup = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n';
    const support = await detectCgroups({ root, selfCgroup });
    expect(support).toEqual({
      kind: 'v1',
      parents: { memory: join(root, 'memory/process_api/abc/plutarc-bots'), cpu: join(root, 'cpu/plutarc-bots'), pids: join(root, 'pids/plutarc-bots') },
    });
    const group = await InstanceCgroup.create(support as Extract<typeof support, { kind: 'v1' }>, 'inst-2', limits);
    expect(readFileSync(join(root, 'memory/process_api/abc/plutarc-bots/inst-2/memory.limit_in_bytes'), 'utf8')).toBe(String(128 * 1024 * 1024));
    expect(readFileSync(join(root, 'cpu/plutarc-bots/inst-2/cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(readFileSync(join(root, 'pids/plutarc-bots/inst-2/pids.max'), 'utf8')).toBe('48');
    expect(group.procsFiles).toHaveLength(3);
    // Files in a real cgroup folder belong to the kernel; here they make rmdir fail, which remove reports.
    expect(await group.remove()).toHaveLength(3);
  });

  it('no usable hierarchy: names what is missing', async () => {
    dir = tempDir('plutarc-cgroup-');
    const root = dir.path;
    file(join(root, 'unified/cgroup.controllers'), 'hugetlb\n');
    const support = await detectCgroups({ root, selfCgroup: '4:memory:/\n0::/\n' });
    expect(support).toEqual({
      kind: 'none',
      reason: 'cgroup v2 offers no memory, cpu, pids controller here; cgroup v1 has no memory hierarchy mounted',
    });
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/sys/fs/cgroup'))('on this host: finds a version it can use, and a real group takes its limits', async () => {
    const support = await detectCgroups({ root: '/sys/fs/cgroup', selfCgroup: readFileSync('/proc/self/cgroup', 'utf8') });
    if (support.kind === 'none') throw new Error(`no cgroups: ${support.reason}`);
    const group = await InstanceCgroup.create(support, `test-${process.pid}`, limits);
    try {
      expect(group.dirs.every((d) => existsSync(d))).toBe(true);
      expect(await group.pids()).toEqual([]);
      expect(await group.oomKills()).toBe(0);
    } finally {
      expect(await group.remove()).toEqual([]);
    }
    expect(group.dirs.some((d) => existsSync(d))).toBe(false);
  });
});
