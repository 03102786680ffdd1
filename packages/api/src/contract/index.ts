export * from './builds.ts';
export * from './client.ts';
export * from './errors.ts';
export * from './health.ts';
export * from './messages.ts';
export * from './openapi.ts';
export * from './routes.ts';
export * from './version.ts';
