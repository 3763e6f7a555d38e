import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { compilePattern, LogMatcher } from "./filter";
import { evaluate, parseExpression, referencedIds } from "./math";
import { Dimensions, MetricStore, statistic } from "./metrics";

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

/** Where the alarm states are kept (`<data-dir>/alarms.json`). */
export const ALARMS_FILE = "alarms.json";

interface MetricStat {
    namespace: string;
    metricName: string;
    dimensions: Dimensions;
    periodSeconds: number;
    stat: string;
}

/** One `aws:cloudwatch/metricAlarm:MetricAlarm`, as the local evaluator reads it. */
export interface AlarmDefinition {
    name: string;
    evaluationPeriods: number;
    datapointsToAlarm: number;
    comparisonOperator: string;
    threshold: number;
    treatMissingData: "missing" | "notBreaching" | "breaching" | "ignore";
    periodSeconds: number;
    /** A single metric, or the metric queries and the expression that returns the alarm's data. */
    metric?: MetricStat;
    queries?: { metrics: Record<string, MetricStat>; expression: ReturnType<typeof parseExpression>; expressionText: string };
}

const COMPARISONS: Record<string, [string, (value: number, threshold: number) => boolean]> = {
    GreaterThanOrEqualToThreshold: ["greater than or equal to", (v, t) => v >= t],
    GreaterThanThreshold: ["greater than", (v, t) => v > t],
    LessThanThreshold: ["less than", (v, t) => v < t],
    LessThanOrEqualToThreshold: ["less than or equal to", (v, t) => v <= t],
};

/** Reads a MetricAlarm's inputs; throws a message naming what is not evaluated locally. */
export function alarmDefinition(name: string, inputs: Record<string, any>): AlarmDefinition {
    if (!(inputs.comparisonOperator in COMPARISONS)) throw new Error(`comparison ${inputs.comparisonOperator} is not evaluated locally (anomaly detection bands are not)`);
    const evaluationPeriods = Number(inputs.evaluationPeriods);
    const base = {
        name,
        evaluationPeriods,
        datapointsToAlarm: Number(inputs.datapointsToAlarm ?? evaluationPeriods),
        comparisonOperator: inputs.comparisonOperator,
        threshold: Number(inputs.threshold),
        treatMissingData: inputs.treatMissingData ?? "missing",
    };
    if (Array.isArray(inputs.metricQueries) && inputs.metricQueries.length > 0) {
        const metrics: Record<string, MetricStat> = {};
        let expressionText: string | undefined;
        for (const query of inputs.metricQueries) {
            if (query.metric) {
                metrics[query.id] = {
                    namespace: query.metric.namespace,
                    metricName: query.metric.metricName,
                    dimensions: query.metric.dimensions ?? {},
                    periodSeconds: Number(query.metric.period),
                    stat: query.metric.stat,
                };
                statistic(query.metric.stat, [0]);
            }
            if (query.returnData) {
                if (expressionText !== undefined) throw new Error("an alarm returns one series");
                expressionText = query.expression ?? query.id;
            }
        }
        if (expressionText === undefined) throw new Error("no metric query returns data");
        const expression = parseExpression(expressionText);
        for (const id of referencedIds(expression)) if (!(id in metrics)) throw new Error(`the expression reads ${id}, which is not a metric query (nested expressions are not evaluated locally)`);
        const periods = new Set(Object.values(metrics).map((m) => m.periodSeconds));
        if (periods.size !== 1) throw new Error("the metric queries have different periods");
        return { ...base, periodSeconds: [...periods][0], queries: { metrics, expression, expressionText } };
    }
    const stat = inputs.extendedStatistic ?? inputs.statistic;
    statistic(stat, [0]);
    const periodSeconds = Number(inputs.period);
    return { ...base, periodSeconds, metric: { namespace: inputs.namespace, metricName: inputs.metricName, dimensions: inputs.dimensions ?? {}, periodSeconds, stat } };
}

interface StoredState {
    state: AlarmState;
    reason: string;
    updated: string;
}

