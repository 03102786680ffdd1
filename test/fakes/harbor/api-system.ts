// Liveness and identity endpoints.
import { forbidden, ok, unauthorized } from './http.ts';
import { type Route, route } from './router.ts';

export const FAKE_VERSION = 'v2.11.0-fake';

export const systemRoutes: Route[] = [
  route('GET /ping', () => ({ status: 200, text: 'Pong' }), true),
  route(
    'GET /health',
    () =>
      ok({
        status: 'healthy',
        components: ['core', 'database', 'jobservice', 'portal', 'redis', 'registry', 'registryctl'].map(
          (name) => ({ name, status: 'healthy' }),
        ),
      }),
    true,
  ),
  route(
    'GET /systeminfo',
    (ctx) =>
      ok({
        harbor_version: FAKE_VERSION,
        external_url: ctx.externalUrl,
        registry_url: new URL(ctx.externalUrl).host,
        auth_mode: 'db_auth',
        primary_auth_mode: false,
        project_creation_restriction: 'adminonly',
        self_registration: false,
        has_ca_root: false,
        read_only: false,
        notification_enable: true,
        registry_storage_provider_name: 'filesystem',
        banner_message: '',
      }),
    true,
  ),
  route('GET /users/current', (ctx) => {
    if (ctx.id.kind === 'robot') throw forbidden('only local users can get their info');
    if (ctx.id.kind !== 'admin') throw unauthorized();
    return ok({
      user_id: 1,
      username: ctx.id.username,
      email: 'admin@example.com',
      realname: 'system admin',
      comment: 'admin user',
      sysadmin_flag: true,
      admin_role_in_auth: false,
      oidc_user_meta: null,
      creation_time: '2024-01-01T00:00:00.000Z',
      update_time: '2024-01-01T00:00:00.000Z',
    });
  }),
];
