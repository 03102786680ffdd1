import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Descriptor, type OciLayout, writeImage } from '@toolforge/oci';
import { buildpackLayer } from './buildpack-layer.ts';

const CREATED = '1980-01-01T00:00:01Z';

/**
 * Package a buildpack as an OCI buildpack image (CNB distribution spec): one layer with the buildpack at
 * /cnb/buildpacks/<id>/<version>, and the `io.buildpacks.buildpackage.metadata` and
 * `io.buildpacks.buildpack.layers` labels, so a platform (our Tekton pipeline, pack, kpack) can add it to a
 * builder. Tagged `toolforge/buildpack-<name>:<version>` in the layout.
 */
export async function packageBuildpack(
  layout: OciLayout,
  dir: string,
): Promise<{ ref: string; descriptor: Descriptor; id: string; version: string }> {
  const stage = await mkdtemp(path.join(os.tmpdir(), 'tf-package-'));
  try {
    const { descriptor, layer } = await buildpackLayer(layout, dir, stage);
    const { id, version } = descriptor.buildpack;
    const ref = `toolforge/buildpack-${id.split('/').pop()}:${version}`;
    const written = await writeImage(layout, {
      config: {
        created: CREATED,
        architecture: 'amd64',
        os: 'linux',
        config: {
          Labels: {
            'io.buildpacks.buildpackage.metadata': JSON.stringify({
              id,
              version,
              ...(descriptor.buildpack.homepage ? { homepage: descriptor.buildpack.homepage } : {}),
              ...(descriptor.targets ? { targets: descriptor.targets } : { stacks: [{ id: '*' }] }),
            }),
            'io.buildpacks.buildpack.layers': JSON.stringify({
              [id]: {
                [version]: {
                  api: descriptor.api,
                  layerDiffID: layer.diffID,
                  ...(descriptor.targets ? { targets: descriptor.targets } : {}),
                },
              },
            }),
          },
        },
        history: [{ created: CREATED, created_by: `buildpack ${id}@${version}` }],
      },
      layers: [layer],
      ref,
    });
    return { ref, descriptor: written.manifest, id, version };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
