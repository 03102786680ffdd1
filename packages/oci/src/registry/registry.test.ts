import { describe, expect, it } from 'vitest';
import { parseChallenges } from './challenge.ts';
import { parseErrorBody, RegistryError, redact } from './errors.ts';
import { backoffDelay, isRetryableStatus, resolveRetry } from './retry.ts';
import { withDigest } from './upload.ts';

describe('parseChallenges', () => {
  it('parses bearer challenges with quoted, escaped and comma-holding values', () => {
    const [c] = parseChallenges(
      'Bearer realm="https://h/service/token",service="harbor-registry",scope="repository:p/a:pull,push",error="insufficient_scope"',
    );
    expect(c).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://h/service/token',
        service: 'harbor-registry',
        scope: 'repository:p/a:pull,push',
        error: 'insufficient_scope',
      },
    });
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=x')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'x' } },
    ]);
    expect(parseChallenges(null)).toEqual([]);
  });
});

describe('upload URLs', () => {
  it('appends the digest without re-encoding opaque state', () => {
    const state = 'https://r:5000/v2/a/blobs/uploads/u?_state=ab%2Bc%3D%3D';
    expect(withDigest(new URL(state), 'sha256:00').href).toBe(`${state}&digest=sha256%3A00`);
    expect(withDigest(new URL('https://r/up/1'), 'sha256:00').href).toBe('https://r/up/1?digest=sha256%3A00');
  });
});

describe('errors', () => {
  it('builds messages from OCI error bodies without credentials or query strings', () => {
    const err = new RegistryError({
      method: 'PUT',
      url: 'https://user:pw@r.example/v2/a/blobs/uploads/x?_state=SECRETSTATE&digest=d',
      status: 400,
      errors: parseErrorBody('{"errors":[{"code":"DIGEST_INVALID","message":"bad s3cr3tpass"}]}'),
      secrets: ['s3cr3tpass'],
    });
    expect(err.message).toBe('PUT https://r.example/v2/a/blobs/uploads/x: HTTP 400: DIGEST_INVALID: bad ***');
    expect(err.codes).toEqual(['DIGEST_INVALID']);
    expect(parseErrorBody('<html>oops</html>')).toEqual([{ code: 'UNKNOWN', message: '<html>oops</html>' }]);
    expect(redact('a%2Fb and a/b', ['a/b'])).toBe('*** and ***');
  });
});

describe('retry policy', () => {
  it('retries 5xx and 429 only, with bounded jittered backoff honouring Retry-After', () => {
    expect([500, 502, 503, 429].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 501].some(isRetryableStatus)).toBe(false);
    const r = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 });
    for (let i = 0; i < 50; i++) {
      expect(backoffDelay(10, r)).toBeLessThanOrEqual(1000);
      expect(backoffDelay(0, r)).toBeLessThanOrEqual(100);
    }
    expect(backoffDelay(0, r, '2')).toBeGreaterThanOrEqual(2000);
    expect(backoffDelay(0, r, '3600')).toBe(5000);
  });
});
