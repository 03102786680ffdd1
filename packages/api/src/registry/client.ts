import { RegistryClient } from '@toolforge/oci';
import type { Config } from '../config.ts';

/** A registry client at `url` with the service's registry credentials, when it has some. */
export function registryClientFor(
  url: string,
  config: Pick<Config, 'TOOLFORGE_REGISTRY_USERNAME' | 'TOOLFORGE_REGISTRY_PASSWORD'>,
): RegistryClient {
  return new RegistryClient({
    url,
    ...(config.TOOLFORGE_REGISTRY_USERNAME
      ? {
          credentials: {
            username: config.TOOLFORGE_REGISTRY_USERNAME,
            password: config.TOOLFORGE_REGISTRY_PASSWORD ?? '',
          },
        }
      : {}),
  });
}
