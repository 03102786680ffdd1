import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('uses the embedded defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8000);
    expect(c.TOOLFORGE_ADDRESS).toBe('127.0.0.1');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reports every bad key, one line each, instead of stopping at the first', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        TOOLFORGE_DATTA_DIR: '/x',
        TOOLFORGE_MAX_BODY_BYTES: '1',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(4);
      expect(problems.some((p) => p.startsWith('PORT="eighty"'))).toBe(true);
      expect(problems.some((p) => p.startsWith('LOG_LEVEL="loud"'))).toBe(true);
      expect(problems).toContain('TOOLFORGE_DATTA_DIR: unknown setting');
      expect(problems.some((p) => p.startsWith('TOOLFORGE_MAX_BODY_BYTES="1"'))).toBe(true);
    }
  });

  it('leaves the CLI settings alone when both share a shell', () => {
    expect(() => loadConfig({ TOOLFORGE_API_URL: 'http://x', TOOLFORGE_TOKEN: 't' })).not.toThrow();
  });
});
