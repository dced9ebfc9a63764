import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { invokeContract } from '../../../src-shared/ipc.ts';

type Schema = { type?: string; maxLength?: number; enum?: unknown[]; const?: unknown; [key: string]: unknown };

/** Every string a channel's input may carry, by its path, with its JSON-schema bounds. */
function strings(schema: unknown, path: string, found: [string, Schema][] = []): [string, Schema][] {
  if (!schema || typeof schema !== 'object') return found;
  const node = schema as Schema;
  if (node.type === 'string') found.push([path, node]);
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, child] of Object.entries(value)) strings(child, `${path}.${name}`, found);
    } else if (Array.isArray(value)) {
      value.forEach((child) => strings(child, path, found));
    } else if (typeof value === 'object' && key !== 'properties') {
      strings(value, path, found);
    }
  }
  return found;
}

describe('IPC inputs: every text field is bounded', () => {
  it('gives each string of each channel a maximum length or a fixed set of values', () => {
    const unbounded: string[] = [];
    for (const [channel, { input }] of Object.entries(invokeContract)) {
      const schema = z.toJSONSchema(input as z.ZodType, { io: 'input', unrepresentable: 'any' });
      for (const [path, node] of strings(schema, channel)) {
        if (node.maxLength === undefined && node.enum === undefined && node.const === undefined) unbounded.push(path);
      }
    }
    expect(unbounded).toEqual([]);
  });

  it('refuses a pasted megabyte as a password, and more than 256 characters, before main sees it', () => {
    const signIn = invokeContract['identity.signIn'].input;
    expect(signIn.safeParse({ email: 'a@example.test', password: 'x'.repeat(1_150_000) }).success).toBe(false);
    const tooLong = signIn.safeParse({ email: 'a@example.test', password: '🔑'.repeat(257) });
    expect(tooLong.error?.issues[0]?.message).toBe('Use at most 256 characters.');
    expect(signIn.safeParse({ email: 'a@example.test', password: '🔑'.repeat(256) }).success).toBe(true);
    expect(invokeContract['identity.reverifyPassword'].input.safeParse({ password: 'x'.repeat(257) }).success).toBe(false);
    expect(
      invokeContract['identity.changePassword'].input.safeParse({ currentPassword: 'x', newPassword: 'x'.repeat(257), signOutOtherSessions: false }).success,
    ).toBe(false);
    expect(signIn.safeParse({ email: `${'a'.repeat(1_000_000)}@example.test`, password: 'x' }).success).toBe(false);
  });
});
