import { Command } from '@commander-js/extra-typings';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { latestId } from './latest.ts';

export function logsCommand(ctx: GetContext) {
  return new Command('logs')
    .description("print a build's log (default: the latest build)")
    .argument('[BUILD_ID]', 'the build (default: the latest)')
    .option('-f, --follow', 'keep printing until the build ends')
    .action(
      run(
        ctx,
        async (c, id, o) => {
          const tool = c.tool();
          const build = id ?? (await latestId(c));
          c.out.progress('Waiting for the logs... if the build just started this might take a minute');
          for await (const { line } of c.api().stream('logs', {
            params: { toolname: tool, id: build },
            query: { follow: Boolean(o.follow) },
          })) {
            c.out.line(line);
          }
          return undefined;
        },
        () => '',
      ),
    );
}
