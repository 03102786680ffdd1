import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerConfig, OciLayout } from '@toolforge/oci';
import { readImage, unpackImage, withFileLock } from '@toolforge/oci';
import type { Logger } from 'pino';
import type { ResolvedImage } from '../../workloads/port.ts';

/** Where an image's bytes are (the lead wires the images store in). */
export interface ImageSource {
  open(image: ResolvedImage): Promise<{ layout: OciLayout; ref: string }>;
}

export interface PreparedImage {
  /** The unpacked root file system: read-only for every workload of this digest. */
  rootfs: string;
  config: ContainerConfig;
}

const DIGEST_DIR = /^sha256:[0-9a-f]{64}$/;
/** Unpacking a large image takes a while: the lock must not be judged stale meanwhile. */
const LOCK = { timeoutMs: 60 * 60_000, staleMs: 60 * 60_000 };

/**
 * Root file systems unpacked once per digest, `<root>/<digest>/{rootfs,config.json}`, shared by every
 * workload of that image. Unpacked into a temporary folder and renamed (a folder that exists is complete),
 * under a per-digest lock file (also taken to remove one, so a removal never races an unpack).
 */
export class RootfsCache {
  private readonly root: string;
  private readonly images: ImageSource;
  private readonly log: Logger;
  private readonly pending = new Map<string, Promise<PreparedImage>>();

  constructor(root: string, images: ImageSource, log: Logger) {
    this.root = root;
    this.images = images;
    this.log = log;
  }

  async ensure(image: ResolvedImage): Promise<PreparedImage> {
    const digest = image.digest;
    if (!DIGEST_DIR.test(digest)) throw new Error(`bad digest ${digest}`);
    const ready = await this.load(digest);
    if (ready) return ready;
    let p = this.pending.get(digest);
    if (!p) {
      p = withFileLock(this.lockFile(digest), () => this.unpack(image), LOCK).finally(() =>
        this.pending.delete(digest),
      );
      this.pending.set(digest, p);
    }
    return p;
  }

  /** Remove unpacked images that `inUse()` (asked again under each lock) does not name, and leftovers. */
  async prune(inUse: () => Set<string>): Promise<void> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith('.unpack-') || name.startsWith('.trash-')) {
        // Only a crash leaves these; an unpack in progress in this process is skipped.
        if (this.pending.size === 0) await rm(path.join(this.root, name), { recursive: true, force: true });
        continue;
      }
      if (!DIGEST_DIR.test(name) || inUse().has(name) || this.pending.has(name)) continue;
      await withFileLock(
        this.lockFile(name),
        async () => {
          if (inUse().has(name) || this.pending.has(name)) return;
          const trash = path.join(this.root, `.trash-${randomBytes(6).toString('hex')}`);
          // Moved aside first: a half-removed folder is never taken for a complete one.
          if (
            !(await rename(path.join(this.root, name), trash).then(
              () => true,
              () => false,
            ))
          )
            return;
          await rm(trash, { recursive: true, force: true });
          this.log.info({ digest: name }, 'removed an unpacked image no workload uses any more');
        },
        LOCK,
      ).catch((err) => this.log.warn({ err, digest: name }, 'cannot remove an unpacked image'));
    }
  }

  private lockFile(digest: string): string {
    return path.join(this.root, `.${digest}.lock`);
  }

  private async load(digest: string): Promise<PreparedImage | undefined> {
    const dir = path.join(this.root, digest);
    try {
      const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as ContainerConfig;
      return { rootfs: path.join(dir, 'rootfs'), config };
    } catch {
      return undefined;
    }
  }

  private async unpack(image: ResolvedImage): Promise<PreparedImage> {
    const ready = await this.load(image.digest); // another process may have done it meanwhile
    if (ready) return ready;
    const started = Date.now();
    const { layout, ref } = await this.images.open(image);
    const read = await readImage(layout, ref);
    if (read.descriptor.digest !== image.digest && read.index?.descriptor.digest !== image.digest)
      throw new Error(`the image store has ${read.descriptor.digest} for ${image.ref}, not ${image.digest}`);
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    const tmp = await mkdtemp(path.join(this.root, '.unpack-'));
    try {
      const rootfs = path.join(tmp, 'rootfs');
      await mkdir(rootfs);
      // Owned by the service, not by the image's uids: inside the sandbox only the run's own host id maps
      // to a user, so the image's owners would show as nobody anyway, while on the host they could be real
      // local users (uid 1000 owning an app's /workspace could change it under every workload).
      await unpackImage(layout, ref, rootfs, { symlinks: 'rootfs', preserveOwnership: false });
      // The sandbox's unprivileged host id must reach everything it runs (only world bits apply to it).
      await chmod(rootfs, 0o755);
      await chmod(tmp, 0o755);
      await addMountPoints(rootfs);
      await writeFile(path.join(tmp, 'config.json'), JSON.stringify(read.config.config ?? {}), {
        mode: 0o600,
      });
      await rename(tmp, path.join(this.root, image.digest));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    this.log.info(
      { digest: image.digest, image: image.requested, ms: Date.now() - started },
      'unpacked an image for workloads',
    );
    return (await this.load(image.digest))!;
  }
}

/**
 * The read-only rootfs must already have the mount points: /tmp, /etc/resolv.conf, /data/project (a tmpfs
 * there holds the tool's home). Only created where missing, never through a symlink of the image (that
 * would point into the host's file system here).
 */
async function addMountPoints(rootfs: string): Promise<void> {
  const kind = async (p: string) => {
    const st = await lstat(path.join(rootfs, p)).catch(() => undefined);
    return !st ? 'missing' : st.isDirectory() ? 'dir' : 'other';
  };
  const dir = async (p: string) => {
    if ((await kind(path.dirname(p))) !== 'dir') return false;
    const k = await kind(p);
    if (k === 'missing') await mkdir(path.join(rootfs, p), { mode: 0o755 });
    return k !== 'other';
  };
  await dir('/tmp');
  if (await dir('/data')) await dir('/data/project');
  if ((await kind('/etc')) === 'dir' && (await kind('/etc/resolv.conf')) === 'missing') {
    // 'wx' is O_EXCL: it never follows a symlink created meanwhile.
    await writeFile(path.join(rootfs, 'etc/resolv.conf'), '', { flag: 'wx', mode: 0o644 });
  }
}
