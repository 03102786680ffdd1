import { mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunksOf, run, tarBytes, tempDir } from '../testing/fixtures.ts';
import { readTar, type TarHeader } from './reader.ts';
import { splitUstarName, TarWriter } from './writer.ts';

const LONG_DIR = `/layers/${'d'.repeat(60)}/${'e'.repeat(70)}`; // > 100 bytes: ustar prefix split
const VERY_LONG = `/x/${'f'.repeat(200)}/${'g'.repeat(100)}.txt`; // > 256: PAX path
const UNICODE = '/app/données/ファイル.txt'; // non-ASCII: PAX path
const LONG_LINK = `../${'t'.repeat(150)}`;

async function collect(buf: Buffer): Promise<Array<{ header: TarHeader; data: string }>> {
  const out = [];
  for await (const e of readTar(chunksOf(buf)))
    out.push({ header: e.header, data: (await e.buffer()).toString() });
  return out;
}

function sample() {
  return tarBytes([
    { name: '/layers/', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    { name: `${LONG_DIR}/`, type: 'directory', mode: 0o750, uid: 1000, gid: 1001 },
    { name: `${LONG_DIR}/file.txt`, data: 'hello', mode: 0o640, uid: 1000, gid: 1001 },
    { name: VERY_LONG, data: 'x'.repeat(1000), mode: 0o755 },
    { name: UNICODE, data: 'unicode' },
    { name: '/app/link', type: 'symlink', linkname: LONG_LINK, mode: 0o777 },
    { name: '/app/hard', type: 'hardlink', linkname: UNICODE },
    { name: '/app/setuid', data: '#!/bin/sh\n', mode: 0o4755 },
    { name: '/app/big-uid', data: '', uid: 3_000_000, gid: 70_000 },
  ]);
}

describe('tar writer and reader', () => {
  it('round-trips names, modes, owners, links and content', async () => {
    const entries = await collect(await sample());
    expect(entries.map((e) => e.header.name)).toEqual([
      '/layers/',
      `${LONG_DIR}/`,
      `${LONG_DIR}/file.txt`,
      VERY_LONG,
      UNICODE,
      '/app/link',
      '/app/hard',
      '/app/setuid',
      '/app/big-uid',
    ]);
    const [root, dir, file, veryLong, uni, link, hard, setuid, bigUid] = entries.map((e) => e.header);
    expect(root).toMatchObject({
      type: 'directory',
      mode: 0o755,
      mtime: 1_000_000_000,
      uname: '',
      gname: '',
    });
    expect(dir).toMatchObject({ type: 'directory', mode: 0o750, uid: 1000, gid: 1001 });
    expect(file).toMatchObject({ type: 'file', mode: 0o640, size: 5 });
    expect(entries[2]!.data).toBe('hello');
    expect(veryLong?.size).toBe(1000);
    expect(entries[3]!.data).toBe('x'.repeat(1000));
    expect(uni?.type).toBe('file');
    expect(link).toMatchObject({ type: 'symlink', linkname: LONG_LINK });
    expect(hard).toMatchObject({ type: 'hardlink', linkname: UNICODE });
    expect(setuid?.mode).toBe(0o4755);
    expect(bigUid).toMatchObject({ uid: 3_000_000, gid: 70_000 });
  });

  it('is read identically by GNU tar (listing and extraction)', async () => {
    await using dir = await tempDir();
    const archive = join(dir.path, 'a.tar');
    await writeFile(archive, await sample());
    const { stdout } = await run('tar', ['--numeric-owner', '-tvf', archive]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(9);
    expect(lines[0]).toMatch(/^drwxr-xr-x 0\/0 +0 2001-09-0[89] \d\d:\d\d \/layers\/$/);
    expect(lines[2]).toContain(`1000/1001`);
    expect(lines[2]).toMatch(/^-rw-r----- /);
    expect(lines[3]).toContain(VERY_LONG);
    expect(lines[4]).toContain(UNICODE);
    expect(lines[5]).toMatch(new RegExp(`^lrwxrwxrwx .* /app/link -> ${LONG_LINK}$`));
    expect(lines[6]).toContain(`/app/hard link to ${UNICODE.slice(1)}`); // GNU tar shows link targets relative
    expect(lines[7]).toMatch(/^-rwsr-xr-x /);
    expect(lines[8]).toContain('3000000/70000');

    const out = join(dir.path, 'out');
    await mkdir(out);
    await run('tar', ['-xf', archive, '-C', out, '--no-same-owner']);
    expect(await readFile(join(out, LONG_DIR, 'file.txt'), 'utf8')).toBe('hello');
    expect(await readFile(join(out, VERY_LONG), 'utf8')).toBe('x'.repeat(1000));
    expect(await readlink(join(out, 'app/link'))).toBe(LONG_LINK);
    expect((await stat(join(out, 'app/hard'))).ino).toBe((await stat(join(out, UNICODE))).ino);
    expect((await stat(join(out, LONG_DIR))).mode & 0o7777).toBe(0o750);
  });

  it('reads archives made by GNU tar in gnu (L/K long names) and posix (PAX) formats', async () => {
    await using dir = await tempDir();
    const src = join(dir.path, 'src');
    const longName = `${'n'.repeat(120)}/${'m'.repeat(120)}.txt`;
    await mkdir(join(src, 'n'.repeat(120)), { recursive: true });
    await writeFile(join(src, longName), 'long');
    await run('ln', ['-s', `../${'k'.repeat(130)}`, join(src, 'lnk')]);
    for (const format of ['gnu', 'posix']) {
      const archive = join(dir.path, `${format}.tar`);
      await run('tar', [`--format=${format}`, '-cf', archive, '-C', src, '.']);
      const entries = await collect(await readFile(archive));
      const file = entries.find((e) => e.header.name === `./${longName}`);
      expect(file?.data, format).toBe('long');
      expect(entries.find((e) => e.header.name === './lnk')?.header.linkname, format).toBe(
        `../${'k'.repeat(130)}`,
      );
    }
  });

  it('rejects a corrupt header and an archive truncated inside an entry', async () => {
    const good = await tarBytes([{ name: 'a', data: 'x'.repeat(2000) }]);
    const corrupt = Buffer.from(good);
    corrupt[10] = 0x41;
    await expect(collect(corrupt)).rejects.toThrow(/checksum/);
    await expect(collect(good.subarray(0, 1024))).rejects.toThrow(/unexpected end/);
  });

  it('lets the consumer skip bodies it does not read', async () => {
    const buf = await tarBytes([
      { name: 'a', data: 'A'.repeat(5000) },
      { name: 'b', data: 'B' },
    ]);
    const names: string[] = [];
    for await (const e of readTar(chunksOf(buf, 100))) names.push(e.header.name);
    expect(names).toEqual(['a', 'b']);
  });

  it('batches output into large chunks', async () => {
    const sizes: number[] = [];
    const w = new TarWriter((c) => {
      sizes.push(c.length);
    });
    for (let i = 0; i < 5000; i++)
      await w.addBuffer({ name: `f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, 'x');
    await w.finish();
    expect(sizes.length).toBeLessThanOrEqual(6); // 5000 × 1 KiB in 1 MiB batches
    expect(w.size).toBe(5000 * 1024 + 1024);
  });

  it('splits long ASCII names into ustar prefix and name, or asks for PAX', () => {
    expect(splitUstarName('short')).toEqual(['', 'short']);
    const [prefix, name] = splitUstarName(`${'a'.repeat(120)}/b/`) ?? [];
    expect(`${prefix}/${name}`).toBe(`${'a'.repeat(120)}/b/`);
    expect(splitUstarName(`/${'a'.repeat(150)}`)).toBeUndefined();
    expect(splitUstarName('é')).toBeUndefined();
  });
});
