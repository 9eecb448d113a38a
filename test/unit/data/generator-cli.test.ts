import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { UsageError } from '../../../cli/args';
import { generateCommand } from '../../../cli/generate';
import { resolveAsOf, type GenerateSummary } from '../../../data/generator';

describe('retail24 generate cut-off flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retail24-gen-cli-'));
  let log: MockInstance<typeof console.log>;
  beforeEach(() => { log = vi.spyOn(console, 'log').mockImplementation(() => {}); });
  afterEach(() => { log.mockRestore(); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (...flags: string[]): Promise<GenerateSummary> => {
    expect(await generateCommand(['--users', '2000', '--seed', '5', '--out', join(dir, 'g.csv'), '--json', ...flags])).toBe(0);
    return JSON.parse(String(log.mock.calls.at(-1)![0])) as GenerateSummary;
  };

  it.each([
    ['2026-01-10 12:00:00', Date.UTC(2026, 0, 10, 12)],
    ['2026-01-10T12:00:00Z', Date.UTC(2026, 0, 10, 12)],
    ['2026-01-10T14:00:00+02:00', Date.UTC(2026, 0, 10, 12)],
    ['2026-01-10T12:00:00.250', Date.UTC(2026, 0, 10, 12, 0, 0, 250)],
    ['2026-01-10', Date.UTC(2026, 0, 10)],
  ])('when --as-of is %s, then the export is cut at that instant (UTC without an offset)', async (text, ms) => {
    const s = await run('--as-of', text);
    expect(s.asOf).toBe(ms);
    expect(s.users).toBeLessThan(2000);
    expect(s.pending).toBeGreaterThan(0);
  });

  it('when --cutoff-hours is given, then asOf is the latest first_open plus that many hours', async () => {
    const s = await run('--cutoff-hours', '1.5');
    expect(s.asOf).toBe(resolveAsOf({ users: 2000, seed: 5, cutoffHours: 1.5 }));
    expect(s.users).toBe(2000);
    expect(readFileSync(s.truthFile, 'utf8').split('\n')[0]).toBe('user_id,p_true,label,pending');
  });

  it('when the output is for humans, then it names asOf and the pending count, and says nothing of them without a cut-off', async () => {
    expect(await generateCommand(['--users', '2000', '--seed', '5', '--out', join(dir, 'h.csv'), '--cutoff-hours', '0'])).toBe(0);
    const line = String(log.mock.calls.at(-1)![0]);
    const asOf = new Date(resolveAsOf({ users: 2000, seed: 5, cutoffHours: 0 })!).toISOString();
    expect(line).toContain(`as of ${asOf}`);
    expect(line).toMatch(/: \d+ users pending/);
    expect(await generateCommand(['--users', '200', '--out', join(dir, 'plain.csv')])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).not.toMatch(/as of|pending/);
  });

  it.each([
    [['--as-of', 'yesterday'], /--as-of .*got "yesterday"/],
    [['--as-of', '2026-02-30 00:00:00'], /--as-of .*got "2026-02-30 00:00:00"/],
    [['--as-of', '1767225600000'], /--as-of .*got "1767225600000"/],
    [['--cutoff-hours', '-1'], /--cutoff-hours .*got "-1"/],
    [['--cutoff-hours', 'abc'], /--cutoff-hours .*got "abc"/],
    [['--cutoff-hours='], /--cutoff-hours .*got ""/],
    [['--cutoff-hours', '1e3'], /--cutoff-hours .*got "1e3"/],
    [['--cutoff-hours', '2000000'], /--cutoff-hours .*got "2000000"/],
    [['--cutoff-hours', '2', '--as-of', '2026-01-05'], /--as-of and --cutoff-hours .*"2026-01-05".*"2"/],
  ])('when the flags are %j, then a UsageError names the flag and value', async (flags, msg) => {
    const p = generateCommand(['--users', '10', '--out', join(dir, 'bad.csv'), ...flags]);
    await expect(p).rejects.toThrow(UsageError);
    await expect(generateCommand(['--users', '10', '--out', join(dir, 'bad.csv'), ...flags])).rejects.toThrow(msg);
  });
});
