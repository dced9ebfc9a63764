// The API's side of the key broker: ask for a sealing key for a new record, and have a record's key pair
// destroyed. These are the only broker routes this module calls; it never asks for anything that opens a key.
import { readFileSync, statSync } from 'node:fs';
import { Problem } from '../../../src-shared/problem.ts';
import { SealingKeyResponse } from '../../../src-shared/keybroker.ts';
import { ProblemError } from '../../../src-server/problem.ts';

export interface KeyBroker {
  createSealingKey(userId: string, recordId: string): Promise<SealingKeyResponse>;
  /** Resolves once the key pair is gone (or was never there); rejects when the broker could not be reached. */
  destroySealingKey(recordId: string, userId: string): Promise<void>;
}

class BrokerUnavailable extends ProblemError {
  constructor(detail: string) {
    super(503, 'keybroker_unavailable', 'Key broker unavailable', detail, { retryAfterSeconds: 5 });
  }
}

/** Used when no broker is configured: every call says so, nothing pretends to work. */
export const noKeyBroker: KeyBroker = {
  createSealingKey: async () => {
    throw new BrokerUnavailable('This API has no key broker configured, so it cannot take exchange keys.');
  },
  destroySealingKey: async () => {
    throw new BrokerUnavailable('This API has no key broker configured.');
  },
};

/** The service token, from a file only the API's user may read. */
function readServiceToken(path: string): string {
  const stat = statSync(path);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new Error(`${path} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it.`);
  }
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 32 || /\s/.test(token)) throw new Error(`${path} does not hold a service token.`);
  return token;
}

export function httpKeyBroker(options: { url: string; serviceTokenFile: string; timeoutMs?: number }): KeyBroker {
  const token = readServiceToken(options.serviceTokenFile);
  const timeoutMs = options.timeoutMs ?? 5000;

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; data: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${options.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw new BrokerUnavailable('The key broker cannot be reached right now. Try again in a moment.');
    }
    const text = await response.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    return { status: response.status, data };
  }

  const unexpected = (status: number, data: unknown) => {
    const problem = Problem.safeParse(data);
    return new BrokerUnavailable(`The key broker refused the request (${problem.success ? problem.data.code : `HTTP ${status}`}).`);
  };

  return {
    async createSealingKey(userId, recordId) {
      const { status, data } = await send('POST', '/v1/sealing-keys', { userId, recordId });
      if (status !== 201) throw unexpected(status, data);
      const parsed = SealingKeyResponse.safeParse(data);
      if (!parsed.success || parsed.data.userId !== userId || parsed.data.recordId !== recordId) {
        throw new BrokerUnavailable('The key broker answered with a sealing key for something else.');
      }
      return parsed.data;
    },
    async destroySealingKey(recordId, userId) {
      const { status, data } = await send('DELETE', `/v1/sealing-keys/${encodeURIComponent(recordId)}?userId=${encodeURIComponent(userId)}`);
      // 404: already destroyed (an earlier attempt got through before its answer was lost).
      if (status === 204 || status === 404) return;
      // The pair is deleted; the broker is still waiting to truncate its WAL and retries that itself.
      if (status === 503 && Problem.safeParse(data).data?.code === 'wal_checkpoint_blocked') return;
      throw unexpected(status, data);
    },
  };
}
