import { Command, Option } from '@commander-js/extra-typings';
import type { Job } from '@toolforge/api/contract';
import { printMessages, table } from '../build/format.ts';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';

const jobType = (j: Job) =>
  j.schedule ? `schedule: ${j.schedule}` : j.continuous ? 'continuous' : 'one-off';

/** `show`: the jobs CLI's key/value lines. */
function renderJob(j: Job): string {
  return [
    `Job name: ${j.name}`,
    `Command: ${j.cmd}`,
    `Job type: ${jobType(j)}`,
    `Image: ${j.imagename} (${j.image.ref})`,
    `Mounts: ${j.mount}`,
    ...(j.memory || j.cpu ? [`Resources: mem: ${j.memory ?? 'default'}, cpu: ${j.cpu ?? 'default'}`] : []),
    `Status: ${j.status_short}`,
    `Hints: ${j.status_long}`,
    ...(j.status.restarts ? [`Restarts: ${j.status.restarts}`] : []),
    ...(j.status.last_run
      ? [
          `Last run: ${j.status.last_run.started_at}${j.status.last_run.exit_code != null ? ` (exit code ${j.status.last_run.exit_code})` : ''}`,
        ]
      : []),
    ...(j.status.next_run ? [`Next run: ${j.status.next_run}`] : []),
  ].join('\n');
}

/** `toolforge jobs …`: run built (or curated) images as jobs; Procfile process names work as commands. */
export function jobsCommand(ctx: GetContext) {
  const jobs = new Command('jobs').description('run jobs from images (one-off, scheduled or continuous)');
  jobs.addCommand(
    new Command('run')
      .description('run a job (a job of that name is replaced)')
      .argument('<NAME>', 'the job name')
      .requiredOption('--image <IMAGE>', 'e.g. tool-<tool>/<image>:latest (see `toolforge images list`)')
      .requiredOption('--command <CMD>', 'what to run; for built images a Procfile process name works')
      .option('--schedule <CRON>', 'run on a cron schedule (5 fields, UTC)')
      .option('--continuous', 'keep it running: restart it whenever it exits')
      .addOption(
        new Option('--mount <MOUNT>', 'mount the tool home at /data/project/<tool>').choices([
          'none',
          'all',
        ] as const),
      )
      .option('--port <PORT>', 'the port a continuous job listens on ($PORT)')
      .option('--mem <QUANTITY>', 'memory, e.g. 512Mi')
      .option('--cpu <QUANTITY>', 'CPU, e.g. 0.5')
      .option('--json', 'print the API response as JSON')
      .action(
        run(
          ctx,
          async (c, name, o) => {
            const res = await c.api().call('jobsRun', {
              params: { toolname: c.tool() },
              body: {
                name,
                cmd: o.command,
                imagename: o.image,
                ...(o.schedule ? { schedule: o.schedule } : {}),
                continuous: Boolean(o.continuous),
                ...(o.mount ? { mount: o.mount } : {}),
                ...(o.port ? { port: Number(o.port) } : {}),
                ...(o.mem ? { memory: o.mem } : {}),
                ...(o.cpu ? { cpu: o.cpu } : {}),
              },
            });
            printMessages(c, res.messages);
            return res;
          },
          () => '',
        ),
      ),
  );
  jobs.addCommand(
    new Command('list')
      .description("list the tool's jobs")
      .option('--json', 'print the API response as JSON')
      .action(
        run(
          ctx,
          async (c) => await c.api().call('jobsList', { params: { toolname: c.tool() } }),
          (res) =>
            res.jobs.length
              ? table(
                  ['Job name', 'Job type', 'Status'],
                  res.jobs.map((j) => [j.name, jobType(j), j.status_short]),
                )
              : 'No jobs found',
        ),
      ),
  );
  jobs.addCommand(
    new Command('show')
      .description('show a job and its status')
      .argument('<NAME>')
      .option('--json', 'print the API response as JSON')
      .action(
        run(
          ctx,
          async (c, name) => c.api().call('jobsShow', { params: { toolname: c.tool(), name } }),
          (r) => renderJob(r.job),
        ),
      ),
  );
  jobs.addCommand(
    new Command('logs')
      .description("print a job's output")
      .argument('<NAME>')
      .option('-f, --follow', 'keep printing new output')
      .action(
        run(
          ctx,
          async (c, name, o) => {
            for await (const { line } of c.api().stream('jobsLogs', {
              params: { toolname: c.tool(), name },
              query: { follow: Boolean(o.follow) },
            }))
              c.out.line(line);
            return undefined;
          },
          () => '',
        ),
      ),
  );
  for (const [verb, op, done] of [
    ['delete', 'jobsDelete', 'stop a job and remove it'],
    ['restart', 'jobsRestart', 'stop a job and start it again'],
  ] as const) {
    jobs.addCommand(
      new Command(verb)
        .description(done)
        .argument('<NAME>')
        .action(
          run(
            ctx,
            async (c, name) => {
              const res = await c.api().call(op, { params: { toolname: c.tool(), name } });
              printMessages(c, res.messages);
              if (verb === 'restart') c.out.info(`Job '${name}' restarted.`);
              return undefined;
            },
            () => '',
          ),
        ),
    );
  }
  return jobs;
}
