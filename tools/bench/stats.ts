/** Small statistics and timing helpers shared by the benchmarks. */

/** Milliseconds since an arbitrary origin, with sub-microsecond resolution. */
export function nowMs(): number {
    return Number(process.hrtime.bigint()) / 1e6;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
    if (samples.length === 0) throw new Error("percentile of no samples");
    const sorted = [...samples].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(samples: readonly number[]): number {
    if (samples.length === 0) throw new Error("median of no samples");
    const sorted = [...samples].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Rounds a figure for results.json: 0.01 ms resolution is below the noise of every benchmark here. */
export function round(value: number, digits = 2): number {
    const scale = 10 ** digits;
    return Math.round(value * scale) / scale;
}

/** Times `fn` `runs` times in a row (after `warmup` untimed runs) and returns each duration in ms. */
export async function timeRuns(runs: number, fn: () => Promise<unknown>, warmup = 0): Promise<number[]> {
    for (let i = 0; i < warmup; i++) await fn();
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
        const started = nowMs();
        await fn();
        samples.push(nowMs() - started);
    }
    return samples;
}

export interface LoadResult {
    latenciesMs: number[];
    elapsedMs: number;
    rps: number;
}

/**
 * Closed-loop load: `concurrency` callers each send their next request as soon as the previous
 * one answers, until `requests` have completed. Latency is per request; rps over the whole run.
 */
export async function closedLoop(requests: number, concurrency: number, send: (index: number) => Promise<unknown>): Promise<LoadResult> {
    const latenciesMs: number[] = [];
    let next = 0;
    const started = nowMs();
    const caller = async () => {
        while (next < requests) {
            const index = next++;
            const sent = nowMs();
            await send(index);
            latenciesMs.push(nowMs() - sent);
        }
    };
    await Promise.all(Array.from({ length: concurrency }, caller));
    const elapsedMs = nowMs() - started;
    return { latenciesMs, elapsedMs, rps: (requests / elapsedMs) * 1000 };
}

/** A copy of `items` in random order (Fisher–Yates). */
export function shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
}
