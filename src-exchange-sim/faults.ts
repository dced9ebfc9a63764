// Failures on demand, set through the admin listener, so a client's outage handling can be tested
// against the failures real exchanges produce: dropped connections, 5xx, rate limits, slow answers,
// and the worst one for a trading bot, an order that was accepted but whose answer never arrived.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SimExchangeId } from './keys.ts';

export const FaultMode = z.enum([
  /** The connection is closed before anything is processed. */
  'drop',
  /** 503 Service Unavailable, before anything is processed. */
  'server-error',
  /** The exchange's own rate-limit refusal, before anything is processed. */
  'rate-limit',
  /** The request is processed normally after `delayMs`. */
  'delay',
  /** The request is processed (an order is placed) and then the connection is closed instead of answering. */
  'drop-response',
  /**
   * The request is processed (an order is placed) and its answer held back `delayMs`: a client that dies meanwhile
   * has sent an order it never heard about. (`delay` holds the request before it is read: one whose client is gone by
   * then is never carried out.)
   */
  'delay-response',
]);
export type FaultMode = z.infer<typeof FaultMode>;

export const FaultRule = z
  .object({
    exchange: SimExchangeId,
    mode: FaultMode,
    /** How many matching requests fail this way. */
    count: z.number().int().min(1).max(100_000).default(1),
    /** Only requests whose path (without the query) contains this. */
    path: z.string().min(1).max(200).optional(),
    /** Only requests with this HTTP method. */
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).optional(),
    delayMs: z.number().int().min(0).max(60_000).default(0),
  })
  .strict();
export type FaultRuleInput = z.input<typeof FaultRule>;
export type FaultRule = z.infer<typeof FaultRule> & { id: number; remaining: number };

export class FaultPlan {
  readonly #rules: FaultRule[] = [];
  #nextId = 1;

  add(input: FaultRuleInput): FaultRule {
    const parsed = FaultRule.parse(input);
    const rule: FaultRule = { ...parsed, id: this.#nextId++, remaining: parsed.count };
    this.#rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }

  clear(exchange?: SimExchangeId): void {
    for (let i = this.#rules.length - 1; i >= 0; i--) if (!exchange || this.#rules[i]?.exchange === exchange) this.#rules.splice(i, 1);
  }

  /** The first rule matching this request, used up by one; rules apply in the order they were added. */
  take(exchange: SimExchangeId, method: string, path: string): FaultRule | undefined {
    const index = this.#rules.findIndex(
      (rule) => rule.exchange === exchange && (!rule.method || rule.method === method) && (!rule.path || path.includes(rule.path)),
    );
    const rule = this.#rules[index];
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.#rules.splice(index, 1);
    return rule;
  }
}

const dropAfterAnswer = new WeakSet<FastifyRequest>();
const answerHeldFor = new WeakMap<FastifyRequest, number>();

/**
 * Puts `faults` in front of every route of one exchange's listener. `rateLimited` sends that
 * exchange's own rate-limit refusal.
 */
export function installFaults(app: FastifyInstance, exchange: SimExchangeId, faults: FaultPlan, rateLimited: (reply: FastifyReply) => FastifyReply): void {
  app.addHook('onRequest', async (request, reply) => {
    const url = request.raw.url ?? '/';
    const rule = faults.take(exchange, request.method, url.split('?')[0] ?? url);
    if (!rule) return;
    switch (rule.mode) {
      case 'drop':
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      case 'server-error':
        return reply.code(503).type('text/html').send('<html><body><h1>503 Service Unavailable</h1></body></html>');
      case 'rate-limit':
        return rateLimited(reply);
      case 'delay':
        await sleep(rule.delayMs);
        return;
      case 'drop-response':
        dropAfterAnswer.add(request);
        return;
      case 'delay-response':
        answerHeldFor.set(request, rule.delayMs);
        return;
    }
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const held = answerHeldFor.get(request);
    if (held !== undefined) await sleep(held);
    if (!dropAfterAnswer.has(request)) return payload;
    // The work is done (the order exists); the client never hears about it.
    reply.raw.destroy();
    return payload;
  });
}
