import { Command } from '@commander-js/extra-typings';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { printMessages, table } from './format.ts';

/** `toolforge build versions`: the builder/run image pairs `-L` and `--use-deprecated-versions` pick. */
export function versionsCommand(ctx: GetContext) {
  return new Command('versions')
    .description('show the builder and run images builds use (default, latest, deprecated)')
    .option('--json', 'print the API response as JSON')
    .action(
      run(
        ctx,
        async (c) => {
          const res = await c.api().call('supportedVersions', {});
          printMessages(c, res.messages);
          return res;
        },
        (res) => {
          const rows = [
            ['default', res.default.builder, res.default.runner, ''],
            ['latest (-L)', res.latest.builder, res.latest.runner, ''],
          ];
          if (res.deprecated)
            rows.push([
              '--use-deprecated-versions',
              res.deprecated.builder,
              res.deprecated.runner,
              `${res.deprecated.is_valid ? 'until' : 'expired on'} ${res.deprecated.valid_until}`,
            ]);
          return table(['Versions', 'Builder', 'Run image', 'Valid'], rows);
        },
      ),
    );
}
