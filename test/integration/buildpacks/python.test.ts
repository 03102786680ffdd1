// toolforge/python: Debian 12's Python 3.11 installed into a launch layer with lib/deb.sh, a virtual
// environment with the app's requirements, processes from the Procfile.
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

async function shell(b: Build, command: string): Promise<string> {
  const run = await runImage(b.layout, b.ref, { entrypoint: ['launcher', command] });
  const res = await run.result;
  expect(res.exitCode, run.output()).toBe(0);
  return run.output();
}

// One cache for the builds of this file that may share Debian packages and lists.
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'tf-cache-py-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('python-app: standard library only, Procfile web process', () => {
  let first: Build;
  beforeAll(async () => {
    first = await harnessBuild(path.join(APPS_DIR, 'python-app'), { builder: BUILDER, cacheDir });
    expect(first.failure).toBeUndefined();
  });

  it('installs python3.11 from Debian into the runtime layer and a venv, recording package versions', async () => {
    expect(first.result?.group.map((g) => g.id)).toEqual(['toolforge/python', 'toolforge/procfile']);
    const text = logText(first);
    expect(text).toMatch(/\+ python3\.11 3\.11\.\d/);
    expect(text).toMatch(/Python 3\.11\.\d+ \/layers\/toolforge_python\/runtime\/usr/);
    expect(text).toContain('Virtual environment with pip');
    const image = await readImage(first.layout, first.ref);
    const meta = JSON.parse(image.config.config?.Labels?.['io.buildpacks.lifecycle.metadata'] ?? '{}');
    const py = meta.buildpacks.find((b: { key: string }) => b.key === 'toolforge/python');
    expect(py.layers.runtime).toMatchObject({ launch: true, cache: true });
    expect(py.layers.runtime.data.installed).toContainEqual(expect.stringMatching(/^python3\.11=3\.11\./));
    expect(py.layers.runtime.data.installed).not.toContainEqual(
      expect.stringMatching(/^(libc6|libssl3|dpkg)=/),
    );
    expect(py.layers.venv).toMatchObject({ launch: true, cache: true });
    // No process of its own: the Procfile's.
    expect(first.result?.processes).toEqual([{ type: 'web', command: ['bash', '-c', 'python app.py'] }]);
  });

  it('serves HTTP on $PORT with ssl, sqlite3 and json working from the layer', async () => {
    const { status, body } = await get(first);
    expect(status).toBe(200);
    const data = JSON.parse(body);
    expect(data).toMatchObject({ app: 'python-app', answer: 42, prefix: '/layers/toolforge_python/venv' });
    expect(data.python).toMatch(/^3\.11\./);
    expect(data.openssl).toMatch(/^OpenSSL 3\./);
  });

  it('at launch the venv comes first on PATH and the standard library imports', async () => {
    const out = await shell(
      first,
      'command -v python; command -v pip; python3 -c "import ssl, sqlite3, json, ctypes, zlib, lzma, bz2, readline; print(\'imports-ok\')"',
    );
    expect(out).toContain('/layers/toolforge_python/venv/bin/python\n/layers/toolforge_python/venv/bin/pip');
    expect(out).toContain('imports-ok');
  });

  it('a second build with the same cache reuses runtime and venv, faster, to the same image', async () => {
    const second = await harnessBuild(path.join(APPS_DIR, 'python-app'), { builder: BUILDER, cacheDir });
    expect(second.failure).toBeUndefined();
    const text = logText(second);
    expect(text).toContain('Restored cached layer toolforge/python:runtime');
    expect(text).toMatch(/Reusing the cached runtime layer/);
    expect(text).toContain('Reusing the cached virtual environment');
    expect(buildSeconds(second)).toBeLessThan(buildSeconds(first));
    expect(second.result?.digest).toBe(first.result?.digest);
  });

  it('.python-version asking for another Python fails clearly, listing what is available', async () => {
    const b = await harnessBuild(
      { '.python-version': '3.12\n', 'app.py': 'print(1)\n', Procfile: 'web: python app.py\n' },
      { builder: BUILDER, cacheDir },
    );
    expect(b.failure).toMatchObject({
      phase: 'build',
      reason: 'BUILDPACK_FAILED',
      buildpack: 'toolforge/python@1.0.0',
    });
    expect(b.failure?.message).toContain('.python-version asks for Python 3.12');
    expect(b.failure?.message).toContain('Available: 3.11');
    const old = await harnessBuild({ '.python-version': '2.7\n' }, { builder: BUILDER, cacheDir });
    expect(old.failure?.message).toContain('.python-version asks for Python 2.7');
  });
});

describe('with an Aptfile', () => {
  it('the apt buildpack runs first; its tools are on PATH for the build and for the app', async () => {
    const b = await harnessBuild(
      {
        Aptfile: 'figlet\n',
        'requirements.txt': '',
        'app.py':
          'import shutil, subprocess\nprint(shutil.which("figlet"), subprocess.run(["figlet", "-I1"], capture_output=True, text=True).stdout.strip())\n',
        Procfile: 'web: python app.py\n',
      },
      { builder: BUILDER, cacheDir },
    );
    expect(b.failure).toBeUndefined();
    expect(b.result?.group.map((g) => g.id)).toEqual([
      'toolforge/apt',
      'toolforge/python',
      'toolforge/procfile',
    ]);
    expect(await shell(b, 'python app.py')).toContain('/layers/toolforge_apt/packages/usr/bin/figlet 20205');
  });
});

describe('python-localdep-app: requirements.txt with a local pyproject (setuptools) package', () => {
  let first: Build;
  beforeAll(async () => {
    first = await harnessBuild(path.join(APPS_DIR, 'python-localdep-app'), { builder: BUILDER, cacheDir });
    expect(first.failure).toBeUndefined();
  });

  it("pip builds and installs the local package with Debian's setuptools, no package index", async () => {
    expect(logText(first)).toContain('Successfully installed greeting-1.0.0');
    const { status, body } = await get(first);
    expect(status).toBe(200);
    expect(body).toContain('Hello, Toolforge, from a local package!');
    expect(body).toContain('/layers/toolforge_python/venv/lib/python3.11/site-packages/greeting/__init__.py');
  });

  it('is reproducible: a cold build without cache gives the same image (hash-based .pyc files)', async () => {
    const again = await harnessBuild(path.join(APPS_DIR, 'python-localdep-app'), { builder: BUILDER });
    expect(again.failure).toBeUndefined();
    expect(again.result?.digest).toBe(first.result?.digest);
    const out = await shell(
      first,
      "python -c \"import importlib.util as u, greeting; f=open(u.cache_from_source(greeting.__file__),'rb'); f.read(4); print('pyc-flags', int.from_bytes(f.read(4), 'little'))\"",
    );
    expect(out).toContain('pyc-flags 3'); // checked hash-based .pyc (PEP 552), thanks to SOURCE_DATE_EPOCH
  });

  it('a pyproject.toml project is installed into the venv with pip install .', async () => {
    const b = await harnessBuild(
      {
        'pyproject.toml':
          '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "mytool"\nversion = "0.1.0"\n\n[project.scripts]\nmytool = "mytool:main"\n',
        'mytool/__init__.py': 'def main():\n    print("mytool ran")\n',
        Procfile: 'web: mytool\n',
      },
      { builder: BUILDER, cacheDir },
    );
    expect(b.failure).toBeUndefined();
    expect(logText(b)).toContain('Successfully installed mytool-0.1.0');
    expect(await shell(b, 'mytool')).toContain('mytool ran');
  });
});
