/**
 * coldInit: for each handler, fresh Node processes that load the handler and serve one request
 * against the local DynamoDB, timed from spawn to exit. Three kinds of process, run one at a time
 * and interleaved round by round (so drift in machine load hits them alike): the deployed bundle,
 * the same handler compiled without bundling (dependencies from node_modules), and `node -e ""`.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { httpEvent, newIdentityId } from "../test/support/events";
import { compileChild, HANDLER_NAMES, HandlerBuild, HandlerName, VariantBuild } from "./builds";
import { BenchDynamo, seedNotes } from "./dynamo";
import { median, nowMs, round } from "./stats";

export interface ColdInitFigures {
    bundledMs: number;
    unbundledMs: number;
    nodeFloorMs: number;
    bundleBytes: number;
    bundleGzipBytes: number;
}

/** Where the time of a median process went, from the child's own clock (for BENCHMARKS.md). */
export interface ColdInitBreakdown {
    bootMs: number;
    loadMs: number;
    requestMs: number;
    /** CommonJS files the process loaded (an ESM entry itself is not counted), and their bytes on disk. */
    modules: number;
    moduleBytes: number;
}

export interface ColdInitResult {
    figures: Record<HandlerName, ColdInitFigures>;
    details: {
        processes: number;
        samplesPerFigure: number;
        bundled: Record<HandlerName, ColdInitBreakdown>;
        unbundled: Record<HandlerName, ColdInitBreakdown>;
        /** Other ways to ship one handler, measured in the same rounds (median wall ms and breakdown). */
        variants: { handler: HandlerName; name: string; description: string; bytes: number; ms: number; breakdown: ColdInitBreakdown }[];
    };
}

interface ChildRun {
    wallMs: number;
    breakdown: ColdInitBreakdown;
}

/** One fresh process: spawn to exit, wall clock. */
function runChild(args: string[], env: Record<string, string>): Promise<ChildRun> {
    return new Promise((resolve, reject) => {
        const started = nowMs();
        const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        child.once("error", reject);
        child.once("exit", (code) => {
            const wallMs = nowMs() - started;
            if (code !== 0) return reject(new Error(`cold-start child ${args.join(" ").slice(0, 200)} exited with ${code}: ${stderr}`));
            if (/code cache rejected/.test(stderr)) return reject(new Error(`V8 rejected the code cache of ${args[1]}`));
            // `node -e ""` (the floor) reports nothing; handler children always report before exit 0.
            const line = /^BENCH (.*)$/m.exec(stderr)?.[1];
            resolve({ wallMs, breakdown: line ? JSON.parse(line) : { bootMs: 0, loadMs: 0, requestMs: 0, modules: 0, moduleBytes: 0 } });
        });
    });
}

/** What each handler is asked on a cold start, and the status that proves it really worked. */
function requestFor(name: HandlerName, identityId: string, noteId: () => string) {
    switch (name) {
        case "create":
            return { event: httpEvent({ identityId, method: "POST", path: "/notes", body: { content: "cold start" } }), status: 201 };
        case "get":
            return { event: httpEvent({ identityId, method: "GET", path: `/notes/${noteId()}` }), status: 200 };
        case "list":
            return { event: httpEvent({ identityId, method: "GET", path: "/notes" }), status: 200 };
        case "update":
            return { event: httpEvent({ identityId, method: "PUT", path: `/notes/${noteId()}`, body: { content: "warmed" } }), status: 200 };
        case "delete":
            return { event: httpEvent({ identityId, method: "DELETE", path: `/notes/${noteId()}` }), status: 204 };
    }
}

