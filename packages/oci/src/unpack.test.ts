import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UnsafeArchiveError, type UnsafeReason } from './errors.ts';
import { layerFromDirectory } from './layer.ts';
import { chunksOf, type RawEntry, run, tarBytes, tempDir } from './testing/fixtures.ts';
import { type UnpackOptions, UnpackSession, unpackLayer } from './unpack.ts';

/** Unpacks into <tmp>/root; <tmp>/outside is a sibling that must never change. */
async function attempt(entries: RawEntry[], options: UnpackOptions = {}) {
  const dir = await tempDir();
  const dest = join(dir.path, 'root');
  const outside = join(dir.path, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'passwd'), 'secret');
  const result = await unpackLayer(chunksOf(await tarBytes(entries)), dest, options).then(
    () => undefined,
    (err: unknown) => err,
  );
  const outsideAfter = await readdir(outside);
  const siblings = (await readdir(dir.path)).sort();
  return { dir, dest, result, outsideAfter, siblings };
}

async function expectRefused(entries: RawEntry[], reason: UnsafeReason, options: UnpackOptions = {}) {
  const { dir, result, outsideAfter, siblings } = await attempt(entries, options);
  await using _ = dir;
  expect(result).toBeInstanceOf(UnsafeArchiveError);
  expect((result as UnsafeArchiveError).reason).toBe(reason);
  expect(outsideAfter).toEqual(['passwd']);
  expect(siblings).toEqual(['outside', 'root']);
  return result as UnsafeArchiveError;
}

describe('unpackLayer refuses unsafe archives', () => {
  it('refuses .. components, wherever they are', async () => {
    const err = await expectRefused([{ name: '../outside/x', data: 'pwned' }], 'dotdot');
    expect(err.entry).toBe('../outside/x');
    await expectRefused([{ name: '/abs/../../outside/x', data: 'pwned' }], 'dotdot');
    await expectRefused([{ name: 'a/../../x', type: 'directory' }], 'dotdot');
  });

  it('refuses absolute symlinks under the contained policy and accepts them for rootfs', async () => {
    await expectRefused([{ name: 'etc', type: 'symlink', linkname: '/etc' }], 'absolute-symlink');
    const ok = await attempt([{ name: 'etc', type: 'symlink', linkname: '/etc' }], { symlinks: 'rootfs' });
    await using _ = ok.dir;
    expect(ok.result).toBeUndefined();
    expect(await readlink(join(ok.dest, 'etc'))).toBe('/etc');
  });

  it('refuses relative symlinks that climb out of the root, under both policies', async () => {
    for (const symlinks of ['contained', 'rootfs'] as const) {
      await expectRefused([{ name: 'x', type: 'symlink', linkname: '../../x' }], 'symlink-escapes-root', {
        symlinks,
      });
      await expectRefused(
        [{ name: 'a/b', type: 'symlink', linkname: '../../outside' }],
        'symlink-escapes-root',
        {
          symlinks,
        },
      );
    }
  });

  it('refuses symlink chains that only escape together (contained)', async () => {
    await expectRefused(
      [
        { name: 'l', type: 'symlink', linkname: 'a/..' }, // harmless while a is missing...
        { name: 'a', type: 'symlink', linkname: '.' }, // ...until a points at the root
      ],
      'symlink-escapes-root',
    );
  });

  it('refuses hard links to paths outside the root or missing', async () => {
    await expectRefused([{ name: 'pw', type: 'hardlink', linkname: '/etc/passwd' }], 'hardlink-missing');
    await expectRefused(
      [{ name: 'pw', type: 'hardlink', linkname: '../outside/passwd' }],
      'hardlink-outside-root',
    );
    await expectRefused(
      [
        { name: 'out', type: 'symlink', linkname: '/', mode: 0o777 },
        { name: 'pw', type: 'hardlink', linkname: 'out/etc/passwd' },
      ],
      'hardlink-missing',
      { symlinks: 'rootfs' },
    );
    await expectRefused(
      [
        { name: 'd', type: 'directory' },
        { name: 'pw', type: 'hardlink', linkname: 'd' },
      ],
      'hardlink-to-directory',
    );
  });

  it('refuses devices and fifos', async () => {
    await expectRefused([{ name: 'null', type: 'char-device', devmajor: 1, devminor: 3 }], 'device');
    await expectRefused([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }], 'device');
    await expectRefused([{ name: 'pipe', type: 'fifo' }], 'fifo');
  });

  it('never writes through a symlinked parent', async () => {
    // contained: refused outright.
    await expectRefused(
      [
        { name: 'sub', type: 'symlink', linkname: 'real' },
        { name: 'real', type: 'directory' },
        { name: 'sub/pwned', data: 'x' },
      ],
      'symlink-parent',
    );
    // rootfs: an absolute link is followed *inside* the root.
    const r = await attempt(
      [
        { name: 'escape', type: 'symlink', linkname: '/' },
        { name: 'escape/outside/passwd', data: 'pwned' },
      ],
      { symlinks: 'rootfs' },
    );
    await using _ = r.dir;
    expect(r.result).toBeUndefined();
    expect(await readFile(join(r.dir.path, 'outside/passwd'), 'utf8')).toBe('secret');
    expect(await readFile(join(r.dest, 'outside/passwd'), 'utf8')).toBe('pwned');
  });

  it('replaces an existing symlink instead of writing through it', async () => {
    const r = await attempt(
      [
        { name: 'f', type: 'symlink', linkname: '/etc/hostname' },
        { name: 'f', data: 'plain' },
      ],
      { symlinks: 'rootfs' },
    );
    await using _ = r.dir;
    expect(r.result).toBeUndefined();
    expect((await lstat(join(r.dest, 'f'))).isFile()).toBe(true);
  });
});

