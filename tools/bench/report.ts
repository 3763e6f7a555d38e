/**
 * The `bench/results.json` contract (its keys, with `nodeVersion` and each handler's
 * `sstMs`), the targets the figures are held to, and the markdown tables `npm run bench` prints
 * and BENCHMARKS.md quotes.
 */
import * as z from "zod";
import { HANDLER_NAMES, HandlerName } from "./builds";
import { WEB_CLIENT_GZIP_BUDGET_BYTES } from "./web-client";

const ms = z.number().nonnegative();
const positive = z.number().positive();

const coldInitFigures = z.strictObject({
    bundledMs: positive,
    unbundledMs: positive,
    nodeFloorMs: positive,
    bundleBytes: z.number().int().positive(),
    bundleGzipBytes: z.number().int().positive(),
    /** SST v3's default bundling of the same handler, measured in the same rounds. */
    sstMs: positive,
});

export const benchResultsSchema = z.strictObject({
    /** The Node.js that `coldInit` (and `requestPath`) ran on: Lambda's when it could be installed. */
    nodeVersion: z.string().regex(/^v\d+\.\d+\.\d+$/),
    coldInit: z.strictObject(Object.fromEntries(HANDLER_NAMES.map((name) => [name, coldInitFigures])) as Record<HandlerName, typeof coldInitFigures>),
    requestPath: z.strictObject({ directP50: ms, directP99: ms, gatewayP50: ms, gatewayP99: ms, rps: positive }),
    listScaling: z.strictObject({ "10": positive, "1000": positive, "10000": positive }),
    policyScaling: z.strictObject({ "100": positive, "1000": positive, "10000": positive }),
    mockRun: positive,
    /** The hosted reference client's script (tools/bench/web-client.ts). */
    webClient: z.strictObject({ scriptBytes: z.number().int().positive(), scriptGzipBytes: z.number().int().positive() }),
    /** DELETE /account's erasure against the local cloud (tools/bench/erasure.ts). */
    erasure: z.strictObject({
        notes: z.number().int().positive(),
        files: z.number().int().positive(),
        wallMsPer1000Notes: positive,
        wallMsPer1000Files: positive,
        requestsPer1000Notes: positive,
        requestsPer1000Files: positive,
        minimumRequestsPer1000Notes: positive,
        minimumRequestsPer1000Files: positive,
        maxCallMs: positive,
        timeoutMs: positive,
    }),
});

export type BenchResults = z.infer<typeof benchResultsSchema>;

export interface TargetCheck {
    target: string;
    actual: string;
    met: boolean;
}

const BUNDLE_LIMIT_BYTES = 600 * 1024;

/** A handler's first request after init (the child's own clock), shipped against the bundle without the Node 22 settings (`previous`). */
export type FirstRequests = Partial<Record<HandlerName, { shippedMs: number; previousMs: number }>>;

