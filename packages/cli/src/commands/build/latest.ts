import type { CommandContext } from '../../context.ts';

export async function latestId(c: CommandContext): Promise<string> {
  const { build } = await c.api().call('latest', { params: { toolname: c.tool() } });
  return build.build_id;
}
