/**
 * The `bench/results.json` contract (issue 6: exactly these keys), the targets the figures are
 * held to, and the markdown table `npm run bench` prints and BENCHMARKS.md quotes.
 */
import * as z from "zod";
import { HANDLER_NAMES } from "./builds";

const ms = z.number().nonnegative();
const positive = z.number().positive();

const coldInitFigures = z.strictObject({
    bundledMs: positive,
    unbundledMs: positive,
    nodeFloorMs: positive,
    bundleBytes: z.number().int().positive(),
    bundleGzipBytes: z.number().int().positive(),
});

export const benchResultsSchema = z.strictObject({
    coldInit: z.strictObject(Object.fromEntries(HANDLER_NAMES.map((name) => [name, coldInitFigures])) as Record<(typeof HANDLER_NAMES)[number], typeof coldInitFigures>),
    requestPath: z.strictObject({ directP50: ms, directP99: ms, gatewayP50: ms, gatewayP99: ms, rps: positive }),
    listScaling: z.strictObject({ "10": positive, "1000": positive, "10000": positive }),
    policyScaling: z.strictObject({ "100": positive, "1000": positive, "10000": positive }),
    mockRun: positive,
});

export type BenchResults = z.infer<typeof benchResultsSchema>;

export interface TargetCheck {
    target: string;
    actual: string;
    met: boolean;
}

const BUNDLE_LIMIT_BYTES = 600 * 1024;

/** The targets, evaluated on a run. */
export function checkTargets(results: BenchResults): TargetCheck[] {
    const checks: TargetCheck[] = [];
    for (const [name, figures] of Object.entries(results.coldInit)) {
        checks.push({
            target: `${name}: bundled cold init <= 1.5x Node floor`,
            actual: `${figures.bundledMs} ms = ${(figures.bundledMs / figures.nodeFloorMs).toFixed(2)}x of ${figures.nodeFloorMs} ms`,
            met: figures.bundledMs <= 1.5 * figures.nodeFloorMs,
        });
        checks.push({
            target: `${name}: bundled cold init <= 0.5x unbundled`,
            actual: `${figures.bundledMs} / ${figures.unbundledMs} ms = ${(figures.bundledMs / figures.unbundledMs).toFixed(2)}x`,
            met: figures.bundledMs <= 0.5 * figures.unbundledMs,
        });
        checks.push({
            target: `${name}: bundle < 600 KB minified`,
            actual: `${(figures.bundleBytes / 1024).toFixed(1)} KB (${(figures.bundleGzipBytes / 1024).toFixed(1)} KB gzip)`,
            met: figures.bundleBytes < BUNDLE_LIMIT_BYTES,
        });
    }
    const overhead = results.requestPath.gatewayP50 - results.requestPath.directP50;
    checks.push({ target: "gateway overhead (gatewayP50 - directP50) < 2 ms", actual: `${overhead.toFixed(2)} ms`, met: overhead < 2 });
    const list = results.listScaling["10000"] / results.listScaling["10"];
    checks.push({ target: "listScaling 10000 <= 1.5x listScaling 10", actual: `${list.toFixed(2)}x`, met: list <= 1.5 });
    const policy = results.policyScaling["10000"] / results.policyScaling["1000"];
    checks.push({ target: "policyScaling 10000 <= 12x policyScaling 1000", actual: `${policy.toFixed(2)}x`, met: policy <= 12 });
    checks.push({ target: "policyScaling 10000 < 2 s", actual: `${results.policyScaling["10000"]} ms`, met: results.policyScaling["10000"] < 2000 });
    return checks;
}

/** The figures and the targets as markdown tables. */
export function toMarkdown(results: BenchResults): string {
    const lines: string[] = [];
    lines.push("| handler | bundled ms | unbundled ms | node floor ms | bundle KB | gzip KB |", "|---|---:|---:|---:|---:|---:|");
    for (const [name, f] of Object.entries(results.coldInit)) {
        lines.push(`| ${name} | ${f.bundledMs} | ${f.unbundledMs} | ${f.nodeFloorMs} | ${(f.bundleBytes / 1024).toFixed(1)} | ${(f.bundleGzipBytes / 1024).toFixed(1)} |`);
    }
    const rp = results.requestPath;
    lines.push("", "| requestPath | p50 ms | p99 ms |", "|---|---:|---:|");
    lines.push(`| direct (handler call) | ${rp.directP50} | ${rp.directP99} |`, `| gateway (signed HTTP) | ${rp.gatewayP50} | ${rp.gatewayP99} |`);
    lines.push(`| gateway rps | ${rp.rps} | |`);
    lines.push("", "| listScaling (notes owned) | 10 | 1000 | 10000 |", "|---|---:|---:|---:|");
    lines.push(`| first page ms | ${results.listScaling["10"]} | ${results.listScaling["1000"]} | ${results.listScaling["10000"]} |`);
    lines.push("", "| policyScaling (resources) | 100 | 1000 | 10000 |", "|---|---:|---:|---:|");
    lines.push(`| whole pack ms | ${results.policyScaling["100"]} | ${results.policyScaling["1000"]} | ${results.policyScaling["10000"]} |`);
    lines.push("", `| mockRun (dev stack, fresh process) | ${results.mockRun} ms |`, "|---|---:|");
    lines.push("", "| target | actual | met |", "|---|---|---|");
    for (const check of checkTargets(results)) lines.push(`| ${check.target} | ${check.actual} | ${check.met ? "yes" : "**no**"} |`);
    return lines.join("\n");
}
