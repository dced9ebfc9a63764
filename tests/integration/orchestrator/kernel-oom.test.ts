// The kernel's out-of-memory records as the docker driver reads them: the `oom-kill:` line of each kill (kernel 4.19
// and later, the same on cgroup v1 and v2), told apart from every other record, and matched to a container by the
// memory cgroup of the killed task whatever the engine's cgroup layout. The log is read from a saved file here; the
// podman contract suite reads the real /dev/kmsg.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KernelOomLog, parseOomKill } from '../../../src-orchestrator/docker/kernel-oom.ts';
import { tempDir } from '../../support/temp.ts';

const PODMAN_ID = 'a4360fea5e663a3e6f5ee9027ecbb3b7eb6fdcf2ef82a12785853984d09f159a';
const DOCKER_ID = '70a1fb04e0543292357ab725bf520417bbb0f029cf5718996cab3687aea0a2fc';
const OTHER_ID = '0b8ecd3d0f1e4c9a8b7e6d5c4b3a29180716253443526170818293a4b5c6d7e8';

/** As /dev/kmsg gives them: `prio,seq,usec,flags;message`, continuation lines indented. */
const kmsg = (seq: number, message: string) => `6,${seq},20691572554,-;${message}\n`;
const oomLine = (oomMemcg: string, taskMemcg: string, pid: number, task = 'MainThread') =>
  `oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0-1,oom_memcg=${oomMemcg},task_memcg=${taskMemcg},task=${task},pid=${pid},uid=65532`;

const dir = tempDir('plutarc-kernel-oom-');
afterAll(() => dir.cleanup());

describe('parseOomKill', () => {
  it('reads the memory cgroups and pid of a kill on cgroup v1 (cgroupfs) and v2 (systemd)', () => {
    expect(parseOomKill(kmsg(812, oomLine(`/libpod_parent/libpod-${PODMAN_ID}`, `/libpod_parent/libpod-${PODMAN_ID}`, 10884)))).toEqual({
      oomMemcg: `/libpod_parent/libpod-${PODMAN_ID}`,
      taskMemcg: `/libpod_parent/libpod-${PODMAN_ID}`,
      pid: 10884,
    });
    expect(parseOomKill(`[20691.572554] ${oomLine(`/system.slice/docker-${DOCKER_ID}.scope`, `/system.slice/docker-${DOCKER_ID}.scope`, 42)}`)).toMatchObject({
      taskMemcg: `/system.slice/docker-${DOCKER_ID}.scope`,
      pid: 42,
    });
  });

  it('ignores every other record, a host-wide kill has no limit cgroup, and a task name cannot pose as a field', () => {
    expect(parseOomKill(kmsg(1, 'Memory cgroup out of memory: Killed process 10884 (MainThread) total-vm:1497080kB'))).toBeNull();
    expect(parseOomKill(kmsg(2, 'oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null)'))).toBeNull();
    expect(parseOomKill(kmsg(3, 'oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/docker/x,task=node,pid=7,uid=0'))).toEqual({
      oomMemcg: null,
      taskMemcg: '/docker/x',
      pid: 7,
    });
    // A process names itself (its comm, 15 characters): the kernel prints it after the cgroups, so it never wins.
    expect(parseOomKill(kmsg(4, oomLine('/docker/a', '/docker/a', 9, 'x,task_memcg=/')))?.taskMemcg).toBe('/docker/a');
  });
});

describe('KernelOomLog', () => {
  it('knows the containers whose tasks were killed, reading on from where it stopped, on any cgroup layout', async () => {
    const path = join(dir.path, 'kmsg');
    writeFileSync(path, [kmsg(1, 'Linux version 6.1.0'), kmsg(2, oomLine(`/libpod_parent/libpod-${PODMAN_ID}`, `/libpod_parent/libpod-${PODMAN_ID}`, 10))].join(''));
    const log = await KernelOomLog.open(path);
    try {
      expect(await log.killedIn(PODMAN_ID)).toBe(true);
      expect(await log.killedIn(DOCKER_ID)).toBe(false);
      // A kill logged after the log was opened is found on the next question; a pod's limit names the task's own cgroup.
      appendFileSync(path, kmsg(3, oomLine('/kubepods/podf00', `/kubepods/podf00/${DOCKER_ID}`, 11)));
      expect(await log.killedIn(DOCKER_ID)).toBe(true);
      expect(await log.killedIn(OTHER_ID)).toBe(false);
      // A short or partial id is nobody's: only a folder named by the whole id, as engines name them.
      expect(await log.killedIn(DOCKER_ID.slice(0, 20))).toBe(false);
      expect(await log.killedIn('')).toBe(false);
    } finally {
      await log.close();
    }
  });

  it('refuses to open a log that cannot be read, so the driver says so once', async () => {
    await expect(KernelOomLog.open(join(dir.path, 'no-such-log'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
