import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { classifyFailures } from '../../../activities';
import { ChecksumMismatchError } from '../../../store/blobs';
import { CorruptArtifactError, FAILURE_TYPES } from '../../../common/errors';
import { deserializeModel } from '../../../ml/serialize';

describe('classifyFailures (every activity)', () => {
  it('an unreadable artifact becomes a non-retryable CorruptArtifact with the original message', async () => {
    const acts = classifyFailures({
      checksum: async () => { throw new ChecksumMismatchError('run:r1', 'aa', 'bb'); },
      envelope: async () => deserializeModel(Buffer.from('not an envelope at all')),
    });
    for (const call of [acts.checksum, acts.envelope]) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expect((err as ApplicationFailure).type).toBe(FAILURE_TYPES.corruptArtifact);
    }
    expect(((await acts.checksum().catch((e: unknown) => e)) as Error).message).toContain('blob run:r1');
  });

  it('any other error passes through unchanged (Temporal retries it), and results are returned as they were', async () => {
    const io = new Error('connection reset');
    const acts = classifyFailures({ io: async () => { throw io; }, ok: async (x: number) => x + 1 });
    await expect(acts.io()).rejects.toBe(io);
    expect(await acts.ok(1)).toBe(2);
    expect(new ChecksumMismatchError('b', 'x', 'y')).toBeInstanceOf(CorruptArtifactError);
  });
});
