// The orchestrator's one call to the key broker: a one-time credential for an instance it is about to start,
// bound to the user, bot, key record and instance. The orchestrator token is the only one that may ask.
import { InstanceCredentialRequest, InstanceCredentialResponse } from '../src-shared/keybroker.ts';
import { Problem } from '../src-shared/problem.ts';
import type { InstanceCredentialMinter } from './reconcile-loop.ts';

export interface BrokerMinterOptions {
  /** The broker's base URL (EU, internal). */
  brokerUrl: string;
  orchestratorToken: string;
  /** How long the instance has to present the credential; the broker caps it. */
  ttlSeconds?: number;
  timeoutMs?: number;
}

export class BrokerRefusedError extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, code: string | null) {
    super(`the key broker refused an instance credential: HTTP ${status}${code ? ` (${code})` : ''}`);
    this.name = 'BrokerRefusedError';
    this.status = status;
    this.code = code;
  }
}

export class BrokerCredentialMinter implements InstanceCredentialMinter {
  private readonly o: Required<BrokerMinterOptions>;

  constructor(options: BrokerMinterOptions) {
    this.o = { ttlSeconds: 120, timeoutMs: 10_000, ...options, brokerUrl: options.brokerUrl.replace(/\/+$/, '') };
  }

  async mint(request: { userId: string; botId: string; keyRecordId: string; instanceId: string }): Promise<Uint8Array> {
    const body = InstanceCredentialRequest.parse({
      userId: request.userId,
      botId: request.botId,
      recordId: request.keyRecordId,
      instanceId: request.instanceId,
      ttlSeconds: this.o.ttlSeconds,
    });
    const response = await fetch(`${this.o.brokerUrl}/v1/instance-credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.o.orchestratorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    const payload: unknown = await response.json().catch(() => null);
    if (response.status !== 201) {
      const problem = Problem.safeParse(payload);
      throw new BrokerRefusedError(response.status, problem.success ? problem.data.code : null);
    }
    return new TextEncoder().encode(InstanceCredentialResponse.parse(payload).credential);
  }
}
