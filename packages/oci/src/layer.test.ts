import { createReadStream } from 'node:fs';
import { chmod, link, mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompress } from './decompress.ts';
import { sha256 } from './digest.ts';
import { compareBytes, layerFromDirectory, layerFromEntries, NORMALIZED_MTIME } from './layer.ts';
import { MediaTypes } from './media-types.ts';
import { readTar, type TarHeader } from './tar/reader.ts';
import { run, tempDir } from './testing/fixtures.ts';

async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'a/x'), { recursive: true });
  await mkdir(join(root, 'B'));
  await writeFile(join(root, 'a.txt'), 'a-dot-txt');
  await writeFile(join(root, 'a/x/deep'), 'deep');
  await writeFile(join(root, 'B/exec'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'B/exec'), 0o755);
  await writeFile(join(root, 'big.bin'), Buffer.alloc(3 << 20, 7)); // beyond the sync small-file path
  await symlink('a/x/deep', join(root, 'rel-link'));
  await symlink('/etc/passwd', join(root, 'abs-link'));
  await link(join(root, 'a.txt'), join(root, 'hard'));
  await chmod(join(root, 'a'), 0o750);
}

async function entries(file: string): Promise<Array<TarHeader & { data: Buffer }>> {
  const out = [];
  for await (const e of readTar(decompress(createReadStream(file))))
    out.push({ ...e.header, data: await e.buffer() });
  return out;
}

const parents = [
  { name: '/layers', uid: 0, gid: 0, mode: 0o755 },
  { name: '/layers/example_node', uid: 1000, gid: 1000, mode: 0o755 },
];

describe('layerFromDirectory', () => {
  it('writes lifecycle-style entries: parents, walk order, fixed owner and mtime, links kept', async () => {
    await using dir = await tempDir();
    const root = join(dir.path, 'node');
    await makeTree(root);
    // A socket must be skipped.
    const server = createServer().listen(join(root, 'sock'));
    await new Promise((r) => server.once('listening', r));
    try {
      const out = join(dir.path, 'layer.tgz');
      const r = await layerFromDirectory(
        { root, prefix: '/layers/example_node/node', parents, uid: 1001, gid: 1002 },
        out,
      );
      expect(r.mediaType).toBe(MediaTypes.ociLayerGzip);
      const list = await entries(out);
      const p = '/layers/example_node/node';
      expect(list.map((e) => e.name)).toEqual([
        '/layers/',
        '/layers/example_node/',
        `${p}/`,
        `${p}/B/`, // byte order: 'B' < 'a'
        `${p}/B/exec`,
        `${p}/a/`, // filepath.Walk: a's subtree before the sibling 'a.txt'
        `${p}/a/x/`,
        `${p}/a/x/deep`,
        `${p}/a.txt`,
        `${p}/abs-link`,
        `${p}/big.bin`,
        `${p}/hard`,
        `${p}/rel-link`,
      ]);
      const by = (n: string) => list.find((e) => e.name === `${p}/${n}`)!;
      expect(list[1]).toMatchObject({ uid: 1000, gid: 1000 });
      for (const e of list.slice(2)) {
        expect(e).toMatchObject({ uid: 1001, gid: 1002, uname: '', gname: '' });
        expect(e.mtime).toBe(NORMALIZED_MTIME.getTime() / 1000);
      }
      expect(by('a/').mode).toBe(0o750);
      expect(by('B/exec')).toMatchObject({ type: 'file', mode: 0o755 });
      expect(by('B/exec').data.toString()).toBe('#!/bin/sh\necho hi\n');
      expect(by('rel-link')).toMatchObject({ type: 'symlink', linkname: 'a/x/deep' });
      expect(by('abs-link')).toMatchObject({ type: 'symlink', linkname: '/etc/passwd' });
      expect(by('hard')).toMatchObject({ type: 'file' }); // hard links are not special-cased
      expect(by('hard').data.toString()).toBe('a-dot-txt');
      expect(by('big.bin').data.equals(Buffer.alloc(3 << 20, 7))).toBe(true);

      // One pass computed both digests: check them against the bytes.
      const blob = await readFile(out);
      expect(r.digest).toBe(sha256(blob));
      expect(r.size).toBe(blob.length);
      const tar = gunzipSync(blob);
      expect(r.diffID).toBe(sha256(tar));
      expect(r.uncompressedSize).toBe(tar.length);
      // Deterministic gzip header: no mtime, no file name.
      expect([...blob.subarray(3, 8)]).toEqual([0, 0, 0, 0, 0]);
    } finally {
      server.close();
    }
  });

  it('is deterministic: same tree twice, and different on-disk mtimes and owners, give the same digests', async () => {
    await using dir = await tempDir();
    const root = join(dir.path, 'tree');
    await makeTree(root);
    const opts = { root, prefix: '/workspace', uid: 1000, gid: 1000 };
    const first = await layerFromDirectory(opts, join(dir.path, '1.tgz'));
    const second = await layerFromDirectory(opts, join(dir.path, '2.tgz'));
    expect(second).toEqual(first);
    await utimes(join(root, 'a.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
    await utimes(join(root, 'a'), new Date('2021-01-01'), new Date('2021-01-01'));
    await writeFile(join(root, 'B/exec'), '#!/bin/sh\necho hi\n'); // rewritten: new mtime, same content
    const third = await layerFromDirectory(opts, join(dir.path, '3.tgz'));
    expect(third).toEqual(first);
    expect((await readFile(join(dir.path, '3.tgz'))).equals(await readFile(join(dir.path, '1.tgz')))).toBe(
      true,
    );
    await writeFile(join(root, 'a.txt'), 'changed');
    expect((await layerFromDirectory(opts, join(dir.path, '4.tgz'))).diffID).not.toBe(first.diffID);
  });

  it('builds layers concurrently with the same results as one at a time', async () => {
    await using dir = await tempDir();
    const roots = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const root = join(dir.path, `t${i}`);
        await makeTree(root);
        await writeFile(join(root, 'id'), String(i));
        return root;
      }),
    );
    const one = (root: string, i: number, tag: string) =>
      layerFromDirectory({ root, prefix: '/l', uid: 0, gid: 0 }, join(dir.path, `${tag}${i}.tgz`));
    const sequential = [];
    for (const [i, root] of roots.entries()) sequential.push(await one(root, i, 's'));
    const parallel = await Promise.all(roots.map((root, i) => one(root, i, 'p')));
    expect(parallel).toEqual(sequential);
    expect(new Set(parallel.map((r) => r.diffID)).size).toBe(3);
  });

  it('honours exclude, empty prefix and uncompressed output', async () => {
    await using dir = await tempDir();
    const root = join(dir.path, 'tree');
    await makeTree(root);
    const out = join(dir.path, 'layer.tar');
    const r = await layerFromDirectory(
      {
        root,
        prefix: '',
        uid: 0,
        gid: 0,
        compression: 'none',
        exclude: (rel) => rel === 'a' || rel === 'big.bin',
      },
      out,
    );
    expect(r.mediaType).toBe(MediaTypes.ociLayer);
    expect(r.digest).toBe(r.diffID);
    expect(r.digest).toBe(sha256(await readFile(out)));
    const names = (await entries(out)).map((e) => e.name);
    expect(names).toEqual(['B/', 'B/exec', 'a.txt', 'abs-link', 'hard', 'rel-link']);
  });

  it('extracts with GNU tar to the same tree', async () => {
    await using dir = await tempDir();
    const root = join(dir.path, 'tree');
    await makeTree(root);
    const out = join(dir.path, 'layer.tgz');
    await layerFromDirectory({ root, prefix: '/app', uid: 0, gid: 0 }, out);
    await mkdir(join(dir.path, 'x'));
    await run('tar', ['-xzf', out, '-C', join(dir.path, 'x')]);
    // diff exits non-zero on any difference (content, symlink targets, file types).
    await run('diff', ['-r', '--no-dereference', root, join(dir.path, 'x/app')]);
  });
});