describe('unpackLayer', () => {
  it('extracts what layerFromDirectory archived (gzip), same tree', async () => {
    await using dir = await tempDir();
    const src = join(dir.path, 'src');
    await mkdir(join(src, 'sub/deeper'), { recursive: true });
    await writeFile(join(src, 'sub/deeper/f'), 'content');
    await writeFile(join(src, 'big'), Buffer.alloc(1 << 20, 3));
    await run('ln', ['-s', 'sub/deeper/f', join(src, 'link')]);
    const layer = join(dir.path, 'l.tgz');
    await layerFromDirectory({ root: src, prefix: '/app', uid: 0, gid: 0 }, layer);
    const dest = join(dir.path, 'dest');
    const stats = await unpackLayer(createReadStream(layer), dest);
    expect(stats.entries).toBe(6); // /app/, big, link, sub/, sub/deeper/, sub/deeper/f
    await run('diff', ['-r', '--no-dereference', src, join(dest, 'app')]);
  });

  it('reads uncompressed and zstd layers too', async () => {
    await using dir = await tempDir();
    const tar = await tarBytes([{ name: 'x', data: 'zstd' }]);
    await unpackLayer(chunksOf(zstdCompressSync(tar)), join(dir.path, 'z'));
    await unpackLayer(chunksOf(tar), join(dir.path, 'p'));
    expect(await readFile(join(dir.path, 'z/x'), 'utf8')).toBe('zstd');
    expect(await readFile(join(dir.path, 'p/x'), 'utf8')).toBe('zstd');
  });

  it('strips setuid/setgid unless asked to keep them, and applies modes and mtimes', async () => {
    await using dir = await tempDir();
    const entries: RawEntry[] = [
      { name: './ro/', type: 'directory', mode: 0o555, mtime: 1_500_000_000 },
      { name: './ro/suid', data: 'x', mode: 0o6755, mtime: 1_400_000_000 },
      { name: './sticky/', type: 'directory', mode: 0o1777 },
    ];
    const a = join(dir.path, 'a');
    await unpackLayer(chunksOf(await tarBytes(entries)), a);
    expect((await stat(join(a, 'ro/suid'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(a, 'ro'))).mode & 0o7777).toBe(0o555);
    expect((await stat(join(a, 'sticky'))).mode & 0o7777).toBe(0o1777);
    expect((await stat(join(a, 'ro'))).mtimeMs).toBe(1_500_000_000_000);
    expect((await stat(join(a, 'ro/suid'))).mtimeMs).toBe(1_400_000_000_000);
    const b = join(dir.path, 'b');
    await unpackLayer(chunksOf(await tarBytes(entries)), b, { keepSetid: true });
    expect((await stat(join(b, 'ro/suid'))).mode & 0o7777).toBe(0o6755);
  });

  it.runIf(process.getuid?.() === 0)('keeps archive ownership only when asked (as root)', async () => {
    await using dir = await tempDir();
    const entries: RawEntry[] = [
      { name: 'd/', type: 'directory', uid: 1234, gid: 2345 },
      { name: 'd/f', data: 'x', uid: 1234, gid: 2345 },
      { name: 'l', type: 'symlink', linkname: 'd/f', uid: 1234, gid: 2345 },
    ];
    await unpackLayer(chunksOf(await tarBytes(entries)), join(dir.path, 'keep'), { preserveOwnership: true });
    for (const p of ['d', 'd/f', 'l']) {
      expect(await lstat(join(dir.path, 'keep', p))).toMatchObject({ uid: 1234, gid: 2345 });
    }
    await unpackLayer(chunksOf(await tarBytes(entries)), join(dir.path, 'drop'));
    expect(await stat(join(dir.path, 'drop/d/f'))).toMatchObject({ uid: 0, gid: 0 });
  });

  it('applies whiteouts and opaque directories to lower layers only', async () => {
    await using dir = await tempDir();
    const dest = join(dir.path, 'root');
    const session = await UnpackSession.open(dest);
    await session.apply(
      chunksOf(
        await tarBytes([
          { name: 'a/', type: 'directory' },
          { name: 'a/f1', data: '1' },
          { name: 'a/f2', data: '2' },
          { name: 'b/', type: 'directory' },
          { name: 'b/old', data: 'old' },
          { name: 'b/sub/', type: 'directory' },
          { name: 'b/sub/older', data: 'older' },
          { name: 'c', data: 'c' },
          { name: 'd/', type: 'directory' },
          { name: 'd/x', data: 'x' },
        ]),
      ),
    );
    await session.apply(
      chunksOf(
        await tarBytes([
          { name: 'a/.wh.f1', data: '' },
          { name: '.wh.c', data: '' },
          { name: '.wh.d', data: '' },
          { name: 'b/new', data: 'new' }, // written before the opaque marker: must survive it
          { name: 'b/.wh..wh..opq', data: '' },
          { name: 'b/sub/newer', data: 'newer' },
          { name: '.wh.missing', data: '' },
        ]),
        100,
      ),
    );
    session.finish();
    expect((await readdir(dest)).sort()).toEqual(['a', 'b']);
    expect(await readdir(join(dest, 'a'))).toEqual(['f2']);
    expect((await readdir(join(dest, 'b'))).sort()).toEqual(['new', 'sub']);
    expect(await readdir(join(dest, 'b/sub'))).toEqual(['newer']);
  });

  it('lets a later entry replace a directory by a file and a file by a directory', async () => {
    await using dir = await tempDir();
    const dest = join(dir.path, 'r');
    await unpackLayer(
      chunksOf(
        await tarBytes([
          { name: 'x/', type: 'directory' },
          { name: 'x/y', data: 'y' },
          { name: 'x', data: 'now a file' },
          { name: 'f', data: 'file' },
          { name: 'f/', type: 'directory', mode: 0o700 },
        ]),
      ),
      dest,
    );
    expect(await readFile(join(dest, 'x'), 'utf8')).toBe('now a file');
    expect((await stat(join(dest, 'f'))).isDirectory()).toBe(true);
  });
});
