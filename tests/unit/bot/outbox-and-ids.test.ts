// The report outbox (numbered, bounded, acknowledged in order), client order ids, and the log scrubber.
import { describe, expect, it } from 'vitest';
import { clientOrderId, runOrderPrefix } from '../../../src-bot/order-ids.ts';
import { createLog, describeError, Scrubber } from '../../../src-bot/log.ts';
import { ReportOutbox } from '../../../src-bot/reports.ts';
import type { InstanceReportBody } from '../../../src-shared/bot-instance.ts';

const equity = (time: number): InstanceReportBody => ({ kind: 'equity', time, equity: 1, balance: 1 });

describe('report outbox', () => {
  it('numbers reports from 1 without gaps and forgets them once acknowledged', () => {
    const outbox = new ReportOutbox(10);
    for (let t = 1; t <= 5; t++) outbox.push(equity(t));
    expect(outbox.batch(3).map((r) => r.seq)).toEqual([1, 2, 3]);
    outbox.acknowledge(2);
    expect(outbox.batch(10).map((r) => r.seq)).toEqual([3, 4, 5]);
    // An acknowledgement of something already forgotten changes nothing.
    outbox.acknowledge(1);
    expect(outbox.size).toBe(3);
    outbox.acknowledge(5);
    expect(outbox.size).toBe(0);
    outbox.push(equity(6));
    expect(outbox.batch(10)).toEqual([{ seq: 6, body: equity(6) }]);
  });

  it('remembers the highest acknowledgement, even when a restored API later acknowledges less', () => {
    const outbox = new ReportOutbox(10);
    expect(outbox.acknowledged).toBe(0);
    for (let t = 1; t <= 4; t++) outbox.push(equity(t));
    outbox.acknowledge(3);
    outbox.acknowledge(1);
    expect(outbox.acknowledged).toBe(3);
    expect(outbox.batch(10).map((r) => r.seq)).toEqual([4]);
  });

  it('when full, refuses the newest and counts it, so the numbers it sends never skip', () => {
    const outbox = new ReportOutbox(2);
    expect([outbox.push(equity(1)), outbox.push(equity(2)), outbox.push(equity(3)), outbox.push(equity(4))]).toEqual([true, true, false, false]);
    expect(outbox.dropped).toBe(2);
    outbox.acknowledge(1);
    outbox.push(equity(5));
    expect(outbox.batch(10).map((r) => [r.seq, r.body.time])).toEqual([
      [2, 2],
      [3, 5],
    ]);
  });
});

describe('client order ids', () => {
  it('are the same for the same run and decision, and differ otherwise', () => {
    const a = clientOrderId('run-1', { kind: 'enter', decidedAt: 1_000 });
    expect(clientOrderId('run-1', { kind: 'enter', decidedAt: 1_000 })).toBe(a);
    const others = [
      clientOrderId('run-2', { kind: 'enter', decidedAt: 1_000 }),
      clientOrderId('run-1', { kind: 'exit', decidedAt: 1_000 }),
      clientOrderId('run-1', { kind: 'enter', decidedAt: 61_000 }),
      clientOrderId('run-1', { kind: 'stop', instanceId: 'i-1' }),
      clientOrderId('run-1', { kind: 'reconcile', instanceId: 'i-1', attempt: 0 }),
    ];
    expect(new Set([a, ...others]).size).toBe(6);
  });

  it('fit every exchange’s rules and start with the run’s prefix', () => {
    const id = clientOrderId('7f1c2a9e-0000-4000-8000-000000000000', { kind: 'exit', decidedAt: 1_796_000_000_000 });
    expect(id).toMatch(/^[.A-Z:/a-z0-9_-]{1,36}$/);
    expect(id).toHaveLength(32);
    expect(id.startsWith(runOrderPrefix('7f1c2a9e-0000-4000-8000-000000000000'))).toBe(true);
    expect(id.startsWith(runOrderPrefix('another run'))).toBe(false);
  });
});

describe('log scrubber', () => {
  it('takes every secret it knows out of every line, wherever it appears', () => {
    const scrubber = new Scrubber();
    scrubber.add('AKIAKEY123456', 'sup3r-secret-value', undefined, 'abc');
    const lines: string[] = [];
    const log = createLog(scrubber, (line) => lines.push(line));
    log('error', 'failed with AKIAKEY123456', { detail: { nested: 'x sup3r-secret-value y' }, short: 'abc' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('AKIAKEY123456');
    expect(lines[0]).not.toContain('sup3r-secret-value');
    expect(lines[0]).toContain('[redacted]');
    // Too short to be a secret: left alone rather than mangling ordinary words.
    expect(lines[0]).toContain('"short":"abc"');
    expect(describeError(new Error('key AKIAKEY123456 refused'), scrubber)).toBe('Error: key [redacted] refused');
  });
});
