// toolforge/php: Debian 12's PHP 8.2 with common extensions in a launch layer, Debian's composer in a
// build-only layer, and a web process (PHP's built-in server on $PORT) unless a Procfile says otherwise.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readImage } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessBuild } from '../../helpers/lifecycle.ts';
import { APPS_DIR } from '../../helpers/paths.ts';
import { freePort, runImage, waitForHttp } from '../../helpers/run-image.ts';

const BUILDER = 'toolforge/debian-langs-builder:latest';
type Build = Awaited<ReturnType<typeof harnessBuild>>;
const buildSeconds = (b: Build) => {
  const t = b.result?.timings.find((x) => x.phase === 'build');
  return t ? (t.endedAt.getTime() - t.startedAt.getTime()) / 1000 : Number.NaN;
};
const logText = (b: Build) => b.logs.map((l) => l.text).join('\n');

async function get(b: Build, urlPath = '/'): Promise<{ status: number; body: string }> {
  const port = await freePort();
  const run = await runImage(b.layout, b.ref, {
    env: { PORT: '8080' },
    publish: { hostPort: port, guestPort: 8080 },
  });
  try {
    const res = await waitForHttp(`http://127.0.0.1:${port}${urlPath}`);
    return { status: res.status, body: await res.text() };
  } finally {
    run.stop();
    await run.result;
  }
}

describe('php-app: composer autoloader, public/ docroot', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'tf-cache-php-'));
  let first: Build;
  beforeAll(async () => {
    first = await harnessBuild(path.join(APPS_DIR, 'php-app'), { builder: BUILDER, cacheDir });
    expect(first.failure).toBeUndefined();
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('installs PHP 8.2 into a launch layer and composer into a build-only layer', async () => {
    expect(first.result?.group.map((g) => g.id)).toEqual(['toolforge/php']);
    const text = logText(first);
    expect(text).toMatch(/\+ php8\.2-cli 8\.2\.\d/);
    expect(text).toMatch(
      /PHP 8\.2\.\d+, modules: .*\bcurl\b.*\bintl\b.*\bmbstring\b.*\bmysqli\b.*\bpdo_sqlite\b.*\bxml\b.*\bzip\b/,
    );
    expect(text).toContain('Generating optimized autoload files');
    const image = await readImage(first.layout, first.ref);
    const meta = JSON.parse(image.config.config?.Labels?.['io.buildpacks.lifecycle.metadata'] ?? '{}');
    const php = meta.buildpacks.find((b: { key: string }) => b.key === 'toolforge/php');
    expect(php.layers.php).toMatchObject({ launch: true, build: true, cache: true });
    expect(php.layers.php.data.installed).toContainEqual(expect.stringMatching(/^php8\.2-cli=8\.2\./));
    expect(php.layers.composer).toBeUndefined(); // build-only: not in the image
    expect(first.result?.processes).toEqual([
      { type: 'web', command: ['bash', '-c', `exec php -S "0.0.0.0:\${PORT:-8000}" -t /workspace/public`] },
    ]);
  });

  it('serves public/index.php on $PORT, with a class from the autoloader and pdo_sqlite', async () => {
    const { status, body } = await get(first);
    expect(status).toBe(200);
    expect(body).toMatch(/^Hello, TOOLFORGE, from PHP 8\.2\.\d+ \(\d+ extensions\)/);
    expect(body).toContain('sqlite 3.');
  });

  it('a second build with the same cache reuses the layers, faster, to the same image', async () => {
    const second = await harnessBuild(path.join(APPS_DIR, 'php-app'), { builder: BUILDER, cacheDir });
    expect(second.failure).toBeUndefined();
    const text = logText(second);
    expect(text).toMatch(/Reusing the cached php layer/);
    expect(text).toMatch(/Reusing the cached composer layer/);
    expect(buildSeconds(second)).toBeLessThan(buildSeconds(first));
    expect(second.result?.digest).toBe(first.result?.digest); // composer's autoloader suffix is not random
  });

  it('index.php at the top without composer, BP_PHP_EXTENSIONS adds one, a Procfile overrides web', async () => {
    const app = {
      'index.php':
        '<?php echo "bcmath=", extension_loaded("bcmath") ? bcadd("1.5", "2.25", 2) : "missing", "\\n";',
    };
    const b = await harnessBuild(app, {
      builder: BUILDER,
      cacheDir,
      envvars: { BP_PHP_EXTENSIONS: 'bcmath' },
    });
    expect(b.failure).toBeUndefined();
    expect(logText(b)).toMatch(/\+ php8\.2-bcmath /);
    expect((await get(b)).body).toBe('bcmath=3.75\n');

    const withProcfile = await harnessBuild(
      {
        ...app,
        'other/index.php': '<?php echo "from other\\n";',
        Procfile: 'web: exec php -S "0.0.0.0:$PORT" -t other\n',
      },
      { builder: BUILDER, cacheDir, envvars: { BP_PHP_EXTENSIONS: 'bcmath' } },
    );
    expect(withProcfile.failure).toBeUndefined();
    expect(withProcfile.result?.group.map((g) => g.id)).toEqual(['toolforge/php', 'toolforge/procfile']);
    expect((await get(withProcfile)).body).toBe('from other\n');
  });
});
