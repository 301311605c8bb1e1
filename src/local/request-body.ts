import type { IncomingMessage } from 'node:http';

/** The whole body of a request. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A body of which at most `limit` bytes are kept; the rest is still read (and counted) so that the
 * connection stays usable for the next request.
 */
export async function readBodyUpTo(req: IncomingMessage, limit: number): Promise<{ data: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size + chunk.length <= limit) chunks.push(chunk);
    size += chunk.length;
  }
  return { data: Buffer.concat(chunks), size };
}
