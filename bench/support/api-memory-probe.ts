// The API process (src-api/main.ts, as deployed) with a probe a bench talks to over IPC: it samples the process's
// own resident set and V8 heap every few milliseconds and, asked, says the peaks since the last mark. A mark
// collects garbage first, so what grows after it is what the measured work holds, not what was lying about.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemoryFigures {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export type ProbeRequest = { type: 'memory.mark' } | { type: 'memory.peak' };
export type ProbeAnswer = { type: 'memory.mark' | 'memory.peak'; figures: MemoryFigures };

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const now = (): MemoryFigures => {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapTotal, heapUsed, external, arrayBuffers };
};
let peak = now();
const sample = () => {
  const figures = now();
  for (const name of Object.keys(peak) as (keyof MemoryFigures)[]) peak[name] = Math.max(peak[name], figures[name]);
};
setInterval(sample, 5).unref();

process.on('message', (request: ProbeRequest) => {
  if (request.type === 'memory.mark') {
    collectGarbage();
    peak = now();
    process.send?.({ type: 'memory.mark', figures: { ...peak } } satisfies ProbeAnswer);
  } else if (request.type === 'memory.peak') {
    sample();
    process.send?.({ type: 'memory.peak', figures: { ...peak } } satisfies ProbeAnswer);
  }
});

await import('../../src-api/main.ts');
