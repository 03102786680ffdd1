import { Command, Option } from '@commander-js/extra-typings';
import type { Webservice } from '@toolforge/api/contract';
import type { CommandContext } from '../../context.ts';
import { CliError, EXIT } from '../../errors.ts';
import { printMessages } from '../build/format.ts';
import type { GetContext } from '../index.ts';

const ACTIONS = ['start', 'stop', 'restart', 'status', 'logs'] as const;
type Action = (typeof ACTIONS)[number];

function renderStatus(w: Webservice): string {
  return [
    `Your webservice of type ${w.type} is ${w.status.state}${w.url ? ` at ${w.url}` : ''}`,
    `Image: ${w.image} (${w.image_info.ref})`,
    `Mounts: ${w.mount}`,
    ...(w.status.restarts ? [`Restarts: ${w.status.restarts}`] : []),
    ...(w.status.state !== 'running' ? [`Hints: ${w.status.message}`] : []),
  ].join('\n');
}

/**
 * `toolforge webservice [TYPE] ACTION`: as Toolforge's webservice command, for images the build service
 * built (`toolforge webservice buildservice start --buildservice-image tool-<tool>/<image>:latest`).
 */
export function webserviceCommand(ctx: GetContext) {
  return new Command('webservice')
    .description("run the tool's webservice from an image it built")
    .argument('<args...>', `[TYPE] ACTION, ACTION one of ${ACTIONS.join(', ')}; TYPE: buildservice`)
    .option('--buildservice-image <IMAGE>', 'the image to run, e.g. tool-<tool>/<image>:latest')
    .addOption(
      new Option('--mount <MOUNT>', 'mount the tool home at /data/project/<tool>').choices([
        'none',
        'all',
      ] as const),
    )
    .option('--port <PORT>', 'the port the web process listens on ($PORT; default 8000)')
    .option('--mem <QUANTITY>', 'memory, e.g. 1Gi')
    .option('--cpu <QUANTITY>', 'CPU, e.g. 0.5')
    .option('-f, --follow', 'logs: keep printing new output')
    .option('--json', 'print the API response as JSON')
    .action(async (args, o) => {
      const c: CommandContext = ctx();
      const [first, second, ...rest] = args;
      const action = (second ?? first) as Action;
      const type = second ? first : undefined;
      if (rest.length || !ACTIONS.includes(action))
        throw new CliError(`Usage: toolforge webservice [TYPE] ${ACTIONS.join('|')}`, {
          exitCode: EXIT.USAGE,
        });
      if (type && type !== 'buildservice')
        throw new CliError(
          `Webservices of type ${type} are not run by this service: use buildservice with an image you built.`,
          {
            exitCode: EXIT.USAGE,
          },
        );
      const toolname = c.tool();
      if (action === 'start') {
        if (!o.buildserviceImage)
          throw new CliError('--buildservice-image is needed, e.g. tool-<tool>/<image>:latest', {
            exitCode: EXIT.USAGE,
          });
        const res = await c.api().call('webserviceStart', {
          params: { toolname },
          body: {
            type: 'buildservice',
            image: o.buildserviceImage,
            ...(o.mount ? { mount: o.mount } : {}),
            ...(o.port ? { port: Number(o.port) } : {}),
            ...(o.mem ? { memory: o.mem } : {}),
            ...(o.cpu ? { cpu: o.cpu } : {}),
          },
        });
        printMessages(c, res.messages);
        c.out.result(res, (r) => renderStatus(r.webservice));
      } else if (action === 'status' || action === 'restart') {
        const res = await c
          .api()
          .call(action === 'status' ? 'webserviceStatus' : 'webserviceRestart', { params: { toolname } });
        printMessages(c, res.messages);
        c.out.result(res, (r) => renderStatus(r.webservice));
      } else if (action === 'stop') {
        const res = await c.api().call('webserviceStop', { params: { toolname } });
        printMessages(c, res.messages);
      } else {
        for await (const { line } of c
          .api()
          .stream('webserviceLogs', { params: { toolname }, query: { follow: Boolean(o.follow) } }))
          c.out.line(line);
      }
    });
}
