import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../packages/api/src/config.ts';
import type { PinnedDigests } from '../../packages/api/src/engines/port.ts';
import { createLogger } from '../../packages/api/src/logger.ts';
import { createService, type Service } from '../../packages/api/src/service.ts';
import { TEST_STACK_DIR } from './paths.ts';

export interface TestApi {
  url: string;
  /** Everything the service logged (JSON lines), when started with captureLogs. */
  logs(): string;
  dataDir: string;
  service: Service;
  /** Create a tool and return a token for it. */
  token(tool: string): string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The real API (embedded engine) in this process, on 127.0.0.1 with a free port and a fresh data folder. */
export async function startApi(
  env: Record<string, string> = {},
  opts: { captureLogs?: boolean; pins?: PinnedDigests } = {},
): Promise<TestApi> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tf-api-data-'));
  const config = loadConfig({
    TOOLFORGE_DATA_DIR: dataDir,
    TOOLFORGE_STACK_DIR: TEST_STACK_DIR,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TOOLFORGE_BUILD_MEMORY_MB: '2048',
    ...env,
  });
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logged += String(chunk);
      cb();
    },
  });
  const logger = opts.captureLogs ? createLogger({ LOG_LEVEL: 'trace' }, sink) : createLogger(config);
  const service = await createService(config, logger, opts.pins ? { pins: opts.pins } : {});
  const address = await service.app.listen({ host: '127.0.0.1', port: 0 });
  const close = () => service.close();
  return {
    url: address,
    logs: () => logged,
    dataDir,
    service,
    token: (tool) => {
      service.tools.createTool(tool);
      return service.tools.issueToken(tool, 'test').token;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
