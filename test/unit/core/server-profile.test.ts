import { describe, expect, it } from 'vitest';
import { FERRETDB_LIMITS, profileFromBuildInfo } from '../../../store/server';

describe('profileFromBuildInfo', () => {
  it('when buildInfo carries ferretdbVersion (FerretDB 1.24 does), then the FerretDB limits apply', () => {
    // Fields as FerretDB v1.24.2 answers (captured from the server install-tools builds).
    const p = profileFromBuildInfo({ version: '7.0.42', ferretdbVersion: 'v1.24.2', ferretdbFeatures: {} });
    expect(p).toEqual({ kind: 'ferretdb', version: 'v1.24.2', maxBulkOps: 50, chunkBatch: 16 });
    expect(p.maxBulkOps).toBe(FERRETDB_LIMITS.maxBulkOps);
  });

  it('when buildInfo is a real MongoDB one, then writes and GridFS reads use the driver batching', () => {
    const p = profileFromBuildInfo({ version: '7.0.14', gitVersion: 'ce59cfc6a3c5e5c067dca0d30697edd68d4f5188', modules: [] });
    expect(p.kind).toBe('mongodb');
    expect(p.maxBulkOps).toBe(Number.POSITIVE_INFINITY);
    expect(p.chunkBatch).toBeUndefined();
  });
});
