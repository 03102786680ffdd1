import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createService } from './service.ts';

/** The composition root: configuration → logger → service → listen, and a graceful SIGTERM. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config);
  const service = await createService(config, logger);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.warn('in-flight work did not finish within the grace period; exiting');
      process.exit(0);
    }, config.TOOLFORGE_SHUTDOWN_GRACE_SECONDS * 1000);
    timer.unref();
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await service.app.listen({ host: config.TOOLFORGE_ADDRESS, port: config.PORT });
}

if (import.meta.main) await main();
