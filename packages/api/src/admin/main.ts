#!/usr/bin/env node
// toolforge-admin: operator commands that act on this machine's data folder directly (not over HTTP):
// stacks and builders, the image catalogue, tools and their tokens.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ensureStacks, packageBuildpack, stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout, pushImage } from '@toolforge/oci';
import { stringify } from 'yaml';
import { DEFAULT_CATALOGUE_FILE, ensureCatalogue } from '../catalogue/ensure.ts';
import { catalogueLocation, catalogueSource } from '../catalogue/factory.ts';
import { PublishRefused } from '../catalogue/publish.ts';
import { FileCatalogueSource } from '../catalogue/source.ts';
import { registryClientFor } from '../registry/client.ts';
import { TOOL_NAME } from '../services/validation.ts';
import { openDatabase } from '../store/db.ts';
import { ToolsRepo } from '../store/tools-repo.ts';
import { catalogueCommands } from './catalogue.ts';
import { AdminError, config, err, out } from './common.ts';

function tools() {
  const c = config();
  return { repo: new ToolsRepo(openDatabase(path.join(c.TOOLFORGE_DATA_DIR, 'builds.sqlite'))), config: c };
}

/** Write the user's CLI config with the new token (mode 0600: it is a credential). */
async function writeCliConfig(file: string, settings: { api_url: string; tool: string; token: string }) {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, stringify(settings), { mode: 0o600 });
  await chmod(file, 0o600);
}

const defaultCliConfig = () =>
  process.env.TOOLFORGE_CONFIG ??
  path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'toolforge', 'config.yaml');

function issueToken(repo: ToolsRepo, tool: string, description: string) {
  return repo.issueToken(tool, description);
}

const program = new Command('toolforge-admin')
  .description('Operate a Toolforge build service on this machine (its data folder: TOOLFORGE_DATA_DIR)')
  .exitOverride();

const stack = program
  .command('stack')
  .description('the Debian stacks (build and run images) and the builders');
stack
  .command('ensure')
  .description('build the stacks and builders when missing or out of date (run by ./scripts/start)')
  .option('--refresh', 're-read Debian indexes and build a new pair when Debian has updates')
  .option(
    '--catalogue <file>',
    'the catalogue to build and publish when it is a file',
    DEFAULT_CATALOGUE_FILE,
  )
  .action(async (o) => {
    const c = config();
    const t0 = Date.now();
    const progress = (e: { stage: string; detail: string }) =>
      err(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${e.stage}: ${e.detail}`);
    const dir = c.TOOLFORGE_STACK_DIR ?? c.TOOLFORGE_DATA_DIR;
    const r = await ensureStacks(dir, { refresh: Boolean(o.refresh), progress });
    out(`run image:   ${r.run.ref} ${r.run.digest}`);
    out(`build image: ${r.build.ref} ${r.build.digest}`);
    for (const b of r.builders) out(`builder:     ${b.ref} ${b.digest}${b.rebuilt ? ' (new)' : ''}`);
    // The embedded default publishes its catalogue to a file; a cluster's is published by its operators.
    const target = catalogueSource(catalogueLocation(c), c);
    if (!(target instanceof FileCatalogueSource)) return;
    try {
      const cat = await ensureCatalogue(target, {
        file: o.catalogue,
        stackDir: dir,
        layout: await OciLayout.open(stackStorePaths(dir).layout),
        force: r.stacksRebuilt,
        progress,
      });
      out(
        `catalogue:   revision ${cat.revision} in ${target.description}${cat.status === 'published' ? ' (new)' : ''}`,
      );
    } catch (e) {
      if (e instanceof PublishRefused) throw new AdminError(`${e.message}:\n  ${e.problems.join('\n  ')}`);
      throw e;
    }
  });
stack
  .command('refresh')
  .description('same as `ensure --refresh`: a new stack pair after Debian updates')
  .action(async () => {
    await program.parseAsync(['stack', 'ensure', '--refresh'], { from: 'user' });
  });

const buildpack = program.command('buildpack').description('our buildpacks as OCI buildpack images');
buildpack
  .command('package <dir>')
  .description(
    'package a buildpack folder as an OCI buildpack image (CNB distribution spec) in the stack store',
  )
  .option(
    '--push <registry-url>',
    'also push it (e.g. https://tools-harbor.wmcloud.org); credentials from TOOLFORGE_REGISTRY_USERNAME/PASSWORD',
  )
  .action(async (dir, o) => {
    const c = config();
    const layout = await OciLayout.open(
      stackStorePaths(c.TOOLFORGE_STACK_DIR ?? c.TOOLFORGE_DATA_DIR).layout,
      { create: true },
    );
    const p = await packageBuildpack(layout, path.resolve(dir));
    out(`${p.ref} ${p.descriptor.digest} (${p.id}@${p.version})`);
    if (o.push) {
      const client = registryClientFor(o.push, c);
      const [repo = p.ref, tag = 'latest'] = p.ref.split(':');
      const digest = await pushImage(layout, p.ref, client, repo, tag);
      out(`pushed ${new URL(o.push).host}/${p.ref}@${digest}`);
    }
  });

const tool = program.command('tool').description('tools (the embedded default keeps its own list)');
tool
  .command('create <name>')
  .description('create a tool and a token for it')
  .option('--write-config [file]', "write the token into the CLI's config file (mode 0600)")
  .action(async (name, o) => {
    if (!TOOL_NAME.test(name))
      throw new AdminError(`invalid tool name ${JSON.stringify(name)}: lower-case letters, digits and "-"`);
    const { repo, config: c } = tools();
    const created = repo.createTool(name);
    const { id, token } = issueToken(repo, name, 'created with the tool');
    out(`${created ? 'created' : 'exists:'} tool ${name}; token ${id}`);
    if (o.writeConfig) {
      const file = typeof o.writeConfig === 'string' ? o.writeConfig : defaultCliConfig();
      await writeCliConfig(file, { api_url: `http://${c.TOOLFORGE_ADDRESS}:${c.PORT}`, tool: name, token });
      out(`wrote ${file} (mode 0600)`);
    } else out(`token (shown once): ${token}`);
  });
