import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { digestHex, type OciLayout, readImage, unpackImage } from '@toolforge/oci';
import { z } from 'zod';
import type { Builder, RunImage } from '../platform/context.ts';
import { type Buildpack, BuildpackDescriptorSchema, OrderSchema } from '../platform/descriptor.ts';
import { parseToml } from '../platform/toml.ts';

const repoOf = (ref: string) => ref.replace(/(:[^/:@]+)?(@sha256:[0-9a-f]{64})?$/, '');

function envMap(env: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

const unpacking = new Map<string, Promise<string>>();

/** The image's filesystem, unpacked once per digest under `cacheDir` (reused by every build). */
export function unpackedRootfs(
  layout: OciLayout,
  ref: string,
  digest: string,
  cacheDir: string,
): Promise<string> {
  const dest = path.join(cacheDir, digestHex(digest));
  let p = unpacking.get(dest);
  if (!p) {
    p = (async () => {
      if (existsSync(path.join(dest, '.complete'))) return path.join(dest, 'rootfs');
      // A private partial folder: another process may unpack the same image at the same time.
      const partial = `${dest}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        await unpackImage(layout, ref, path.join(partial, 'rootfs'), {
          symlinks: 'rootfs',
          preserveOwnership: process.getuid?.() === 0,
        });
        writeFileSync(path.join(partial, '.complete'), new Date().toISOString());
        if (!existsSync(path.join(dest, '.complete'))) {
          await rm(dest, { recursive: true, force: true });
          await rename(partial, dest).catch((err: NodeJS.ErrnoException) => {
            if (!existsSync(path.join(dest, '.complete'))) throw err; // someone else won the race: fine
          });
        }
      } finally {
        await rm(partial, { recursive: true, force: true });
      }
      return path.join(dest, 'rootfs');
    })().finally(() => unpacking.delete(dest));
    unpacking.set(dest, p);
  }
  return p;
}

/** Load a builder from the stack store: unpacked rootfs, buildpacks and order. */
export async function loadBuilder(layout: OciLayout, ref: string, cacheDir: string): Promise<Builder> {
  const image = await readImage(layout, ref);
  const rootfs = await unpackedRootfs(layout, ref, image.descriptor.digest, cacheDir);
  const order = parseToml(
    readFileSync(path.join(rootfs, 'cnb/order.toml'), 'utf8'),
    z.object({ order: OrderSchema }),
    `${ref}:/cnb/order.toml`,
  ).order;
  const buildpacks: Buildpack[] = [];
  const root = path.join(rootfs, 'cnb/buildpacks');
  for (const esc of existsSync(root) ? readdirSync(root).sort() : []) {
    for (const version of readdirSync(path.join(root, esc)).sort()) {
      const hostDir = path.join(root, esc, version);
      const file = path.join(hostDir, 'buildpack.toml');
      buildpacks.push({
        descriptor: parseToml(
          readFileSync(file, 'utf8'),
          BuildpackDescriptorSchema,
          `${ref}:/cnb/buildpacks/${esc}/${version}/buildpack.toml`,
        ),
        dir: `/cnb/buildpacks/${esc}/${version}`,
        hostDir,
      });
    }
  }
  const env = envMap(image.config.config?.Env);
  return {
    reference: `${repoOf(ref)}@${image.descriptor.digest}`,
    rootfs,
    buildpacks,
    order,
    env,
    uid: Number(env.CNB_USER_ID ?? 1000),
    gid: Number(env.CNB_GROUP_ID ?? 1000),
  };
}

/** Load a run image from the stack store, with its target from the io.buildpacks.base.* labels. */
export async function loadRunImage(layout: OciLayout, ref: string): Promise<RunImage> {
  const image = await readImage(layout, ref);
  const labels = image.config.config?.Labels ?? {};
  const distroName = labels['io.buildpacks.base.distro.name'];
  const distroVersion = labels['io.buildpacks.base.distro.version'];
  return {
    image: ref,
    reference: `${repoOf(ref)}@${image.descriptor.digest}`,
    layout,
    manifestDescriptor: image.descriptor,
    manifest: image.manifest,
    config: image.config,
    target: {
      os: image.config.os,
      arch: image.config.architecture,
      ...(image.config.variant ? { variant: image.config.variant } : {}),
      ...(distroName && distroVersion ? { distro: { name: distroName, version: distroVersion } } : {}),
    },
  };
}
