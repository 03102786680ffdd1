import type { FastifyInstance } from 'fastify';
import { type Authenticate, register } from '../http/register.ts';
import type { ImagesService } from '../services/images-service.ts';

/** The images API: supported builder versions (public) and the images a tool may run. */
export function imageRoutes(app: FastifyInstance, images: ImagesService, authenticate: Authenticate): void {
  register(app, 'supportedVersions', async () => images.supportedVersions());
  register(app, 'images', async (_i, ctx) => images.list(ctx.identity?.tool as string), authenticate);
}
