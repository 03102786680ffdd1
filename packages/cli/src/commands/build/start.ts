import { Command, Option } from '@commander-js/extra-typings';
import { CliError, EXIT } from '../../errors.ts';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';
import { followBuild } from './follow.ts';
import { printMessages } from './format.ts';

function parseEnvvar(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0)
    throw new CliError(`--envvar wants NAME=value, got ${JSON.stringify(value)}`, { exitCode: EXIT.USAGE });
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

export function startCommand(ctx: GetContext) {
  return new Command('start')
    .description('start a build of a git repository; follows its log unless --detach')
    .argument('[SOURCE_GIT_URL]', 'URL of the public git repository to build')
    .option('--ref <ref>', 'branch, tag or commit to build (default: the repository HEAD)')
    .option('-i, --image-name <name>', 'name of the image (default: tool-<tool>)')
    .option('-e, --envvar <NAME=value>', 'build-time environment variable (repeatable)', parseEnvvar)
    .option('-L, --use-latest-versions', 'use the latest builder and run images')
    .addOption(
      new Option(
        '--use-deprecated-versions',
        'use the deprecated builder and run images while they are allowed',
      ),
    )
    .option('-D, --detach', 'do not follow the log')
    .option('--json', 'print machine-readable JSON (without --detach: waits and prints the final build)')
    .action(
      run(
        ctx,
        async (c, url, o) => {
          if (!url) {
            throw new CliError('Please provide a git url for your source code.', {
              exitCode: EXIT.USAGE,
              hint: 'Example: toolforge build start https://gitlab.wikimedia.org/toolforge-repos/my-tool',
            });
          }
          const tool = c.tool();
          const res = await c.api().call('start', {
            params: { toolname: tool },
            body: {
              source_url: url,
              ...(o.ref ? { ref: o.ref } : {}),
              ...(o.imageName ? { image_name: o.imageName } : {}),
              ...(o.envvar ? { envvars: o.envvar } : {}),
              use_latest_versions: Boolean(o.useLatestVersions),
              use_deprecated_versions: Boolean(o.useDeprecatedVersions),
            },
          });
          printMessages(c, res.messages);
          const name = res.new_build.name;
          if (o.detach) {
            if (!c.out.opts.json) {
              c.out.line(`Building '${url}', build name is '${name}'`);
              c.out.info(`You can see the status with:\n\ttoolforge build show ${name}`);
            }
            return res;
          }
          if (!c.out.opts.json)
            c.out.progress(
              `Build ${name} started; following its log (Ctrl-C stops following, not the build)`,
            );
          const build = await followBuild(c, name, { quiet: c.out.opts.json });
          return { ...res, build };
        },
        () => '',
      ),
    );
}