export async function measureColdInit(
    builds: Record<HandlerName, HandlerBuild>,
    db: BenchDynamo,
    options: { samples: number; variants?: { handler: HandlerName; builds: VariantBuild[] }; log?: (line: string) => void },
): Promise<ColdInitResult> {
    const { samples } = options;
    const child = compileChild(path.join(__dirname, "cold-child.ts"));
    const identityId = newIdentityId();
    // get/update reuse one note; every delete process needs a note of its own.
    const [shared] = await seedNotes(db, identityId, 1);
    const variantBuilds = options.variants?.builds ?? [];
    const toDelete = await seedNotes(db, identityId, samples * (2 + variantBuilds.length) + 1);
    const childArgs = (name: HandlerName, module: string) => {
        const { event, status } = requestFor(name, identityId, () => (name === "delete" ? toDelete.pop()! : shared));
        return [child, module, JSON.stringify(event), String(status)];
    };
    // Exactly what Lambda gives the function (plus local endpoints and credentials), nothing of ours.
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        ...db.lambdaEnv(),
        NODE_OPTIONS: "--enable-source-maps",
    };

    const wall = { floor: [] as number[], bundled: {} as Record<HandlerName, ChildRun[]>, unbundled: {} as Record<HandlerName, ChildRun[]> };
    for (const name of HANDLER_NAMES) {
        wall.bundled[name] = [];
        wall.unbundled[name] = [];
    }
    for (const variant of variantBuilds.filter((v) => v.name === "codeCache")) {
        // One warm-up process writes the code cache the measured processes then load.
        await runChild(childArgs(options.variants!.handler, variant.module), { ...env, BENCH_PRODUCE_CODE_CACHE: "1" });
    }
    const variantRuns = new Map<string, ChildRun[]>(variantBuilds.map((v) => [v.name, []]));
    let processes = 0;
    for (let round = 0; round < samples; round++) {
        wall.floor.push((await runChild(["-e", ""], env)).wallMs);
        processes++;
        for (const name of HANDLER_NAMES) {
            for (const kind of ["bundled", "unbundled"] as const) {
                const module = kind === "bundled" ? builds[name].bundledModule : builds[name].unbundledModule;
                wall[kind][name].push(await runChild(childArgs(name, module), env));
                processes++;
            }
        }
        for (const variant of variantBuilds) {
            variantRuns.get(variant.name)!.push(await runChild(childArgs(options.variants!.handler, variant.module), env));
            processes++;
        }
        options.log?.(`coldInit: round ${round + 1}/${samples} (${processes} processes)`);
    }

    const breakdown = (runs: ChildRun[]): ColdInitBreakdown => ({
        bootMs: round(median(runs.map((r) => r.breakdown.bootMs))),
        loadMs: round(median(runs.map((r) => r.breakdown.loadMs))),
        requestMs: round(median(runs.map((r) => r.breakdown.requestMs))),
        modules: runs[0].breakdown.modules,
        moduleBytes: runs[0].breakdown.moduleBytes,
    });
    const nodeFloorMs = round(median(wall.floor));
    const figures = {} as Record<HandlerName, ColdInitFigures>;
    const bundled = {} as Record<HandlerName, ColdInitBreakdown>;
    const unbundled = {} as Record<HandlerName, ColdInitBreakdown>;
    for (const name of HANDLER_NAMES) {
        figures[name] = {
            bundledMs: round(median(wall.bundled[name].map((r) => r.wallMs))),
            unbundledMs: round(median(wall.unbundled[name].map((r) => r.wallMs))),
            nodeFloorMs,
            bundleBytes: builds[name].bundleBytes,
            bundleGzipBytes: builds[name].bundleGzipBytes,
        };
        bundled[name] = breakdown(wall.bundled[name]);
        unbundled[name] = breakdown(wall.unbundled[name]);
    }
    const variants = variantBuilds.map((v) => ({
        handler: options.variants!.handler,
        name: v.name,
        description: v.description,
        bytes: v.bytes,
        ms: round(median(variantRuns.get(v.name)!.map((r) => r.wallMs))),
        breakdown: breakdown(variantRuns.get(v.name)!),
    }));
    return { figures, details: { processes, samplesPerFigure: samples, bundled, unbundled, variants } };
}
