import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { TOOL_NAME } from '../services/validation.ts';
import type { ToolsRepo } from '../store/tools-repo.ts';
import type { Identity } from './identity.ts';
import type { Authenticate } from './register.ts';

const unauthorized = (message: string, hint: string) => new AppError('UNAUTHORIZED', message, { hint });

/** Bearer token per tool (the embedded default): tokens are issued by `toolforge-admin token create`. */
export function tokenAuth(tools: ToolsRepo): Authenticate {
  return async (req: FastifyRequest): Promise<Identity> => {
    const header = req.headers.authorization;
    if (!header)
      throw unauthorized(
        'Unauthorized: no token was sent.',
        'Set TOOLFORGE_TOKEN, or ask an admin for a token (toolforge-admin token create <tool>).',
      );
    const m = header.match(/^Bearer\s+(\S+)$/i);
    const tool = m ? tools.toolForToken(m[1] as string) : undefined;
    if (!tool)
      throw unauthorized(
        'Unauthorized: the token is not valid (unknown or revoked).',
        'Ask an admin for a new token.',
      );
    return { tool, via: 'token' };
  };
}

/** A verified TLS client certificate whose CN is the tool (as Toolforge's kubeconfig certificates). */
export function certificateAuth(): Authenticate {
  return async (req: FastifyRequest): Promise<Identity> => {
    const socket = req.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) {
      throw unauthorized(
        'Unauthorized: a client certificate signed by the Toolforge CA is required.',
        'Configure TOOLFORGE_CERT and TOOLFORGE_KEY.',
      );
    }
    const cn = socket.getPeerCertificate().subject?.CN;
    const tool = Array.isArray(cn) ? cn[0] : cn;
    if (!tool || !TOOL_NAME.test(tool))
      throw unauthorized(
        'Unauthorized: the certificate does not name a tool.',
        "Use your tool's certificate.",
      );
    return { tool, via: 'certificate' };
  };
}

/** Behind Toolforge's API gateway, which authenticated the caller and says who it is. Never the default. */
export function gatewayAuth(): Authenticate {
  return async (req: FastifyRequest): Promise<Identity> => {
    const tool = req.headers['x-toolforge-tool'];
    if (typeof tool !== 'string' || !TOOL_NAME.test(tool)) {
      throw unauthorized('Unauthorized', 'Requests must come through the Toolforge API gateway.');
    }
    return { tool, via: 'gateway' };
  };
}
