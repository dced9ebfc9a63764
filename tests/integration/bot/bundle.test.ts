// The bundled bot (tools/bundle-bot.ts) is the bot that ships: built into a folder with nothing of node_modules
// around it, it refuses to start without its hand-off, and with one it trades on the simulator.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleBot, type BotBundle } from '../../../tools/bundle-bot.ts';
import { tempDir } from '../../support/temp.ts';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

const MINUTE = 60_000;

describe('the bundled bot', () => {
  // In the temp folder no node_modules lies above the bundle: an import it did not carry in fails here.
  const dir = tempDir('plutarc-bot-bundle-');
  let bundle: BotBundle;
  let world: World;
  beforeAll(async () => {
    bundle = await bundleBot({ dir: join(dir.path, 'bot') });
    world = await startWorld();
    world.sim.clock.pin();
    world.sim.clock.set(Math.ceil(world.sim.clock.now() / MINUTE) * MINUTE + MINUTE);
  });
  afterAll(async () => {
    await world?.close();
    dir.cleanup();
  });

  it('keeps each exchange in a chunk of its own', () => {
    const chunks = readdirSync(join(bundle.dir, 'chunks'));
    for (const exchange of ['binanceusdm', 'bybit', 'krakenfutures']) expect(chunks.filter((c) => c.startsWith(`${exchange}-`))).toHaveLength(1);
  });

  it('refuses to start without a hand-off, saying where it expected one', async () => {
    const child = spawn(process.execPath, [join(bundle.dir, 'main.mjs')], { cwd: dir.path, env: { PLUTARC_CREDENTIAL_FD: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    const line = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'error', msg: 'no usable hand-off; nothing to do' });
    expect(line.error).toMatch(/no hand-off on file descriptor 3/);
  });

  it.each(['binanceusdm', 'bybit'] as const)('trades on %s from the bundle alone', async (exchange) => {
    const bot = await deployOnSim(world, { exchange, config: exchange === 'bybit' ? { symbol: 'BTC/USDT:USDT' } : {} });
    const proc = await startBot(world, bot, { entry: join(bundle.dir, 'main.mjs') });
    await proc.waitFor((l) => l.msg === 'trading');
    const candle = Math.floor(world.sim.clock.now() / MINUTE) * MINUTE;
    world.sim.clock.advance(MINUTE);
    await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output()).not.toMatch(/"level":"(warn|error)"/);
  }, 60_000);
});
