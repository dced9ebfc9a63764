import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { PROBLEM_CONTENT_TYPE, type Problem } from '../src-shared/problem.ts';

export interface ProblemExtras {
  errors?: Problem['errors'];
  /** Sent as Retry-After, for 429 and 503. */
  retryAfterSeconds?: number;
}

/** An error a route throws on purpose: it becomes an RFC 9457 problem with a stable code. */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extras: ProblemExtras;

  constructor(status: number, code: string, title: string, detail?: string, extras: ProblemExtras = {}) {
    super(detail ?? title);
    this.name = 'ProblemError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.extras = extras;
  }
}

const problemType = (code: string) => `https://plutarc.app/problems/${code.replaceAll('_', '-')}`;

export function sendProblem(reply: FastifyReply, problem: Omit<Problem, 'type' | 'instance'>): FastifyReply {
  const body: Problem = { type: problemType(problem.code), instance: reply.request.url.split('?')[0], ...problem };
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Fastify's own 4xx errors, by their code, as problems a client can act on. */
const frameworkProblems = (service: string): Record<string, { code: string; title: string; detail: string }> => ({
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'malformed_json', title: 'Malformed JSON', detail: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'malformed_json', title: 'Malformed JSON', detail: 'The request body is empty but was declared as JSON.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', title: 'Request too large', detail: `The request body is larger than ${service} accepts.` },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', title: 'Unsupported media type', detail: 'Send application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'malformed_request', title: 'Malformed request', detail: 'Content-Length does not match the body.' },
});

/** Problem+json for every error of a plutarc server (the API, the key broker); `service` names it in messages. */
export function registerProblemHandlers(app: FastifyInstance, service = 'this API'): void {
  const FRAMEWORK_PROBLEMS = frameworkProblems(service);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      status: 404,
      code: 'not_found',
      title: 'Not found',
      detail: `There is no ${request.method} ${request.url.split('?')[0]} in ${service}.`,
    }),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) {
      if (error.extras.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.extras.retryAfterSeconds));
      return sendProblem(reply, {
        status: error.status,
        code: error.code,
        title: error.title,
        detail: error.detail,
        ...(error.extras.errors ? { errors: error.extras.errors } : {}),
        // In the body too, so a client need not read headers to count the wait down.
        ...(error.extras.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.extras.retryAfterSeconds } : {}),
      });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      return sendProblem(reply, {
        status: 400,
        code: 'invalid_request',
        title: 'Invalid request',
        detail: 'Some fields are missing or not of the expected form.',
        errors: error.validation.map((v) => ({
          path: `${error.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
          message: v.message ?? 'invalid',
        })),
      });
    }
    const known = error.code ? FRAMEWORK_PROBLEMS[error.code] : undefined;
    const status = error.statusCode ?? 500;
    if (known) return sendProblem(reply, { status, ...known });
    if (status >= 400 && status < 500) {
      return sendProblem(reply, { status, code: 'bad_request', title: 'Bad request', detail: 'The request could not be processed.' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, {
      status: 500,
      code: 'internal',
      title: 'Internal error',
      detail: `Something went wrong in ${service}. It has been logged; try again.`,
    });
  });
}
