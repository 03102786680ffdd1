import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sharedFile } from './shared.ts';

type Schema = Record<string, unknown>;

/**
 * Validate response bodies against the reference builds API spec (shared/reference/…openapi.yaml), the
 * subset of JSON Schema it uses: type, properties, items, additionalProperties, enum, allOf, $ref.
 * Extra properties are allowed (ours are additions); every documented one must have the documented type.
 */
export class ReferenceSpec {
  readonly doc: Schema;
  constructor(file: string) {
    this.doc = parse(readFileSync(file, 'utf8')) as Schema;
  }

  static load(): ReferenceSpec | undefined {
    const file = sharedFile('reference/toolforge-builds-api.openapi.yaml');
    return file ? new ReferenceSpec(file) : undefined;
  }

  private deref(node: unknown): Schema {
    let cur = node as Schema;
    while (cur && typeof cur.$ref === 'string') {
      cur = cur.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((acc, p) => (acc as Schema)?.[p], this.doc) as Schema;
    }
    return cur ?? {};
  }

  /** Problems with `value` against the schema of operation `method path` for `status` (empty = valid). */
  check(method: string, path: string, status: number, value: unknown): string[] {
    const op = ((this.doc.paths as Schema)[path] as Schema | undefined)?.[method.toLowerCase()] as
      | Schema
      | undefined;
    if (!op) return [`${method} ${path}: not in the reference`];
    const response = this.deref((op.responses as Schema)[String(status)]);
    if (!response.content) return [`${method} ${path}: status ${status} not documented by the reference`];
    const schema = Object.values(response.content as Record<string, { schema: unknown }>)[0]?.schema;
    const out: string[] = [];
    this.validate(schema, value, '$', out);
    return out;
  }

  private validate(node: unknown, value: unknown, where: string, out: string[]): void {
    const s = this.deref(node);
    if (Array.isArray(s.allOf)) for (const part of s.allOf) this.validate(part, value, where, out);
    const type = s.type as string | undefined;
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (type === 'object' && actual !== 'object')
      return void out.push(`${where}: expected object, got ${actual}`);
    if (type === 'array' && actual !== 'array')
      return void out.push(`${where}: expected array, got ${actual}`);
    if ((type === 'string' || type === 'boolean') && actual !== type)
      return void out.push(`${where}: expected ${type}, got ${actual}`);
    if (Array.isArray(s.enum) && !s.enum.includes(value))
      out.push(`${where}: ${JSON.stringify(value)} is not one of ${s.enum.join(', ')}`);
    if (actual === 'object') {
      const obj = value as Record<string, unknown>;
      for (const [k, sub] of Object.entries((s.properties as Schema) ?? {}))
        if (k in obj) this.validate(sub, obj[k], `${where}.${k}`, out);
      for (const k of (s.required as string[]) ?? []) if (!(k in obj)) out.push(`${where}.${k}: required`);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        for (const [k, v] of Object.entries(obj))
          if (!(s.properties as Schema)?.[k]) this.validate(s.additionalProperties, v, `${where}.${k}`, out);
      }
    }
    if (actual === 'array' && s.items) {
      for (const [i, v] of (value as unknown[]).entries()) this.validate(s.items, v, `${where}[${i}]`, out);
    }
  }
}
