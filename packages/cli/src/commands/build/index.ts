import { Command } from '@commander-js/extra-typings';
import type { GetContext } from '../index.ts';
import { bulkCommand } from './bulk.ts';
import { cleanCommand } from './clean.ts';
import { listCommand } from './list.ts';
import { logsCommand } from './logs.ts';
import { quotaCommand } from './quota.ts';
import { showCommand } from './show.ts';
import { startCommand } from './start.ts';
import { versionsCommand } from './versions.ts';

/** `toolforge build …`: the builds API from the terminal, text output as upstream's CLI prints it. */
export function buildCommand(ctx: GetContext) {
  return new Command('build')
    .description('build images from git repositories with buildpacks')
    .addCommand(startCommand(ctx))
    .addCommand(logsCommand(ctx))
    .addCommand(listCommand(ctx))
    .addCommand(showCommand(ctx))
    .addCommand(bulkCommand(ctx, 'cancel'))
    .addCommand(bulkCommand(ctx, 'delete'))
    .addCommand(quotaCommand(ctx))
    .addCommand(cleanCommand(ctx))
    .addCommand(versionsCommand(ctx));
}
