import { Command } from '@commander-js/extra-typings';
import { CliError } from '../../errors.ts';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { printMessages } from './format.ts';

export function cleanCommand(ctx: GetContext) {
  return new Command('clean')
    .description("remove the tool's built images (images that running webservices or jobs use are kept)")
    .option('--keep-latest', 'keep the latest image of each name')
    .option('-y, --yes-i-know', 'do not ask for confirmation')
    .option('--json', 'print the API response as JSON')
    .action(
      run(
        ctx,
        async (c, o) => {
          if (
            !o.yesIKnow &&
            !(await c.confirm(
              'This will remove all your built images (except those running webservices or jobs use); you will have to start a new build before being able to restart any other webservice or job. Continue?',
            ))
          ) {
            throw new CliError('Nothing done.', {
              hint: 'Pass -y to skip the question (needed when not on a terminal).',
            });
          }
          const res = await c
            .api()
            .call('clean', { params: { toolname: c.tool() }, query: { keep_latest: Boolean(o.keepLatest) } });
          printMessages(c, res.messages);
          return res;
        },
        () => 'If you still need more space, please contact a toolforge maintainer (https://w.wiki/6Zuu).',
      ),
    );
}
