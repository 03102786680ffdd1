import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from './config.ts';

/** Paths whose values must never reach a log line: credentials, tokens, build-time secrets. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-toolforge-token"]',
  'headers.authorization',
  '*.authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.envvars',
  'envvars',
  'password',
  'token',
  'secret',
];

/** Removes `user:password@` from URLs that appear in strings (git URLs carrying credentials are refused, never logged). */
export function scrubUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      base: { service: 'toolforge-builds-api' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; headers?: Record<string, unknown>; id?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url ? scrubUrlCredentials(req.url) : req.url,
        }),
        err: pino.stdSerializers.err,
      },
      hooks: {
        // Messages are free text: scrub credentials that slipped into them (e.g. a git error quoting a URL).
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubUrlCredentials(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
