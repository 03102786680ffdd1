import { AppError } from '../errors.ts';

/** Tool names as Toolforge allows them (Kubernetes namespace `tool-<name>` must stay a DNS label). */
export const TOOL_NAME = /^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$/;

/** Envvar names as upstream accepts them (at least three characters); CNB_* belong to the platform. */
export const ENVVAR_NAME = /^[A-Za-z_][A-Za-z_0-9]{2,}$/;

/** An image name is one OCI path component (no `/`), lower case, at most 128 characters. */
export const IMAGE_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export interface EnvvarLimits {
  maxCount: number;
  maxValueBytes: number;
  maxTotalBytes: number;
}

const invalid = (problems: string[]) =>
  new AppError('VALIDATION_FAILED', `Bad parameters passed: ${problems.join('; ')}`, { details: problems });

export function validateImageName(name: string): void {
  const problems: string[] = [];
  if (name.length > 128) problems.push('image_name: at most 128 characters');
  if (name.includes('/'))
    problems.push('image_name: must not contain "/" (it is one name inside your tool\'s project)');
  if (name.includes('..')) problems.push('image_name: must not contain ".."');
  if (/[A-Z]/.test(name)) problems.push('image_name: must be lower case');
  if (!problems.length && !IMAGE_NAME.test(name)) {
    problems.push('image_name: use lower-case letters, digits and single ".", "_" or "-" between them');
  }
  if (problems.length) throw invalid(problems);
}

/** Names, reserved prefixes, NUL bytes and the documented size limits. Values may contain newlines. */
export function validateEnvvars(envvars: Record<string, string>, limits: EnvvarLimits): void {
  const problems: string[] = [];
  const names = Object.keys(envvars);
  if (names.length > limits.maxCount) problems.push(`envvars: at most ${limits.maxCount} variables`);
  let total = 0;
  for (const name of names) {
    const value = envvars[name] ?? '';
    if (!ENVVAR_NAME.test(name))
      problems.push(
        `envvars: invalid name ${JSON.stringify(name)} (letters, digits and _, at least 3, not starting with a digit)`,
      );
    else if (name.toUpperCase().startsWith('CNB_'))
      problems.push(`envvars: ${name}: names starting with CNB_ are reserved for the platform`);
    if (value.includes('\0')) problems.push(`envvars: ${name}: the value contains a NUL byte`);
    const bytes = Buffer.byteLength(value);
    if (bytes > limits.maxValueBytes)
      problems.push(`envvars: ${name}: the value is over ${limits.maxValueBytes} bytes`);
    total += bytes + Buffer.byteLength(name);
  }
  if (total > limits.maxTotalBytes) problems.push(`envvars: over ${limits.maxTotalBytes} bytes in total`);
  if (problems.length) throw invalid(problems);
}

/** A git ref as a user may give it: a branch, a tag, `refs/…`, or a 40-hex commit. */
export function validateRef(ref: string): void {
  const bad =
    ref.length > 255 ||
    ref.startsWith('-') ||
    ref.startsWith('/') ||
    ref.endsWith('/') ||
    ref.endsWith('.lock') ||
    ref.endsWith('.') ||
    ref.includes('..') ||
    ref.includes('@{') ||
    ref.includes('//') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
    /[\u0000-\u0020\u007f~^:?*[\\]/.test(ref);
  if (bad)
    throw invalid([`ref: ${JSON.stringify(ref.slice(0, 80))} is not a valid branch, tag or commit name`]);
}
