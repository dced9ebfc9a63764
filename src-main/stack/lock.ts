import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const LockContents = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  url: z.string().optional(),
  children: z.array(z.object({ name: z.string(), pid: z.number().int() })).default([]),
});
export type LockContents = z.infer<typeof LockContents>;

export type LockResult = { acquired: true; lock: StackLock } | { acquired: false; holder: LockContents };

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** One local stack per data folder: a second `npm start` finds the first instead of fighting over it. */
export class StackLock {
  readonly path: string;
  private contents: LockContents;

  private constructor(path: string, contents: LockContents) {
    this.path = path;
    this.contents = contents;
  }

  static acquire(dataDir: string): LockResult {
    const path = join(dataDir, 'stack.lock');
    const contents: LockContents = { pid: process.pid, startedAt: new Date().toISOString(), children: [] };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify(contents));
        closeSync(fd);
        return { acquired: true, lock: new StackLock(path, contents) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = StackLock.read(path);
      if (holder && alive(holder.pid)) return { acquired: false, holder };
      rmSync(path, { force: true }); // left behind by a stack that crashed
    }
    throw new Error(`Could not take ${path}; remove it if no plutarc is running.`);
  }

  static read(path: string): LockContents | null {
    try {
      return LockContents.parse(JSON.parse(readFileSync(path, 'utf8')));
    } catch {
      return null;
    }
  }

  update(patch: Partial<LockContents>): void {
    this.contents = { ...this.contents, ...patch };
    writeFileSync(this.path, JSON.stringify(this.contents), { mode: 0o600 });
  }

  release(): void {
    const current = StackLock.read(this.path);
    if (current?.pid === process.pid) rmSync(this.path, { force: true });
  }
}
