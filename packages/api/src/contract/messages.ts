import { z } from 'zod';

/** The reference's `ResponseMessages`: every reply carries it, errors included (with `error` filled). */
export const ResponseMessagesSchema = z
  .object({
    info: z.array(z.string()).optional(),
    warning: z.array(z.string()).optional(),
    error: z.array(z.string()).optional(),
  })
  .meta({
    id: 'ResponseMessages',
    description:
      'Lists of messages by priority. A warning appears here when an endpoint is being deprecated, with how to update.',
  });
export type ResponseMessages = z.infer<typeof ResponseMessagesSchema>;

/** A full envelope, the shape we always send (all three lists present, possibly empty). */
export function messages(m: ResponseMessages = {}): Required<ResponseMessages> {
  return { info: m.info ?? [], warning: m.warning ?? [], error: m.error ?? [] };
}
