import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { Kube } from './client.ts';

export type LogStream =
  | { ok: true; body: AsyncIterable<Uint8Array> }
  | { ok: false; status: number; message: string };

/**
 * Open a container's log (`pods/log`) with client-node's authentication, but reading the body ourselves:
 * client-node's Log pipes into a stream and swallows a dropped connection, which would hang a follow.
 */
export async function openPodLog(
  kube: Kube,
  pod: string,
  container: string,
  opts: {
    follow: boolean;
    sinceTime?: string | undefined;
    signal: AbortSignal;
    namespace?: string;
    /** The previous instance of a restarted container (e.g. one crashing in a loop). */
    previous?: boolean;
  },
): Promise<LogStream> {
  const cluster = kube.kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(
    `${cluster.server}/api/v1/namespaces/${opts.namespace ?? kube.namespace}/pods/${pod}/log`,
  );
  url.searchParams.set('container', container);
  url.searchParams.set('follow', String(opts.follow));
  url.searchParams.set('timestamps', 'true');
  if (opts.sinceTime) url.searchParams.set('sinceTime', opts.sinceTime);
  if (opts.previous) url.searchParams.set('previous', 'true');
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kube.kc.applySecurityAuthentication(ctx);
  const res = await fetch(url, {
    method: 'GET',
    headers: ctx.getHeaders(),
    dispatcher: ctx.getDispatcher() as never,
    signal: opts.signal,
  });
  if (res.status === 200 && res.body) return { ok: true, body: res.body };
  const text = await res.text().catch(() => '');
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {}
  return { ok: false, status: res.status, message };
}

/**
 * A byte stream as text lines; a dropped connection just ends it. A last line without its newline is
 * kept only with `partial` (a follow that reconnects gets it again, whole).
 */
export async function* streamLines(
  body: AsyncIterable<Uint8Array>,
  opts: { partial?: boolean } = {},
): AsyncGenerator<string> {
  let pending = '';
  try {
    for await (const chunk of body) {
      pending += Buffer.from(chunk).toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        yield pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    }
  } catch {
    // The connection dropped (or was aborted): what arrived is all there is.
  }
  if (pending && opts.partial) yield pending;
}
