import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { POLICY_FIELDS, TRIGGER_NAMES, defaultPolicy, validatePolicy } from '../../../common/monitor-policy';
import { loadConfig } from '../../../config';
import { policyFromConfig } from '../../../client/monitor';
import { TRIGGER_DEFS } from '../../../activities/triggers';

describe('monitor policy validator', () => {
  it('when a patch is valid, then it passes', () => {
    expect(() => validatePolicy({ intervalSeconds: 60, newDataRatio: 0.1, f1Drop: 0.05, minOutcomes: 100, driftShare: 0.2, paused: true })).not.toThrow();
  });

  it.each([
    [{ intervalSeconds: 0 }, /intervalSeconds=0/],
    [{ intervalSeconds: 1.5 }, /intervalSeconds/],
    [{ f1Drop: 1 }, /f1Drop=1/],
    [{ driftShare: 0 }, /driftShare/],
    [{ minOutcomes: -1 }, /minOutcomes/],
    [{ paused: 'yes' as never }, /paused/],
    [{ interval: 5 } as never, /unknown policy field interval/],
  ])('when the patch is %j, then it is rejected naming the field', (patch, re) => {
    expect(() => validatePolicy(patch)).toThrow(re);
  });
});

describe('the policy list is the one source', () => {
  const values = (f: (typeof POLICY_FIELDS)[number]) => [f.min, f.max, f.default, (f.min + f.max) / 2, f.min - 1, f.max + 1, f.min + 0.5];

  it('when a field is set through the environment or through setPolicy, then both accept and reject the same values', () => {
    for (const f of POLICY_FIELDS) {
      for (const v of values(f)) {
        const byConfig = (() => { try { loadConfig({ [f.env]: String(v) }); return true; } catch { return false; } })();
        const byUpdate = (() => { try { validatePolicy({ [f.key]: v }); return true; } catch { return false; } })();
        expect({ field: f.key, v, byConfig }).toEqual({ field: f.key, v, byConfig: byUpdate });
      }
    }
  });

  it('when nothing is set, then the config gives each field its default and policyFromConfig reads them all', () => {
    expect(policyFromConfig(loadConfig({}))).toEqual(defaultPolicy());
    expect(policyFromConfig(loadConfig({ MONITOR_F1_DROP: '0.2', MONITOR_MIN_DRIFT_USERS: '900' }))).toMatchObject({ f1Drop: 0.2, minDriftUsers: 900 });
  });

  it('when a trigger is listed, then the monitor measures it, in the listed order, and the README documents its variables', () => {
    expect(TRIGGER_DEFS.map((t) => t.name)).toEqual(TRIGGER_NAMES);
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const f of POLICY_FIELDS) expect(readme, f.env).toContain(`\`${f.env}\``);
  });

  it('when a threshold is read for the status, then it comes from the policy field the trigger owns', () => {
    const p = { ...defaultPolicy(), newDataRatio: 0.3, f1Drop: 0.1, driftShare: 0.5 };
    expect(Object.fromEntries(TRIGGER_DEFS.map((t) => [t.name, t.threshold(p)]))).toEqual({ 'new-data': 0.3, degradation: 0.9, drift: 0.5 });
  });
});
