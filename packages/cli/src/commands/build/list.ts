import { Command } from '@commander-js/extra-typings';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { envvarList, na, printMessages, statusStyle, statusWord, table } from './format.ts';

export function listCommand(ctx: GetContext) {
  return new Command('list')
    .description("list the tool's builds, newest first")
    .option('--json', 'print the API response as JSON')
    .action(
      run(
        ctx,
        async (c) => {
          const res = await c.api().call('list', { params: { toolname: c.tool() } });
          printMessages(c, res.messages);
          return res;
        },
        (res, c) => {
          if (!res.builds.length) return 'No builds found, you can start one using `toolforge build start`.';
          return table(
            [
              'build_id',
              'status',
              'start_time',
              'end_time',
              'source_url',
              'ref',
              'envvars',
              'use_latest_versions',
              'destination_image',
            ],
            res.builds.map((b) => {
              const word = statusWord(b.status);
              return [
                b.build_id,
                c.out.style(word, statusStyle(word)),
                na(b.start_time),
                na(b.end_time),
                b.parameters.source_url,
                na(b.parameters.ref),
                envvarList(b),
                b.parameters.use_latest_versions ? 'True' : 'False',
                na(b.destination_image),
              ];
            }),
          );
        },
      ),
    );
}
