import { z } from 'zod';
import { ResponseMessagesSchema } from './messages.ts';

/**
 * The closed list of error codes shared by server and CLI. Adding one forces a status below
 * (Record<>), a line in docs/errors.md (checked by a test) and a case in the CLI's exhaustive switch.
 */
export const ErrorCodeSchema = z.enum([
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'BUILD_NOT_FOUND',
  'NO_BUILDS',
  'BUILD_CONFLICT',
  'SOURCE_REFUSED',
  'REF_NOT_FOUND',
  'DEPRECATED_EXPIRED',
  'IMAGE_NOT_FOUND',
  'WORKLOAD_NOT_FOUND',
  'WORKLOAD_CONFLICT',
  'POLICY_DENIED',
  'ENGINE_UNAVAILABLE',
  'REGISTRY_UNAVAILABLE',
  'NOT_READY',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  SOURCE_REFUSED: 400,
  REF_NOT_FOUND: 400,
  DEPRECATED_EXPIRED: 400,
  IMAGE_NOT_FOUND: 400,
  POLICY_DENIED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BUILD_NOT_FOUND: 404,
  NO_BUILDS: 404,
  WORKLOAD_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BUILD_CONFLICT: 409,
  WORKLOAD_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  ENGINE_UNAVAILABLE: 503,
  REGISTRY_UNAVAILABLE: 503,
  NOT_READY: 503,
};

/** Error replies: the reference envelope with `error` filled, plus our optional `code` and `hint`. */
export const ErrorResponseSchema = ResponseMessagesSchema.extend({
  code: ErrorCodeSchema.optional(),
  hint: z.string().optional(),
}).meta({
  id: 'ErrorResponse',
  description: 'ResponseMessages with `error` filled, plus a machine code and a hint.',
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;