describe('layerFromEntries', () => {
  it('writes the given entries in order with defaults, reading sources from disk', async () => {
    await using dir = await tempDir();
    const src = join(dir.path, 'launcher');
    await writeFile(src, 'LAUNCHER');
    const out = join(dir.path, 'l.tgz');
    const r = await layerFromEntries(
      [
        { name: '/cnb', type: 'directory' },
        { name: '/cnb/lifecycle/launcher', type: 'file', source: src, mode: 0o755 },
        { name: '/cnb/process/web', type: 'symlink', linkname: '/cnb/lifecycle/launcher' },
        { name: '/cnb/config.toml', type: 'file', data: 'x = 1\n', uid: 5 },
      ],
      out,
      { uid: 1000, gid: 1000 },
    );
    const list = await entries(out);
    expect(list.map((e) => [e.name, e.type, e.mode, e.uid])).toEqual([
      ['/cnb/', 'directory', 0o755, 1000],
      ['/cnb/lifecycle/launcher', 'file', 0o755, 1000],
      ['/cnb/process/web', 'symlink', 0o777, 1000],
      ['/cnb/config.toml', 'file', 0o644, 5],
    ]);
    expect(list[1]?.data.toString()).toBe('LAUNCHER');
    const again = await layerFromEntries(
      [
        { name: '/cnb', type: 'directory' },
        { name: '/cnb/lifecycle/launcher', type: 'file', data: 'LAUNCHER', mode: 0o755 },
        { name: '/cnb/process/web', type: 'symlink', linkname: '/cnb/lifecycle/launcher' },
        { name: '/cnb/config.toml', type: 'file', data: 'x = 1\n', uid: 5 },
      ],
      join(dir.path, 'l2.tgz'),
      { uid: 1000, gid: 1000 },
    );
    expect(again.digest).toBe(r.digest);
  });

  it('removes the partial output when an entry fails', async () => {
    await using dir = await tempDir();
    const out = join(dir.path, 'bad.tgz');
    await expect(
      layerFromEntries([{ name: '/x', type: 'file', source: join(dir.path, 'missing') }], out),
    ).rejects.toThrow(/ENOENT/);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('compareBytes', () => {
  it('orders like Go sort.Strings (UTF-8 bytes)', () => {
    const names = ['b', 'B', 'a.txt', 'a', '\u{1F600}', '\uFF21', '_'];
    expect(names.sort(compareBytes)).toEqual(['B', '_', 'a', 'a.txt', 'b', '\uFF21', '\u{1F600}']);
  });
});
