import type { CommandContext } from '../context.ts';
import type { GetContext } from './index.ts';

/**
 * Commands return data; this renders it (JSON under --json, text otherwise). Errors propagate to main(),
 * which prints them once with their hint and exit code.
 */
export function run<A extends unknown[], T>(
  getCtx: GetContext,
  action: (ctx: CommandContext, ...args: A) => Promise<T>,
  render: (data: T, ctx: CommandContext) => string,
) {
  return async (...args: A): Promise<void> => {
    const ctx = getCtx();
    const data = await action(ctx, ...args);
    if (data !== undefined) ctx.out.result(data, (d) => render(d, ctx));
  };
}
