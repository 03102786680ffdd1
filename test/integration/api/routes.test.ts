// Every route the contract documents (and openapi.json lists) is served by the running service, with the
// method and path the contract gives, on both runtimes' wiring.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { routes } from '../../../packages/api/src/contract/index.ts';
import { fastifyPath } from '../../../packages/api/src/http/register.ts';
import { startApi, type TestApi } from '../../helpers/api.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api?.close());

it.each(Object.values(routes).map((r) => [`${r.method} ${r.path}`, r] as const))(
  '%s is registered',
  (_name, r) => {
    expect(api.service.app.hasRoute({ method: r.method, url: fastifyPath(r.path) })).toBe(true);
  },
);
