import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { keyPageUrl } from './service.ts';

/**
 * `GET /v1/exchanges/:exchange/key-page`: a redirect to the exchange's own API key page (live or testnet).
 * The desktop app opens only our API's URLs in the system browser; this is how it links out to an exchange.
 */
export const exchangesModule: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1/exchanges/:exchange/key-page',
    {
      schema: {
        params: z.object({ exchange: ExchangeId }),
        querystring: z.object({ testnet: z.enum(['0', '1']).default('0') }),
      },
    },
    async (request, reply) => reply.redirect(keyPageUrl(request.params.exchange, request.query.testnet === '1'), 302),
  );
};
