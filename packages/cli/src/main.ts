import os from 'node:os';
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { ApiClientError } from '@toolforge/api/contract';
import { registerCommands } from './commands/index.ts';
import { configPath, readConfigFile, resolveConfig } from './config.ts';
import { type CommandContext, makeApi, requireTool } from './context.ts';
import { CliError, EXIT } from './errors.ts';
import { Output, type Streams } from './output.ts';
import { VERSION } from './version.ts';

export interface MainDeps {
  streams: Streams;
  env: NodeJS.ProcessEnv;
  /** Answers confirmation prompts; undefined when stdin is not a terminal. */
  ask?: (question: string) => Promise<string>;
}

export type GlobalOptions = {
  json?: boolean;
  verbose?: boolean;
  debug?: boolean;
  apiUrl?: string;
  tool?: string;
};

/** The command tree. Global flags are read in a preAction hook, which builds the context commands get. */
export function createProgram(deps: MainDeps, holder: { ctx?: CommandContext }): Command {
  const program = new Command('toolforge')
    .description('Toolforge command line: build images from git with buildpacks, and run them')
    .version(VERSION, '--version', 'print the version')
    .option('--json', 'print machine-readable JSON')
    .addOption(new Option('-v, --verbose', 'print more about what happens').env('TOOLFORGE_VERBOSE'))
    .addOption(
      new Option('-d, --debug', 'print debugging details, including error causes').env('TOOLFORGE_DEBUG'),
    )
    .option('--api-url <url>', 'the build service URL (default http://127.0.0.1:8000)')
    .option('--tool <name>', 'the tool to act for')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.streams.stdout.write(s),
      writeErr: (s) => deps.streams.stderr.write(s),
    });
  program.hook('preAction', async (_this, action) => {
    const g = action.optsWithGlobals() as GlobalOptions;
    const out = new Output(deps.streams, {
      json: Boolean(g.json),
      verbose: Boolean(g.verbose),
      debug: Boolean(g.debug),
    });
    const file = configPath(deps.env);
    const loaded = await readConfigFile(file);
    const resolved = resolveConfig({ apiUrl: g.apiUrl, tool: g.tool }, deps.env, loaded.value);
    for (const w of loaded.warnings) out.warn(w);
    const errors = [...loaded.errors, ...resolved.errors];
    if (errors.length) throw new CliError(errors.join('\n'), { exitCode: EXIT.USAGE });
    const { config, sources } = resolved.value;
    let api: ReturnType<typeof makeApi> | undefined;
    holder.ctx = {
      out,
      config,
      sources,
      configFile: file,
      api: () => {
        api ??= makeApi(config, `toolforge-cli/${VERSION} (${os.hostname()})`);
        return api;
      },
      tool: () => requireTool(config),
      confirm: async (question) => {
        if (!deps.ask) return false;
        const answer = await deps.ask(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      },
      exitCode: EXIT.OK,
    };
  });
  registerCommands(program, () => {
    if (!holder.ctx) throw new Error('context used before the preAction hook ran');
    return holder.ctx;
  });
  return program;
}

/** Turn any failure into a message for the user and an exit code. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ApiClientError) {
    if (err.kind === 'network') {
      return new CliError('The build service seems to be down – please retry in a few minutes.', {
        hint: err.message,
        cause: err,
      });
    }
    const server = err.status !== undefined && err.status >= 500;
    return new CliError(err.message, {
      ...(err.hint
        ? { hint: err.hint }
        : server
          ? { hint: 'If this persists, report it to the Toolforge admins: https://w.wiki/6Zuu' }
          : {}),
      ...(err.code ? { code: err.code } : {}),
      cause: err,
    });
  }
  return new CliError(`unexpected error: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    code: 'INTERNAL',
  });
}

export async function main(argv: string[], deps: MainDeps): Promise<number> {
  const holder: { ctx?: CommandContext } = {};
  const program = createProgram(deps, holder);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return holder.ctx?.exitCode ?? EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; every other commander error is a usage error.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const e = toCliError(err);
    const out =
      holder.ctx?.out ??
      new Output(deps.streams, {
        json: argv.includes('--json'),
        verbose: false,
        debug: argv.includes('--debug'),
      });
    out.error(e);
    return e.exitCode;
  }
}
