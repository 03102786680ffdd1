import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, messages } from '../contract/index.ts';
import { AppError, isAppError } from '../errors.ts';

/** Fastify's own request errors, mapped to our closed codes so they too arrive in the envelope. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

function toAppError(err: FastifyError | Error): AppError {
  if (isAppError(err)) return err;
  const code = 'code' in err && typeof err.code === 'string' ? FASTIFY_CODES[err.code] : undefined;
  if (code === 'INVALID_JSON' || (err instanceof SyntaxError && 'statusCode' in err)) {
    return new AppError('INVALID_JSON', 'The request body is not valid JSON.', { cause: err });
  }
  if (code === 'PAYLOAD_TOO_LARGE')
    return new AppError(code, 'The request body is too large.', { cause: err });
  if (code === 'UNSUPPORTED_MEDIA_TYPE') {
    return new AppError(code, 'Unsupported content type: send application/json.', { cause: err });
  }
  if (code) return new AppError(code, err.message, { cause: err });
  return new AppError('INTERNAL', 'An internal error happened.', { cause: err });
}

/** The single error handler: every failure leaves as the reference envelope with `error`, `code` and `hint`. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err as FastifyError);
    if (e.status >= 500) req.log.error({ err: e.cause ?? e, code: e.code }, e.message);
    else req.log.info({ code: e.code, status: e.status }, e.message);
    return reply
      .code(e.status)
      .type('application/json')
      .send({ ...messages({ error: [e.message] }), code: e.code, ...(e.hint ? { hint: e.hint } : {}) });
  });
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({
      ...messages({ error: [`No such endpoint: ${req.method} ${req.url.split('?')[0]}`] }),
      code: 'NOT_FOUND',
    });
  });
}