/** The targets, evaluated on a run. */
export function checkTargets(results: BenchResults, firstRequests: FirstRequests = {}): TargetCheck[] {
    const checks: TargetCheck[] = [];
    for (const [name, f] of Object.entries(results.coldInit) as [HandlerName, BenchResults["coldInit"][HandlerName]][]) {
        checks.push({
            target: `${name}: bundled cold init <= 0.75x SST v3 defaults`,
            actual: `${f.bundledMs} / ${f.sstMs} ms = ${(f.bundledMs / f.sstMs).toFixed(2)}x`,
            met: f.bundledMs <= 0.75 * f.sstMs,
        });
        checks.push({
            target: `${name}: bundled cold init <= 3x Node floor`,
            actual: `${f.bundledMs} ms = ${(f.bundledMs / f.nodeFloorMs).toFixed(2)}x of ${f.nodeFloorMs} ms`,
            met: f.bundledMs <= 3 * f.nodeFloorMs,
        });
        checks.push({
            target: `${name}: bundled cold init <= 0.5x unbundled`,
            actual: `${f.bundledMs} / ${f.unbundledMs} ms = ${(f.bundledMs / f.unbundledMs).toFixed(2)}x`,
            met: f.bundledMs <= 0.5 * f.unbundledMs,
        });
        checks.push({
            target: `${name}: bundle < 600 KB minified`,
            actual: `${(f.bundleBytes / 1024).toFixed(1)} KB (${(f.bundleGzipBytes / 1024).toFixed(1)} KB gzip)`,
            met: f.bundleBytes < BUNDLE_LIMIT_BYTES,
        });
        const first = firstRequests[name];
        if (first) {
            checks.push({
                target: `${name}: first request after init no slower than without the Node 22 settings (previous)`,
                actual: `${first.shippedMs} against ${first.previousMs} ms`,
                met: first.shippedMs <= first.previousMs,
            });
        }
    }
    const overhead = results.requestPath.gatewayP50 - results.requestPath.directP50;
    checks.push({ target: "gateway overhead (gatewayP50 - directP50) < 2 ms", actual: `${overhead.toFixed(2)} ms`, met: overhead < 2 });
    const list = results.listScaling["10000"] / results.listScaling["10"];
    checks.push({ target: "listScaling 10000 <= 1.5x listScaling 10", actual: `${list.toFixed(2)}x`, met: list <= 1.5 });
    const policy = results.policyScaling["10000"] / results.policyScaling["1000"];
    checks.push({ target: "policyScaling 10000 <= 12x policyScaling 1000", actual: `${policy.toFixed(2)}x`, met: policy <= 12 });
    checks.push({ target: "policyScaling 10000 < 2 s", actual: `${results.policyScaling["10000"]} ms`, met: results.policyScaling["10000"] < 2000 });
    const web = results.webClient;
    checks.push({
        target: "web client script < 100 KB gzip",
        actual: `${(web.scriptGzipBytes / 1024).toFixed(1)} KB gzip (${(web.scriptBytes / 1024).toFixed(1)} KB minified)`,
        met: web.scriptGzipBytes < WEB_CLIENT_GZIP_BUDGET_BYTES,
    });
    const e = results.erasure;
    // Rounded to a thousandth: 2.2 / 2 is 1.1000000000000001 in floating point.
    const notesRatio = Math.round((e.requestsPer1000Notes / e.minimumRequestsPer1000Notes) * 1000) / 1000;
    const filesRatio = Math.round((e.requestsPer1000Files / e.minimumRequestsPer1000Files) * 1000) / 1000;
    checks.push({ target: "erasure: requests per 1,000 notes <= 1.1x the minimum", actual: `${e.requestsPer1000Notes} / ${e.minimumRequestsPer1000Notes} = ${notesRatio.toFixed(3)}x (${e.notes} notes)`, met: notesRatio <= 1.1 });
    checks.push({ target: "erasure: requests per 1,000 files <= 1.1x the minimum", actual: `${e.requestsPer1000Files} / ${e.minimumRequestsPer1000Files} = ${filesRatio.toFixed(3)}x (${e.files} files)`, met: filesRatio <= 1.1 });
    checks.push({ target: "erasure: every call inside the function's timeout", actual: `longest ${e.maxCallMs} ms of ${e.timeoutMs} ms`, met: e.maxCallMs < e.timeoutMs });
    return checks;
}

/** Cold starts on one Node.js, for the markdown table. */
export interface NodeColdInit {
    node: string;
    coldInit: BenchResults["coldInit"];
}

/** A lever's cold start beside the shipped bundle of the same handler (Lambda's Node.js). */
export interface LeverFigure {
    name: string;
    handler: HandlerName;
    description: string;
    bytes: number;
    ms: number;
    loadMs: number;
    requestMs: number;
    cpuMs: number;
    shippedMs: number;
    shippedCpuMs: number;
}

