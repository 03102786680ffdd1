import { Command } from '@commander-js/extra-typings';
import { printMessages, table } from '../build/format.ts';
import type { GetContext } from '../index.ts';
import { run } from '../run.ts';

/** `toolforge images list`: the curated images and the tool's built images it can run. */
export function imagesCommand(ctx: GetContext) {
  return new Command('images').description('images tools can run').addCommand(
    new Command('list')
      .description('list the curated images and the images your tool built')
      .option('--json', 'print the API response as JSON')
      .action(
        run(
          ctx,
          async (c) => {
            const res = await c.api().call('images', { params: { toolname: c.tool() } });
            printMessages(c, res.messages);
            return res;
          },
          (res) =>
            res.images.length
              ? table(
                  ['Name', 'Type', 'State', 'Image'],
                  res.images.map((i) => [
                    i.canonical_name,
                    i.image_type,
                    i.valid_until ? `${i.state} (until ${i.valid_until})` : i.state,
                    i.ref.replace(/@sha256:[0-9a-f]{64}$/, ''),
                  ]),
                )
              : 'No images found',
        ),
      ),
  );
}
