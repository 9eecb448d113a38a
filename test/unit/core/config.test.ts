import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../config';

describe('loadConfig', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const c = loadConfig({});
    expect(c.MODEL_NAME).toBe('Retail24RandomForestClassifier');
    expect(c.TASK_QUEUE).toBe('retail24');
    expect(c.PARAM_GRID).toEqual({ nEstimators: [100], maxDepth: [8, 10, 12], minSamplesLeaf: [5, 20] });
    expect(c.SCORING).toBe('precision_at_target_recall');
    expect(c.SPLIT_STRATEGY).toBe('hash');
    expect(c.PROMOTION_RULE).toBe('non-inferior');
    expect(c.CV_FOLDS).toBe(3);
    expect(c.TARGET_RECALL).toBe(0.9);
    expect(c.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('when PARAM_GRID names a preset, then that grid applies (seed = the first round grid)', () => {
    expect(loadConfig({ PARAM_GRID: 'seed' }).PARAM_GRID).toEqual({ nEstimators: [100, 200], maxDepth: [5, 10] });
    expect(loadConfig({ PARAM_GRID: '{"maxDepth":[3]}' }).PARAM_GRID).toEqual({ maxDepth: [3] });
  });

  it('when SPLIT_STRATEGY is the old name stratified, then the stable hash split applies', () => {
    expect(loadConfig({ SPLIT_STRATEGY: 'stratified' }).SPLIT_STRATEGY).toBe('hash');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['TEMPORAL_ADDRESS', 'no-port'],
    ['MONGODB_URI', 'http://x'],
    ['PARAM_GRID', '{not json'],
    ['PARAM_GRID', '{"maxDepth": []}'],
    ['PARAM_GRID', 'nosuchpreset'],
    ['PROMOTION_RULE', 'always'],
    ['CALIBRATION', 'magic'],
    ['TARGET_RECALL', '1.5'],
    ['ENGINE', 'xgboost'],
    ['API_TOKEN', 'short'],
  ])('when %s=%s, then loading fails naming that variable', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toContain(name);
  });

  it('when values are valid strings, then they are coerced to typed settings', () => {
    const c = loadConfig({ PORT: '9090', PARAM_GRID: '{"nEstimators":[10]}', ENGINE: 'ml-random-forest', TEMPORAL_ADDRESS: 'localhost:7233' });
    expect(c.PORT).toBe(9090);
    expect(c.PARAM_GRID).toEqual({ nEstimators: [10] });
    expect(c.ENGINE).toBe('ml-random-forest');
  });
});
