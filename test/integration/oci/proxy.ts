// An HTTP proxy for fault injection in front of a test registry: per request, pass it through, answer with
// a canned status, or reset the connection. The Host header is kept, so the registry's absolute upload
// Locations point back at the proxy.
import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  /** 0-based arrival order. */
  n: number;
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
}

export type ProxyAction =
  | 'pass'
  | 'reset'
  | { status: number; headers?: Record<string, string>; body?: string };

export interface Proxy extends AsyncDisposable {
  url: string;
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

export async function startProxy(
  target: string,
  decide: (req: ProxiedRequest) => ProxyAction = () => 'pass',
): Promise<Proxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const info: ProxiedRequest = {
      n: requests.length,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
    };
    requests.push(info);
    const action = decide(info);
    if (action === 'reset') {
      req.socket.destroy();
      return;
    }
    if (action !== 'pass') {
      req.resume();
      req.on('end', () => {
        res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
        res.end(action.body ?? '');
      });
      return;
    }
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://127.0.0.1:${port}`, requests, stop, [Symbol.asyncDispose]: stop };
}
