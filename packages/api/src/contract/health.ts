import { z } from 'zod';
import { ResponseMessagesSchema } from './messages.ts';

export const HealthResponseSchema = z
  .object({ status: z.enum(['OK', 'ERROR']), messages: ResponseMessagesSchema })
  .meta({ id: 'HealthResponse' });
export type HealthResponse = z.infer<typeof HealthResponseSchema>;
