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
  for await (const { line } of ctx
    .api()
    .stream('logs', { params: { toolname: tool, id }, query: { follow: true } })) {
    if (opts.quiet) continue;
    const m = line.match(STEP);
    if (m && m[1] !== step) {
      step = m[1] as string;
      ctx.out.progress(`» ${step.replace(/^step-/, '')}`);
    }
    ctx.out.line(ctx.out.opts.verbose ? line : m ? line.slice(m[0].length) : line);
  }
  const { build } = await ctx.api().call('get', { params: { toolname: tool, id } });
  if (build.status !== 'BUILD_SUCCESS') ctx.exitCode = EXIT.FAILED;
  if (opts.showStatus !== false && !ctx.out.opts.json) {
    const word = statusWord(build.status);
    ctx.out.progress(`Build ${id}: ${ctx.out.style(word, statusStyle(word))}`);
    if (build.status === 'BUILD_SUCCESS') ctx.out.info(`Image: ${build.destination_image}`);
    else {
      if (build.message) ctx.out.progress(build.message);
      if (build.hint) ctx.out.progress(`hint: ${build.hint}`);
    }
  }
  return build;
}