tool
  .command('list')
  .description('list tools')
  .action(() => {
    for (const t of tools().repo.listTools())
      out(`${t.name}\t${t.tokens} active token(s)\tcreated ${t.createdAt}`);
  });
tool
  .command('delete <name>')
  .description('delete a tool and its tokens (its images and builds stay until cleaned)')
  .action((name) => {
    if (!tools().repo.deleteTool(name)) throw new AdminError(`no tool ${name}`);
    out(`deleted tool ${name}`);
  });

const token = program.command('token').description("tools' API tokens");
token
  .command('create <tool>')
  .description('issue a new token for a tool')
  .option('--description <text>', 'what the token is for', '')
  .option('--write-config [file]', "write it into the CLI's config file (mode 0600)")
  .action(async (name, o) => {
    const { repo, config: c } = tools();
    if (!repo.hasTool(name))
      throw new AdminError(`no tool ${name}: create it first (toolforge-admin tool create ${name})`);
    const { id, token: secret } = issueToken(repo, name, o.description);
    out(`token ${id} for ${name}`);
    if (o.writeConfig) {
      const file = typeof o.writeConfig === 'string' ? o.writeConfig : defaultCliConfig();
      await writeCliConfig(file, {
        api_url: `http://${c.TOOLFORGE_ADDRESS}:${c.PORT}`,
        tool: name,
        token: secret,
      });
      out(`wrote ${file} (mode 0600)`);
    } else out(`token (shown once): ${secret}`);
  });
token
  .command('list [tool]')
  .description('list tokens (never their secrets)')
  .action((name) => {
    for (const t of tools().repo.listTokens(name)) {
      out(
        `${t.id}\t${t.tool}\t${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}\tcreated ${t.createdAt}\t${t.description}`,
      );
    }
  });
token
  .command('revoke <id>')
  .description('revoke a token')
  .action((id) => {
    if (!tools().repo.revokeToken(id)) throw new AdminError(`no active token ${id}`);
    out(`revoked ${id}`);
  });

catalogueCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof AdminError) {
    err(`Error: ${e.message}`);
    process.exit(1);
  }
  err(`Error: ${(e as Error).message}`);
  process.exit(1);
}
