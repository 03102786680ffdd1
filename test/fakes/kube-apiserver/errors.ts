// Kubernetes `Status` errors, shaped like the apiserver's (k8s.io/apimachinery/pkg/api/errors).

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An error the fake answers with: `code` is the HTTP status, the body a `Status` object. */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
  status(): KubeStatus {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

export function failureStatus(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): KubeStatus {
  const s: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code };
  if (reason) s.reason = reason;
  if (details) s.details = details;
  return s;
}

/** `pipelineruns.tekton.dev`, or `pods` for the core group (how the apiserver names a group-resource). */
export function groupResource(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const errors = {
  notFound: (group: string, plural: string, name: string) =>
    new KubeError(404, 'NotFound', `${groupResource(group, plural)} "${name}" not found`, {
      name,
      group: group || undefined,
      kind: plural,
    }),
  noResource: () => new KubeError(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (group: string, plural: string, name: string) =>
    new KubeError(409, 'AlreadyExists', `${groupResource(group, plural)} "${name}" already exists`, {
      name,
      group: group || undefined,
      kind: plural,
    }),
  conflict: (group: string, plural: string, name: string) =>
    new KubeError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${groupResource(group, plural)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: group || undefined, kind: plural },
    ),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) =>
    new KubeError(
      422,
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes
        .map((c) => (c.field ? `${c.field}: ${c.message}` : c.message))
        .join(', ')}`,
      { name, group: group || undefined, kind, causes },
    ),
  badRequest: (message: string) => new KubeError(400, 'BadRequest', message),
  expired: (message: string) => new KubeError(410, 'Expired', message),
  gone: (message: string) => new KubeError(410, 'Gone', message),
  forbidden: (message: string) => new KubeError(403, 'Forbidden', message),
  unauthorized: () => new KubeError(401, 'Unauthorized', 'Unauthorized'),
  methodNotAllowed: (method: string) =>
    new KubeError(
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource`,
      {
        causes: [{ message: method }],
      },
    ),
  unsupportedMediaType: (type: string) =>
    new KubeError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${type})`,
    ),
  internal: (message = 'Internal error occurred: fake apiserver fault') =>
    new KubeError(500, 'InternalError', message, { causes: [{ message }] }),
  unavailable: (message = 'the server is currently unable to handle the request') =>
    new KubeError(503, 'ServiceUnavailable', message),
};

/** A Status for an arbitrary HTTP code (fault injection). */
export function errorForCode(code: number, message?: string): KubeError {
  switch (code) {
    case 400:
      return errors.badRequest(message ?? 'bad request (injected fault)');
    case 401:
      return errors.unauthorized();
    case 403:
      return errors.forbidden(message ?? 'forbidden (injected fault)');
    case 404:
      return errors.noResource();
    case 409:
      return new KubeError(409, 'Conflict', message ?? 'conflict (injected fault)');
    case 410:
      return errors.expired(message ?? 'too old resource version (injected fault)');
    case 422:
      return new KubeError(422, 'Invalid', message ?? 'invalid (injected fault)', { causes: [] });
    case 429:
      return new KubeError(
        429,
        'TooManyRequests',
        message ?? 'the server has received too many requests and has asked us to try again later',
        {
          retryAfterSeconds: 1,
        },
      );
    case 500:
      return errors.internal(message);
    case 503:
      return errors.unavailable(message);
    case 504:
      return new KubeError(
        504,
        'Timeout',
        message ??
          'the server was unable to return a response in the time allotted, but may still be processing the request',
      );
    default:
      return new KubeError(code, '', message ?? `injected fault ${code}`);
  }
}
