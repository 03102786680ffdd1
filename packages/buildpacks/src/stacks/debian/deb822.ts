// Parser for Debian control-file paragraphs (deb822): Packages indexes, Release files, dpkg status.
// Field names are case-insensitive, so they are looked up lower-cased; the raw text of each paragraph is
// kept so it can be written back (e.g. into /var/lib/dpkg/status) without re-serialising.

export interface Stanza {
  /** Lower-cased field name → value; continuation lines are kept after a `\n`, leading space included. */
  fields: Map<string, string>;
  /** The paragraph exactly as read, without the trailing blank line. */
  raw: string;
}

export function parseStanza(raw: string): Stanza {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of raw.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current === undefined)
        throw new Error(`continuation line before any field: ${JSON.stringify(line)}`);
      fields.set(current, `${fields.get(current)}\n${line}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed control line: ${JSON.stringify(line)}`);
    current = line.slice(0, colon).toLowerCase();
    fields.set(current, line.slice(colon + 1).trim());
  }
  return { fields, raw };
}

/** Splits on blank lines (a line with only whitespace counts as blank, as in dpkg). */
export function parseDeb822(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split(/\n(?:[ \t]*\n)+/)) {
    const raw = block.replace(/^(?:[ \t]*\n)+|\n+$/g, '');
    if (raw.trim() === '') continue;
    stanzas.push(parseStanza(raw));
  }
  return stanzas;
}

/** The lines of a multi-line field (e.g. `SHA256:` in a Release file), trimmed, empty ones dropped. */
export function fieldLines(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
