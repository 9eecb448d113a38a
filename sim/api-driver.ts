/**
 * The replay's HTTP client of the real API: scores users through POST /v1/predict and reports
 * purchases through POST /v1/outcomes, as the app and the marketing systems would.
 */
import type { UserRecord } from '../data/record';

/** A raw user as the app sends it (DATA.md fields; no purchase_date: it is not known yet). */
export function predictPayload(r: UserRecord): Record<string, unknown> {
  return {
    user_id: r.userId,
    first_open: new Date(r.firstOpen).toISOString(),
    screen_list: r.screens.join(','),
    numscreens: r.numscreens,
    ...(r.age === null ? {} : { age: r.age }),
  };
}

async function post(url: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

export class ApiDriver {
  constructor(private readonly baseUrl: string, private readonly token: string, private readonly maxBatch: number) {}

  /** Scores users in arrays of at most `maxBatch`; returns how many were scored and by which versions. */
  async predict(users: readonly UserRecord[]): Promise<{ sent: number; versions: number[] }> {
    const versions = new Set<number>();
    for (let i = 0; i < users.length; i += this.maxBatch) {
      const res = await post(`${this.baseUrl}/v1/predict`, users.slice(i, i + this.maxBatch).map(predictPayload)) as { model: { version: number } };
      versions.add(res.model.version);
    }
    return { sent: users.length, versions: [...versions] };
  }

  /** Reports purchases (epoch ms) in arrays of at most `maxBatch`; returns how many were sent. */
  async outcomes(list: readonly { userId: string; purchaseAt: number }[]): Promise<number> {
    for (let i = 0; i < list.length; i += this.maxBatch) {
      await post(`${this.baseUrl}/v1/outcomes`, list.slice(i, i + this.maxBatch).map((o) => ({ user_id: o.userId, purchase_date: o.purchaseAt })), this.token);
    }
    return list.length;
  }
}
