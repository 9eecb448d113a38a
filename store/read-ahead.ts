import type { AbstractCursor } from 'mongodb';

/**
 * A cursor's documents batch by batch, with the next batch already requested while the caller
 * works on the current one. The driver's own iteration sends `getMore` only once its buffer is
 * empty, so a caller that transforms each batch (CPU) waits for the server after every batch
 * and the two never overlap; here the server reads batch k+1 while the caller handles batch k.
 * Closes the cursor when the caller stops early or an error is thrown.
 */
export async function* readAhead<T>(cursor: AbstractCursor<T>): AsyncGenerator<T[]> {
  let more: Promise<boolean> | null = null;
  try {
    more = cursor.hasNext();
    while (await more) {
      const docs = cursor.readBufferedDocuments();
      more = cursor.hasNext();
      // awaited at the top of the loop; until then a failure must not count as unhandled
      more.catch(() => undefined);
      yield docs;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
