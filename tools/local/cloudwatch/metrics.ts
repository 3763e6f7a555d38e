/**
 * The local CloudWatch metrics: datapoints the emulators observe, under AWS's namespaces, metric
 * names and dimensions, kept in memory for as long as an alarm can look back.
 */
export type Dimensions = Record<string, string>;

interface Series {
    /** [timestamp ms, value], in arrival order. */
    points: [number, number][];
}

/** A metric is identified by namespace, name and its exact set of dimensions, as in CloudWatch. */
export function seriesKey(namespace: string, metricName: string, dimensions: Dimensions = {}): string {
    const dims = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
    return JSON.stringify([namespace, metricName, dims]);
}

export class MetricStore {
    private readonly series = new Map<string, Series>();
    /** How long datapoints are kept (ms); raised by the alarms to their longest window. */
    retentionMs = 15 * 60 * 1000;

    constructor(private readonly now: () => number = Date.now) {}

    put(namespace: string, metricName: string, dimensions: Dimensions, value: number, at = this.now()): void {
        const key = seriesKey(namespace, metricName, dimensions);
        let series = this.series.get(key);
        if (!series) this.series.set(key, (series = { points: [] }));
        series.points.push([at, value]);
        // Drop what no alarm can look at any more (the oldest points are first).
        const cutoff = at - this.retentionMs;
        let drop = 0;
        while (drop < series.points.length && series.points[drop][0] < cutoff) drop++;
        if (drop > 0) series.points.splice(0, drop);
    }

    /** The values with a timestamp in [from, to). */
    values(namespace: string, metricName: string, dimensions: Dimensions, from: number, to: number): number[] {
        const series = this.series.get(seriesKey(namespace, metricName, dimensions));
        if (!series) return [];
        return series.points.filter(([at]) => at >= from && at < to).map(([, value]) => value);
    }
}

/** CloudWatch statistics over one period's values; undefined when there are none (missing data). */
export function statistic(stat: string, values: number[]): number | undefined {
    if (values.length === 0) return undefined;
    switch (stat) {
        case "Sum":
            return values.reduce((a, b) => a + b, 0);
        case "Average":
            return values.reduce((a, b) => a + b, 0) / values.length;
        case "Minimum":
            return Math.min(...values);
        case "Maximum":
            return Math.max(...values);
        case "SampleCount":
            return values.length;
    }
    const percentile = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
    if (percentile) {
        const sorted = [...values].sort((a, b) => a - b);
        const rank = Math.ceil((Number(percentile[1]) / 100) * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }
    throw new Error(`statistic ${stat} is not evaluated locally (Sum, Average, Minimum, Maximum, SampleCount, pNN are)`);
}
