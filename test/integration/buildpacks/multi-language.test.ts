// Several languages in one image, with the main builder: Node.js builds the front-end assets while Python
// serves them (the reason many tools could not move to Kubernetes was one runtime per image).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessBuild } from '../../helpers/lifecycle.ts';
import { APPS_DIR, BUILDER } from '../../helpers/paths.ts';
import { freePort, runImage, waitForHttp } from '../../helpers/run-image.ts';

describe('Node.js + Python in one image', () => {
  let build: Awaited<ReturnType<typeof harnessBuild>>;
  beforeAll(async () => {
    build = await harnessBuild(path.join(APPS_DIR, 'node-python-app'), { builder: BUILDER });
  }, 300_000);
  afterAll(() => undefined);

  it('detects nodejs, python and procfile together', () => {
    expect(build.failure, build.failure?.message).toBeUndefined();
    expect(build.result?.group.map((g) => g.id)).toEqual([
      'toolforge/nodejs',
      'toolforge/python',
      'toolforge/procfile',
    ]);
    expect(build.logs.map((l) => l.text)).toContain('front-end assets written to static/');
  });

  it('serves the Node-built assets from Python, with both runtimes in the image', async () => {
    const port = await freePort();
    const run = await runImage(build.layout, build.ref, {
      env: { PORT: '8000' },
      publish: { hostPort: port, guestPort: 8000 },
    });
    try {
      const page = await waitForHttp(`http://127.0.0.1:${port}/`);
      expect(await page.text()).toContain('assets built by Node.js 24');
      const api = await fetch(`http://127.0.0.1:${port}/api`);
      expect(await api.json()).toMatchObject({ python: expect.stringMatching(/^3\.11\./) });
    } finally {
      run.stop();
      await run.result;
    }
    const node = await runImage(build.layout, build.ref, {
      entrypoint: ['launcher', 'node --version && python --version'],
    });
    await node.result;
    expect(node.output()).toMatch(/v24\.\d+\.\d+\s+Python 3\.11\.\d+/);
  });
});

describe('the main builder on a repository it cannot build', () => {
  it('says what each buildpack looks for', async () => {
    const b = await harnessBuild({ 'README.md': '# nothing to build\n' }, { builder: BUILDER });
    expect(b.failure?.reason).toBe('NOTHING_DETECTED');
    for (const id of ['apt', 'nodejs', 'python', 'php', 'static', 'procfile'])
      expect(b.failure?.message).toContain(`toolforge/${id}: looks for`);
  });
});