export interface LocalCloudWatchOptions {
    dataDir: string;
    /** `--alarm-time-scale`: every period lasts `period / timeScale` seconds. */
    timeScale?: number;
    print(line: string): void;
    now?: () => number;
}

/**
 * The local CloudWatch: the metric store the emulators write to, the stack's metric filters over
 * its functions' log lines, and its MetricAlarms evaluated on a timer against the store. Each
 * state change prints `[alarm] <name>: <from> -> <to> (<reason>)` and is kept in
 * `<data-dir>/alarms.json`.
 */
export class LocalCloudWatch {
    readonly metrics: MetricStore;
    readonly alarms = new Map<string, AlarmDefinition>();
    private readonly filters: { logGroup: string; match: LogMatcher; namespace: string; metricName: string; value: string; dimensions: Record<string, string> }[] = [];
    private readonly states: Record<string, StoredState> = {};
    private readonly file: string;
    private readonly timeScale: number;
    private readonly now: () => number;
    private timer?: NodeJS.Timeout;

    constructor(private readonly options: LocalCloudWatchOptions) {
        this.now = options.now ?? Date.now;
        this.metrics = new MetricStore(this.now);
        this.timeScale = options.timeScale ?? 1;
        this.file = path.join(options.dataDir, ALARMS_FILE);
        if (existsSync(this.file)) {
            try {
                Object.assign(this.states, JSON.parse(readFileSync(this.file, "utf8")).alarms ?? {});
            } catch {
                options.print(`[alarm] ${this.file} is not readable JSON; alarms start over in INSUFFICIENT_DATA`);
            }
        }
    }

    put(namespace: string, metricName: string, dimensions: Dimensions, value: number): void {
        this.metrics.put(namespace, metricName, dimensions, value);
    }

    addAlarm(definition: AlarmDefinition): void {
        this.alarms.set(definition.name, definition);
        const windowMs = (definition.periodSeconds * 1000 * (definition.evaluationPeriods + 2)) / this.timeScale;
        this.metrics.retentionMs = Math.max(this.metrics.retentionMs, windowMs);
    }

    /** A metric filter on a log group (`aws:cloudwatch/logMetricFilter:LogMetricFilter`). */
    addFilter(logGroup: string, pattern: string, transformation: { namespace: string; name: string; value: string; dimensions?: Record<string, string> }): void {
        this.filters.push({ logGroup, match: compilePattern(pattern), namespace: transformation.namespace, metricName: transformation.name, value: transformation.value, dimensions: transformation.dimensions ?? {} });
    }

    /** One log event of a log group: every filter on the group that matches it publishes its value. */
    logEvent(logGroup: string, line: string): void {
        for (const filter of this.filters) {
            if (filter.logGroup !== logGroup || !filter.match(line)) continue;
            const value = filter.value.startsWith("$.") ? Number(select(line, filter.value.slice(2))) : Number(filter.value);
            if (Number.isFinite(value)) this.put(filter.namespace, filter.metricName, dimensionValues(line, filter.dimensions), value);
        }
    }

    /** Starts evaluating every alarm, a few times per (scaled) period. */
    start(): void {
        if (this.alarms.size === 0 || this.timer) return;
        const shortest = Math.min(...[...this.alarms.values()].map((a) => a.periodSeconds)) * 1000;
        const every = Math.min(10_000, Math.max(50, shortest / this.timeScale / 4));
        this.evaluateAll(true);
        this.timer = setInterval(() => this.evaluateAll(false), every);
        this.timer.unref();
    }

    stop(): void {
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
    }

    state(name: string): AlarmState {
        return this.states[name]?.state ?? "INSUFFICIENT_DATA";
    }

    /** Evaluates each alarm once; `first`: a new alarm's INSUFFICIENT_DATA -> OK is not printed. */
    evaluateAll(first = false): void {
        let changed = false;
        for (const alarm of this.alarms.values()) {
            const from = this.state(alarm.name);
            const result = this.evaluate(alarm, from);
            if (result.state === from) continue;
            this.states[alarm.name] = { state: result.state, reason: result.reason, updated: new Date(this.now()).toISOString() };
            changed = true;
            if (!(first && from === "INSUFFICIENT_DATA" && result.state === "OK")) this.options.print(`[alarm] ${alarm.name}: ${from} -> ${result.state} (${result.reason})`);
        }
        if (changed || first) this.save();
    }

