import { Watch } from '@kubernetes/client-node';
import type { Kube } from './client.ts';

type Obj = { metadata?: { name?: string; resourceVersion?: string } };

/**
 * Wait until `check(items)` returns a value, using the Kubernetes list-then-watch loop: list, watch from
 * the list's resourceVersion, re-watch from the last seen one when the stream ends, and re-list after
 * 410 Gone (an expired resourceVersion). Also re-checks on a timer, so a lost event only costs a delay.
 */
export async function waitFor<T>(
  kube: Kube,
  opts: {
    path: string;
    list: () => Promise<{ items: Obj[]; resourceVersion?: string }>;
    labelSelector?: string;
    fieldSelector?: string;
    check: (items: Obj[]) => T | undefined;
    signal: AbortSignal;
    timeoutMs: number;
  },
): Promise<T | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  while (!opts.signal.aborted && Date.now() < deadline) {
    const listed = await opts.list();
    const items = new Map<string, Obj>(listed.items.map((o) => [o.metadata?.name ?? '', o]));
    const first = opts.check([...items.values()]);
    if (first !== undefined) return first;
    let rv = listed.resourceVersion;
    let relist = false;
    while (!relist && !opts.signal.aborted && Date.now() < deadline) {
      const found = await new Promise<T | undefined | 'relist' | 'rewatch'>((resolve) => {
        let settled = false;
        const finish = (v: T | undefined | 'relist' | 'rewatch') => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          opts.signal.removeEventListener('abort', onAbort);
          controller.then((c) => c.abort()).catch(() => {});
          resolve(v);
        };
        const onAbort = () => finish(undefined);
        const timer = setTimeout(() => finish('rewatch'), Math.min(5000, Math.max(0, deadline - Date.now())));
        opts.signal.addEventListener('abort', onAbort);
        const controller = new Watch(kube.kc).watch(
          opts.path,
          {
            allowWatchBookmarks: true,
            ...(rv ? { resourceVersion: rv } : {}),
            ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
            ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
          },
          (type, obj: Obj & { code?: number }) => {
            if (type === 'ERROR') return finish(obj.code === 410 ? 'relist' : 'rewatch');
            if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
            if (type === 'BOOKMARK') return;
            const name = obj.metadata?.name ?? '';
            if (type === 'DELETED') items.delete(name);
            else items.set(name, obj);
            const v = opts.check([...items.values()]);
            if (v !== undefined) finish(v);
          },
          (err: unknown) =>
            finish((err as { statusCode?: number } | null)?.statusCode === 410 ? 'relist' : 'rewatch'),
        );
      });
      if (found === 'relist') relist = true;
      else if (found !== 'rewatch') return found;
    }
  }
  return undefined;
}
