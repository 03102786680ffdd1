import { Command } from '@commander-js/extra-typings';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { printMessages, table } from './format.ts';

export function quotaCommand(ctx: GetContext) {
  return new Command('quota')
    .description("show the tool's image storage quota")
    .option('--json', 'print the API response as JSON')
    .action(
      run(
        ctx,
        async (c) => {
          const res = await c.api().call('quota', { params: { toolname: c.tool() } });
          printMessages(c, res.messages);
          return res;
        },
        (res) =>
          res.quota.categories
            .map((cat) =>
              [
                cat.name,
                '='.repeat(19),
                ...cat.items.map((i) =>
                  [
                    i.name,
                    '-'.repeat(11),
                    table(
                      ['Limit', 'Used', 'Available', 'Capacity'],
                      [[i.limit, i.used, i.available, i.capacity]],
                    ),
                  ].join('\n'),
                ),
              ].join('\n'),
            )
            .join('\n\n'),
      ),
    );
}