function coldInitTable({ node, coldInit }: NodeColdInit): string[] {
    const lines = [`Node ${node}:`, "", "| handler | bundled ms | SST v3 ms | unbundled ms | node floor ms | bundle KB | gzip KB |", "|---|---:|---:|---:|---:|---:|---:|"];
    for (const [name, f] of Object.entries(coldInit)) {
        lines.push(`| ${name} | ${f.bundledMs} | ${f.sstMs} | ${f.unbundledMs} | ${f.nodeFloorMs} | ${(f.bundleBytes / 1024).toFixed(1)} | ${(f.bundleGzipBytes / 1024).toFixed(1)} |`);
    }
    return lines;
}

/** The figures and the targets as markdown tables; other nodes' cold starts and the levers when given. */
export function toMarkdown(results: BenchResults, extra: { otherNodes?: NodeColdInit[]; levers?: LeverFigure[]; firstRequests?: FirstRequests } = {}): string {
    const lines: string[] = [];
    lines.push(...coldInitTable({ node: results.nodeVersion, coldInit: results.coldInit }));
    for (const other of extra.otherNodes ?? []) lines.push("", ...coldInitTable(other));
    if (extra.levers?.length) {
        lines.push("", `Levers (Node ${results.nodeVersion}), each the shipped bundle with one setting changed:`, "");
        lines.push(
            "| lever | handler | bundle KB | cold init ms | vs shipped ms | CPU ms | vs shipped CPU ms | load ms | first request ms |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        );
        const signed = (value: number) => `${value > 0 ? "+" : ""}${value.toFixed(1)}`;
        for (const l of extra.levers) {
            lines.push(
                `| ${l.name}: ${l.description} | ${l.handler} | ${(l.bytes / 1024).toFixed(1)} | ${l.ms} | ${signed(l.ms - l.shippedMs)} | ${l.cpuMs} | ${signed(l.cpuMs - l.shippedCpuMs)} | ${l.loadMs} | ${l.requestMs} |`,
            );
        }
    }
    const rp = results.requestPath;
    lines.push("", `| requestPath (Node ${results.nodeVersion}) | p50 ms | p99 ms |`, "|---|---:|---:|");
    lines.push(`| direct (handler call) | ${rp.directP50} | ${rp.directP99} |`, `| gateway (signed HTTP) | ${rp.gatewayP50} | ${rp.gatewayP99} |`);
    lines.push(`| gateway rps | ${rp.rps} | |`);
    lines.push("", "| listScaling (notes owned) | 10 | 1000 | 10000 |", "|---|---:|---:|---:|");
    lines.push(`| first page ms | ${results.listScaling["10"]} | ${results.listScaling["1000"]} | ${results.listScaling["10000"]} |`);
    const e = results.erasure;
    lines.push("", `| erasure (${e.notes} notes, ${e.files} files, local cloud) | per 1,000 notes | per 1,000 files |`, "|---|---:|---:|");
    lines.push(`| wall ms | ${e.wallMsPer1000Notes} | ${e.wallMsPer1000Files} |`, `| AWS requests | ${e.requestsPer1000Notes} | ${e.requestsPer1000Files} |`, `| minimum requests | ${e.minimumRequestsPer1000Notes} | ${e.minimumRequestsPer1000Files} |`);
    lines.push("", "| policyScaling (resources) | 100 | 1000 | 10000 |", "|---|---:|---:|---:|");
    lines.push(`| whole pack ms | ${results.policyScaling["100"]} | ${results.policyScaling["1000"]} | ${results.policyScaling["10000"]} |`);
    lines.push("", `| mockRun (dev stack, fresh process) | ${results.mockRun} ms |`, "|---|---:|");
    lines.push("", "| webClient (the hosted site's script) | KB | gzip KB |", "|---|---:|---:|");
    lines.push(`| app-<hash>.js | ${(results.webClient.scriptBytes / 1024).toFixed(1)} | ${(results.webClient.scriptGzipBytes / 1024).toFixed(1)} |`);
    lines.push("", "| target | actual | met |", "|---|---|---|");
    for (const check of checkTargets(results, extra.firstRequests)) lines.push(`| ${check.target} | ${check.actual} | ${check.met ? "yes" : "**no**"} |`);
    return lines.join("\n");
}
