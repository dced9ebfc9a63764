import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CreateTemplateRequest,
  DeletedTemplate,
  DuplicateTemplateRequest,
  SaveTemplateRequest,
  TemplateList,
  TemplateParams,
  TemplateQuery,
  TemplateVersionList,
  TemplateView,
} from '../../../src-shared/templates-api.ts';
import { authOf, requireSession, type Identity } from '../identity/index.ts';
import { noBotsYet, Templates, type TemplateUsage } from './service.ts';

export { noBotsYet, Templates, type TemplateUsage } from './service.ts';

export interface TemplatesOptions {
  identity: Identity;
  /** Which bots run a template (see TemplateUsage); none until bots exist. */
  usage?: TemplateUsage;
}

/**
 * Strategy templates over HTTP. Every route needs a session, checked before the body is read, and is
 * scoped to the caller: another account's template answers exactly as one that does not exist. Bodies
 * are checked with the shared template schema, so a bad parameter is refused with the field it is in.
 */
export const templatesModule: FastifyPluginAsyncZod<TemplatesOptions> = async (app, { identity, usage = noBotsYet }) => {
  const templates = new Templates({ database: identity.database, usage, now: identity.now });
  const signedIn = requireSession(identity.sessions);

  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get('/v1/templates', { onRequest: signedIn, schema: { response: { 200: TemplateList } } }, async (request) => ({
    templates: await templates.list(authOf(request).userId),
  }));

  app.get(
    '/v1/templates/:id',
    { onRequest: signedIn, schema: { params: TemplateParams, querystring: TemplateQuery, response: { 200: TemplateView } } },
    async (request) => templates.get(authOf(request).userId, request.params.id, request.query.version),
  );

  app.get(
    '/v1/templates/:id/versions',
    { onRequest: signedIn, schema: { params: TemplateParams, response: { 200: TemplateVersionList } } },
    async (request) => ({ versions: await templates.versions(authOf(request).userId, request.params.id) }),
  );

  app.post(
    '/v1/templates',
    { onRequest: signedIn, schema: { body: CreateTemplateRequest, response: { 201: TemplateView } } },
    async (request, reply) => reply.code(201).send(await templates.create(authOf(request).userId, request.body.template)),
  );

  app.post(
    '/v1/templates/:id/duplicate',
    { onRequest: signedIn, schema: { params: TemplateParams, body: DuplicateTemplateRequest, response: { 201: TemplateView } } },
    async (request, reply) => reply.code(201).send(await templates.duplicate(authOf(request).userId, request.params.id, request.body)),
  );

  app.put(
    '/v1/templates/:id',
    { onRequest: signedIn, schema: { params: TemplateParams, body: SaveTemplateRequest, response: { 200: TemplateView } } },
    async (request) => templates.save(authOf(request).userId, request.params.id, request.body),
  );

  app.delete(
    '/v1/templates/:id',
    { onRequest: signedIn, schema: { params: TemplateParams, response: { 200: DeletedTemplate } } },
    async (request) => templates.remove(authOf(request).userId, request.params.id),
  );
};
