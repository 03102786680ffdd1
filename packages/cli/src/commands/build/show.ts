import { Command } from '@commander-js/extra-typings';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { printMessages, renderBuild } from './format.ts';

export function showCommand(ctx: GetContext) {
  return new Command('show')
    .description('show a build (default: the latest)')
    .argument('[BUILD_ID]', 'the build (default: the latest)')
    .option('--json', 'print the API response as JSON')
    .action(
      run(
        ctx,
        async (c, id) => {
          const tool = c.tool();
          const res = id
            ? await c.api().call('get', { params: { toolname: tool, id } })
            : await c.api().call('latest', { params: { toolname: tool } });
          printMessages(c, res.messages);
          return res;
        },
        (res, c) => renderBuild(res.build, c),
      ),
    );
}
