import { Command } from '@commander-js/extra-typings';
import { ApiClientError } from '@toolforge/api/contract';
import type { CommandContext } from '../../context.ts';
import { CliError, EXIT } from '../../errors.ts';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';

type Verb = 'cancel' | 'delete';

/** `cancel` and `delete`: several ids or --all, a confirmation, and exit 1 when any item failed. */
export function bulkCommand(ctx: GetContext, verb: Verb) {
  return new Command(verb)
    .description(verb === 'cancel' ? 'cancel pending or running builds' : 'delete builds and their logs')
    .argument('[BUILD_IDS...]', 'the builds')
    .option('--all', verb === 'cancel' ? 'every pending or running build' : 'every build')
    .option('-y, --yes-i-know', 'do not ask for confirmation')
    .option('--json', 'print the results as JSON')
    .action(
      run(
        ctx,
        async (c: CommandContext, ids, o) => {
          const tool = c.tool();
          let targets = ids;
          if (o.all) {
            const { builds } = await c.api().call('list', { params: { toolname: tool } });
            targets = builds
              .filter(
                (b) => verb === 'delete' || b.status === 'BUILD_PENDING' || b.status === 'BUILD_RUNNING',
              )
              .map((b) => b.build_id);
          }
          if (!targets.length) {
            if (o.all) return { results: [] };
            throw new CliError(`Give the ids of the builds to ${verb}, or --all.`, { exitCode: EXIT.USAGE });
          }
          if (
            !o.yesIKnow &&
            !(await c.confirm(`I'm going to ${verb} ${targets.length} build(s), continue?`))
          ) {
            throw new CliError('Nothing done.', {
              hint: 'Pass -y to skip the question (needed when not on a terminal).',
            });
          }
          const results: { id: string; ok: boolean; message: string }[] = [];
          for (const id of targets) {
            try {
              await c.api().call(verb, { params: { toolname: tool, id } });
              results.push({ id, ok: true, message: verb === 'cancel' ? 'cancelled' : 'deleted' });
            } catch (err) {
              if (!(err instanceof ApiClientError) || err.kind !== 'http') throw err;
              results.push({ id, ok: false, message: err.message });
              c.exitCode = EXIT.FAILED;
            }
          }
          return { results };
        },
        ({ results }) =>
          results.length
            ? results.map((r) => `${r.ok ? '' : 'Error: '}${r.id}: ${r.message}`).join('\n')
            : `No builds to ${verb}.`,
      ),
    );
}
