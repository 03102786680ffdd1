import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../context.ts';
import { buildCommand } from './build/index.ts';
import { completionCommand } from './completion.ts';
import { configCommand } from './config.ts';
import { imagesCommand } from './images/index.ts';
import { jobsCommand } from './jobs/index.ts';
import { webserviceCommand } from './webservice/index.ts';

export type GetContext = () => CommandContext;

/** Adds every command group to the program. */
export function registerCommands(program: Command, ctx: GetContext): void {
  program.addCommand(buildCommand(ctx));
  program.addCommand(imagesCommand(ctx));
  program.addCommand(webserviceCommand(ctx));
  program.addCommand(jobsCommand(ctx));
  program.addCommand(configCommand(ctx));
  program.addCommand(completionCommand(ctx, () => program));
  inherit(program);
}

/** Commands built with `new Command()` miss the program's settings (exitOverride, output): copy them down. */
function inherit(parent: Command): void {
  for (const child of parent.commands as Command[]) {
    child.copyInheritedSettings(parent);
    inherit(child);
  }
}
