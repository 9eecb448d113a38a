import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { temporalLogger } from '../../../obs/logger';

describe('temporalLogger (Temporal runtime logs into pino)', () => {
  it('keeps the level, the message and the SDK\'s metadata as fields', () => {
    const lines: Record<string, unknown>[] = [];
    const log = temporalLogger(pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }));
    log.info('activity completed', { workflowId: 'train-1', activityId: '7', attempt: 2 });
    log.log('WARN', 'retrying', { attempt: 3 });
    log.trace('below the level');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: 'activity completed', workflowId: 'train-1', activityId: '7', attempt: 2 }),
      expect.objectContaining({ level: 40, msg: 'retrying', attempt: 3 }),
    ]);
  });
});
