import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  BotInstanceSpec,
  HeartbeatRequest,
  HeartbeatResponse,
  INSTANCE_ROUTES,
  ReportAck,
  ReportBatch,
} from '../../../src-shared/bot-instance.ts';
import { bearer } from '../identity/index.ts';
import type { BotInstances} from './service.ts';
import { instanceUnknown, type InstanceCaller } from './service.ts';

export { BotInstances, type InstanceCaller } from './service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    instance: InstanceCaller | null;
  }
}

const callerOf = (request: FastifyRequest): InstanceCaller => {
  if (!request.instance) throw instanceUnknown();
  return request.instance;
};

/**
 * The routes a bot instance calls, authenticated by its own bearer token (never a user session): its spec,
 * heartbeats and reports. A token reaches only its own instance, so one bot cannot read or write another's.
 */
export const botInstancesModule: FastifyPluginAsyncZod<{ instances: BotInstances }> = async (app, { instances }) => {
  app.decorateRequest('instance', null);
  const authenticated = async (request: FastifyRequest) => {
    const token = bearer(request);
    const caller = token ? await instances.authenticate(token) : null;
    if (!caller) throw instanceUnknown();
    request.instance = caller;
  };
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get(INSTANCE_ROUTES.spec, { onRequest: authenticated, schema: { response: { 200: BotInstanceSpec } } }, async (request) =>
    instances.spec(callerOf(request)),
  );
  app.post(INSTANCE_ROUTES.heartbeat, { onRequest: authenticated, schema: { body: HeartbeatRequest, response: { 200: HeartbeatResponse } } }, async (request) =>
    instances.heartbeat(callerOf(request), request.body),
  );
  app.post(INSTANCE_ROUTES.reports, { onRequest: authenticated, schema: { body: ReportBatch, response: { 200: ReportAck } } }, async (request) =>
    instances.appendReports(callerOf(request), request.body),
  );
};
