import { parse, stringify } from 'smol-toml';
import type { z } from 'zod';

/** A file a buildpack (or an operator) wrote that we could not accept; carries where it came from. */
export class InvalidFileError extends Error {
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'InvalidFileError';
    this.file = file;
  }
}

/** Parse TOML and validate it; errors name the file and the first problem, never a stack trace. */
export function parseToml<T>(text: string, schema: z.ZodType<T>, file: string): T {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new InvalidFileError(file, `not valid TOML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidFileError(file, `${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function toToml(value: Record<string, unknown>): string {
  return `${stringify(value)}\n`;
}
