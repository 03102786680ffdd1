import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { AppError } from './errors.ts';
import { createLogger } from './logger.ts';
import { MetricsRegistry } from './metrics.ts';
import type { HealthCheck } from './routes/service.ts';

function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ LOG_LEVEL: 'trace' }, stream), text: () => lines.join('') };
}

async function app(health: HealthCheck[] = [], extra?: Parameters<typeof buildApp>[0]['plugins']) {
  const logs = captureLogs();
  const instance = await buildApp({
    config: { TOOLFORGE_MAX_BODY_BYTES: 1024 * 1024 },
    logger: logs.logger,
    metrics: new MetricsRegistry(),
    health,
    ...(extra ? { plugins: extra } : {}),
  });
  return { app: instance, logs };
}

describe('service routes', () => {
  it('healthz says OK in the reference shape', async () => {
    const { app: a } = await app();
    const res = await a.inject('/v1/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'OK', messages: { info: [], warning: [], error: [] } });
  });

  it('healthz answers 503 ERROR with every reason', async () => {
    const { app: a } = await app([
      { name: 'store', check: async () => 'database is read-only' },
      { name: 'engine', check: async () => undefined },
      { name: 'registry', check: async () => Promise.reject(new Error('connection refused')) },
    ]);
    const res = await a.inject('/v1/healthz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'ERROR',
      messages: {
        info: [],
        warning: [],
        error: ['registry: connection refused', 'store: database is read-only'],
      },
    });
  });

  it('metrics are Prometheus text and count requests', async () => {
    const { app: a } = await app();
    await a.inject('/v1/healthz');
    const res = await a.inject('/v1/metrics');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE toolforge_http_requests_total counter');
    expect(res.body).toMatch(
      /toolforge_http_requests_total\{method="GET",route="\/v1\/healthz",status="200"\} 1/,
    );
  });

  it('serves the OpenAPI document', async () => {
    const { app: a } = await app();
    const res = await a.inject('/openapi.json');
    expect(res.json().openapi).toBe('3.1.0');
  });
});

describe('errors', () => {
  it('an unknown path is a 404 in the envelope', async () => {
    const { app: a } = await app();
    const res = await a.inject('/v2/nothing');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      info: [],
      warning: [],
      error: ['No such endpoint: GET /v2/nothing'],
      code: 'NOT_FOUND',
    });
  });

  it('domain errors keep their code and hint; unexpected ones become a generic 500 that is logged', async () => {
    const { app: a, logs } = await app(
      [],
      [
        (f) => {
          f.get('/boom/app', async () => {
            throw new AppError('BUILD_CONFLICT', 'already finished', { hint: 'start a new one' });
          });
          f.get('/boom/bug', async () => {
            throw new Error('secret internals at /srv/x');
          });
        },
      ],
    );
    const conflict = await a.inject('/boom/app');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({
      error: ['already finished'],
      code: 'BUILD_CONFLICT',
      hint: 'start a new one',
    });
    const bug = await a.inject('/boom/bug');
    expect(bug.statusCode).toBe(500);
    expect(bug.json()).toEqual({
      info: [],
      warning: [],
      error: ['An internal error happened.'],
      code: 'INTERNAL',
    });
    expect(bug.body).not.toContain('secret internals');
    expect(logs.text()).toContain('secret internals');
  });

  it('malformed JSON, a wrong content type and a body over the limit answer 4xx in the envelope', async () => {
    const { app: a } = await app([], [(f) => f.post('/echo', async (req) => req.body)]);
    const bad = await a.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'INVALID_JSON',
      error: ['The request body is not valid JSON.'],
    });
    const type = await a.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(type.statusCode).toBe(415);
    expect(type.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const big = await a.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 'a'.repeat(1024 * 1024 + 10) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', info: [], warning: [] });
  });
});

describe('logging', () => {
  it('never writes credentials: planted secrets do not reach the log', async () => {
    const secret = 'hunter2-PLANTED-SECRET';
    const { app: a, logs } = await app(
      [],
      [
        (f) =>
          f.post('/login', async (req) => {
            req.log.info({ token: secret, user: { password: secret }, envvars: { KEY: secret } }, 'login');
            req.log.info(`cloning https://user:${secret}@example.org/repo.git`);
            return { ok: true };
          }),
      ],
    );
    const res = await a.inject({
      method: 'POST',
      url: `/login?next=https://bob:${secret}@example.org/x`,
      headers: {
        authorization: `Bearer ${secret}`,
        cookie: `s=${secret}`,
        'content-type': 'application/json',
      },
      payload: { password: secret },
    });
    expect(res.statusCode).toBe(200);
    expect(logs.text()).toContain('login');
    expect(logs.text()).not.toContain(secret);
  });
});
