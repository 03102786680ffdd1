import { createServer } from 'node:net';

/** Whether 127.0.0.1:port can be bound now (slirp4netns binds it for the sandbox right after). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port the kernel picks as free on 127.0.0.1, other than those in `taken`. */
export async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (!taken.has(port)) return port;
  }
  throw new Error('no free TCP port on 127.0.0.1');
}
