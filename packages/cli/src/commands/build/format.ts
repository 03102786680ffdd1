import type { Build, ResponseMessages } from '@toolforge/api/contract';
import type { CommandContext } from '../../context.ts';
import type { Style } from '../../output.ts';

/** Upstream's status words: BUILD_SUCCESS → ok, BUILD_FAILURE → error, the rest lower-cased. */
export function statusWord(status: string): string {
  const w = status.replace(/^BUILD_/, '').toLowerCase();
  return w === 'success' ? 'ok' : w === 'failure' ? 'error' : w;
}

export function statusStyle(word: string): Style {
  return word === 'ok' || word === 'cancelled'
    ? 'green'
    : word === 'error' || word === 'timeout'
      ? 'red'
      : 'yellow';
}

export const na = (s: string | undefined | null) => (s ? s : 'N/A');

export function envvarList(b: Build): string {
  const names = Object.keys(b.parameters.envvars ?? {});
  return names.length ? names.join(',') : 'N/A';
}

/** Info and warnings the API sent along (upstream's weld client prints them the same way). */
export function printMessages(ctx: CommandContext, m: ResponseMessages | undefined): void {
  for (const i of m?.info ?? []) ctx.out.info(i);
  for (const w of m?.warning ?? []) ctx.out.warn(w);
}

/** A plain aligned table (tabulate's "plain" format). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** The `show` rendering: upstream's key/value lines (`Status: ok` is grepped by Toolforge's own tests). */
export function renderBuild(b: Build, ctx: CommandContext): string {
  const word = statusWord(b.status);
  const lines = [
    `Build ID: ${b.build_id}`,
    `Start Time: ${na(b.start_time)}`,
    `End Time: ${na(b.end_time)}`,
    `Status: ${ctx.out.style(word, statusStyle(word))}`,
    `Message: ${na(b.message)}`,
  ];
  if (b.phase && b.phase !== 'done') lines.push(`Phase: ${b.phase}`);
  if (b.queue_position) lines.push(`Queue position: ${b.queue_position}`);
  if (b.failure_reason) lines.push(`Failure reason: ${b.failure_reason}`);
  if (b.hint) lines.push(`Hint: ${b.hint}`);
  lines.push(
    'Parameters:',
    `    Source URL: ${b.parameters.source_url}`,
    `    Ref: ${na(b.parameters.ref)}`,
    `    Envvars: ${envvarList(b)}`,
    `Use latest versions: ${b.parameters.use_latest_versions ? 'True' : 'False'}`,
    `Use deprecated versions: ${b.parameters.use_deprecated_versions ? 'True' : 'False'}`,
    `Resolved ref: ${na(b.resolved_ref)}`,
    `Destination Image: ${na(b.destination_image)}`,
  );
  if (b.inputs?.builder_image) lines.push(`Builder: ${b.inputs.builder_image}`);
  if (b.inputs?.run_image) lines.push(`Run image: ${b.inputs.run_image}`);
  if (b.timings?.length)
    lines.push(`Timings: ${b.timings.map((t) => `${t.phase} ${t.seconds.toFixed(1)}s`).join(', ')}`);
  return lines.join('\n');
}
