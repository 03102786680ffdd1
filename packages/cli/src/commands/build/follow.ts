import type { Build } from '@toolforge/api/contract';
import type { CommandContext } from '../../context.ts';
import { EXIT } from '../../errors.ts';
import { statusStyle, statusWord } from './format.ts';

const STEP = /^\[([^\]]+)\] \S+ /;

/**
 * Stream a build's log to stdout (the text after `[step] timestamp`), announcing each new step on
 * stderr, then report how the build ended. Sets exit code 1 when the build did not succeed.
 */
export async function followBuild(
  ctx: CommandContext,
  id: string,
  opts: { quiet?: boolean; showStatus?: boolean } = {},
): Promise<Build> {
  const tool = ctx.tool();
  let step = '';
  const seen = new Set<string>();
  for await (const { line } of ctx
    .api()
    .stream('logs', { params: { toolname: tool, id }, query: { follow: true } })) {
    if (opts.quiet) continue;
    const m = line.match(STEP);
    if (m && m[1] !== step) {
      step = m[1] as string;
      ctx.out.progress(`» ${step.replace(/^step-/, '')}`);
    }
    const text = m ? line.slice(m[0].length) : line;
    seen.add(text);
    ctx.out.line(ctx.out.opts.verbose ? line : text);
  }
  const { build } = await ctx.api().call('get', { params: { toolname: tool, id } });
  if (build.status !== 'BUILD_SUCCESS') ctx.exitCode = EXIT.FAILED;
  if (opts.showStatus !== false && !ctx.out.opts.json) {
    const word = statusWord(build.status);
    ctx.out.progress(`Build ${id}: ${ctx.out.style(word, statusStyle(word))}`);
    if (build.status === 'BUILD_SUCCESS') ctx.out.info(`Image: ${build.destination_image}`);
    else {
      // The log usually ends with the failure already; only repeat what it did not say.
      const first = build.message.split('\n')[0] ?? '';
      if (first && !seen.has(first)) ctx.out.progress(build.message);
      if (build.hint && !seen.has(`hint: ${build.hint}`)) ctx.out.progress(`hint: ${build.hint}`);
    }
  }
  return build;
}
