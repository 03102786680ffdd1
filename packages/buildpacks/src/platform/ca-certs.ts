import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Locally added CA certificates (PEM), from a file or a folder of *.crt/*.pem files — by default the host's
 * /usr/local/share/ca-certificates, where an admin puts e.g. a TLS-inspecting proxy's CA. Builds on such a
 * machine can only reach the npm registry or Debian's archive over HTTPS when they trust it too.
 */
export function loadExtraCaCerts(location = '/usr/local/share/ca-certificates'): string | undefined {
  if (!existsSync(location)) return undefined;
  const files = statSync(location).isDirectory()
    ? readdirSync(location, { recursive: true })
        .map(String)
        .filter((f) => /\.(crt|pem)$/.test(f))
        .sort()
        .map((f) => path.join(location, f))
    : [location];
  const pem = files
    .map((f) => readFileSync(f, 'utf8').trim())
    .filter((t) => t.includes('-----BEGIN CERTIFICATE-----'))
    .join('\n');
  return pem ? `${pem}\n` : undefined;
}

/** The builder's CA bundle with the extra CAs appended, bound over it in the sandbox. */
export function combinedBundle(rootfs: string, extra: string): string {
  const own = path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt');
  const base = existsSync(own) ? readFileSync(own, 'utf8') : '';
  return `${base.trimEnd()}\n${extra}`;
}
