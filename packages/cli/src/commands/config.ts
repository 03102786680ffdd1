import { Command } from '@commander-js/extra-typings';
import type { CliConfig, Source } from '../config.ts';
import type { GetContext } from './index.ts';
import { run } from './run.ts';

type Shown = { config_file: string; settings: Record<string, { value: unknown; source: Source }> };

/** `toolforge config show`: the effective settings and where each came from (secrets masked). */
export function configCommand(ctx: GetContext) {
  const config = new Command('config').description('show the CLI configuration');
  config
    .command('show')
    .description('print the effective settings and where each comes from')
    .action(
      run(
        ctx,
        async (c): Promise<Shown> => {
          const settings: Shown['settings'] = {};
          for (const [name, value] of Object.entries(c.config) as [keyof CliConfig, unknown][]) {
            settings[name] = {
              value: name === 'token' && value ? '***' : (value ?? null),
              source: c.sources[name],
            };
          }
          return { config_file: c.configFile, settings };
        },
        (shown) =>
          [
            `Config file: ${shown.config_file}`,
            ...Object.entries(shown.settings).map(([k, s]) => `${k}: ${s.value ?? '(unset)'} (${s.source})`),
          ].join('\n'),
      ),
    );
  return config;
}
