// OpenPGP verification of clearsigned files (InRelease) with gpgv, judged the way apt does: from the
// machine-readable status lines, not the exit code. gpgv exits non-zero as soon as any signature is by
// a key missing from the keyring (Debian signs with several keys, some for releases the keyring may not
// know yet), and it writes the signed text even when a signature is bad.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../exec.ts';

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface Verified {
  /** The signed text only: anything outside the signature is dropped by gpgv. */
  text: string;
  /** Fingerprints of the keys that made a good signature. */
  signers: string[];
}

export class SignatureError extends Error {}

export async function verifyClearsigned(signed: Buffer, keyring = DEBIAN_KEYRING): Promise<Verified> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-gpgv-'));
  try {
    await writeFile(join(dir, 'in'), signed);
    const { stdout, stderr } = await run(
      'gpgv',
      ['--status-fd', '1', '--keyring', keyring, '--output', join(dir, 'out'), join(dir, 'in')],
      { okCodes: [1, 2] },
    );
    const status = stdout.toString().split('\n');
    const has = (tag: string) => status.some((l) => l.startsWith(`[GNUPG:] ${tag} `));
    // A signature that fails to verify means tampering or corruption, whatever the other signatures say.
    if (has('BADSIG')) throw new SignatureError(`bad OpenPGP signature: ${stderr.trim()}`);
    // VALIDSIG follows a good signature by a usable key; expired or revoked keys report EXPKEYSIG or
    // REVKEYSIG instead of GOODSIG, so require both.
    const signers = status
      .filter((l) => l.startsWith('[GNUPG:] VALIDSIG '))
      .map((l) => l.split(' ')[2] ?? '');
    if (!has('GOODSIG') || signers.length === 0)
      throw new SignatureError(`no valid OpenPGP signature by a key in ${keyring}: ${stderr.trim()}`);
    return { text: await readFile(join(dir, 'out'), 'utf8'), signers };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
