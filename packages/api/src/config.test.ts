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

  it('checks the settings that only go together: Harbor needs its account, and replaces the registry URL', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ TOOLFORGE_HARBOR_URL: 'https://harbor.example' })).toEqual([
      'TOOLFORGE_HARBOR_URL: needs TOOLFORGE_HARBOR_USERNAME and TOOLFORGE_HARBOR_PASSWORD',
    ]);
    expect(
      problems({
        TOOLFORGE_HARBOR_URL: 'https://harbor.example',
        TOOLFORGE_HARBOR_USERNAME: 'robot$builds-api',
        TOOLFORGE_HARBOR_PASSWORD: 'p',
        TOOLFORGE_REGISTRY_URL: 'https://registry.example',
      }),
    ).toEqual(['TOOLFORGE_HARBOR_URL and TOOLFORGE_REGISTRY_URL: set one (Harbor is the registry)']);
    expect(problems({ TOOLFORGE_ENGINE: 'tekton' })[0]).toMatch(
      /^TOOLFORGE_ENGINE=tekton: needs TOOLFORGE_HARBOR_URL or/,
    );
    expect(problems({ TOOLFORGE_CATALOGUE: 'configmap:tf-public' })[0]).toMatch(
      /^TOOLFORGE_CATALOGUE="configmap:tf-public"/,
    );
  });
});