    private save(): void {
        const alarms = Object.fromEntries([...this.alarms.keys()].sort().map((name) => [name, this.states[name] ?? { state: "INSUFFICIENT_DATA", reason: "Unchecked: initial alarm creation", updated: new Date(this.now()).toISOString() }]));
        const text = `${JSON.stringify({ timeScale: this.timeScale, alarms }, null, 2)}\n`;
        writeFileSync(`${this.file}.tmp`, text);
        renameSync(`${this.file}.tmp`, this.file);
    }

    /** The alarm's datapoints over its last `evaluationPeriods` complete periods (oldest first). */
    datapoints(alarm: AlarmDefinition): { start: number; value: number | undefined }[] {
        const periodMs = (alarm.periodSeconds * 1000) / this.timeScale;
        const end = Math.floor(this.now() / periodMs) * periodMs;
        const points: { start: number; value: number | undefined }[] = [];
        for (let i = alarm.evaluationPeriods; i >= 1; i--) {
            const from = end - i * periodMs;
            const to = from + periodMs;
            const read = (m: MetricStat) => statistic(m.stat, this.metrics.values(m.namespace, m.metricName, m.dimensions, from, to));
            let value: number | undefined;
            if (alarm.metric) value = read(alarm.metric);
            else {
                const { metrics, expression } = alarm.queries!;
                const values = Object.fromEntries(Object.entries(metrics).map(([id, m]) => [id, read(m)]));
                value = evaluate(expression, values, Object.keys(metrics));
            }
            points.push({ start: from, value });
        }
        return points;
    }

    private evaluate(alarm: AlarmDefinition, current: AlarmState): { state: AlarmState; reason: string } {
        const [words, compare] = COMPARISONS[alarm.comparisonOperator];
        const points = this.datapoints(alarm);
        const present = points.filter((p) => p.value !== undefined);
        const breaching = (p: { value: number | undefined }) => (p.value === undefined ? alarm.treatMissingData === "breaching" : compare(p.value, alarm.threshold));
        if (present.length === 0 && (alarm.treatMissingData === "missing" || alarm.treatMissingData === "ignore")) {
            const state = alarm.treatMissingData === "ignore" ? current : "INSUFFICIENT_DATA";
            return { state, reason: `Insufficient Data: ${alarm.evaluationPeriods} datapoints were unknown.` };
        }
        const counted = alarm.treatMissingData === "missing" || alarm.treatMissingData === "ignore" ? present : points;
        const breached = counted.filter(breaching).length;
        const shown = counted.filter((p) => p.value !== undefined).map((p) => `${round(p.value!)} (${new Date(p.start).toISOString().slice(11, 23)})`);
        const listed = shown.length > 0 ? ` [${shown.join(", ")}]` : "";
        if (breached >= alarm.datapointsToAlarm) {
            return { state: "ALARM", reason: `Threshold Crossed: ${breached} out of the last ${counted.length} datapoints${listed} were ${words} the threshold (${alarm.threshold}) (minimum ${alarm.datapointsToAlarm} datapoints for OK -> ALARM transition).` };
        }
        return { state: "OK", reason: `Threshold Crossed: ${breached} out of the last ${counted.length} datapoints${listed} were ${words} the threshold (${alarm.threshold}) (minimum ${alarm.datapointsToAlarm} datapoints for ALARM; missing data treated as ${alarm.treatMissingData}).` };
    }
}

function round(value: number): string {
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function select(line: string, field: string): unknown {
    try {
        let value: any = JSON.parse(line);
        for (const part of field.split(".")) value = value?.[part];
        return value;
    } catch {
        return undefined;
    }
}

/** A filter's dimensions: `$.field` values read from the event, others as written. */
function dimensionValues(line: string, dimensions: Record<string, string>): Dimensions {
    return Object.fromEntries(Object.entries(dimensions).map(([name, value]) => [name, value.startsWith("$.") ? String(select(line, value.slice(2)) ?? "") : value]));
}
