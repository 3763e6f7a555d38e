/**
 * `npm run bench [-- --quick]`: every benchmark in one bounded run on this machine (loopback
 * only), then `bench/results.json` (the contract keys, nothing else), `bench/details.json`
 * (sample counts, breakdowns, both Node.js versions, the levers, machine load) and markdown tables
 * on stdout. Cold starts and the request path run on Lambda's Node.js (installed into a cache from
 * the npm registry, see tools/bench/lambda-node.ts) and on this machine's; the figures in results.json
 * are Lambda's when it could be installed. `--quick` takes few samples and writes to `tools/bench/tmp/`
 * instead: a smoke run, not a measurement.
 *
 * `npm run bench -- --only <part>[,<part>…]` measures only the parts named and writes them into
 * the existing `bench/results.json`, every other figure kept: `coldInit:<handler>` (its bundled,
 * unbundled and SST cold starts beside the Node floor) and `erasure` (`--erasure-notes <n>` and
 * `--erasure-files <n>`, default 100,000 and 10,000) and `webClient` (the hosted client's script size).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import * as path from "node:path";
import { BENCH_TMP, compileUnbundled, HANDLER_NAMES, HandlerName, PREVIOUS_ENV, resetBenchTmp, writeLeverVariants, writePreviousBundles, writeSstBundles } from "../bench/builds";
import { ColdCase, coldInitFigures, measureColdStarts } from "../bench/cold-init";
import { deployedFunctions, functionEnvironment, runtimeMajor, unpack } from "../bench/deployed";
import { measureErasure } from "../bench/erasure";
import { startBenchDynamo } from "../bench/dynamo";
import { lambdaNode, machineNode, majorOf, NodeBinary } from "../bench/lambda-node";
import { measureListScaling } from "../bench/list-scaling";
import { measureMockRun } from "../bench/mock-run";
import { measurePolicyScaling } from "../bench/policy-scaling";
import { benchResultsSchema, checkTargets, FirstRequests, LeverFigure, toMarkdown } from "../bench/report";
import { webClientFigures } from "../bench/web-client";
import { deployedAuth, measureRequestPath, measureRequestPathOn } from "../bench/request-path";

const FULL = {
    coldInitSamples: 30,
    mockRuns: 3,
    requestPath: { requests: 3000, concurrency: 16, sequentialRequests: 500, warmup: 300 },
    list: { requests: 50, warmup: 10 },
    policyRounds: 9,
};
const QUICK = {
    coldInitSamples: 2,
    mockRuns: 1,
    requestPath: { requests: 200, concurrency: 16, sequentialRequests: 20, warmup: 20 },
    list: { requests: 5, warmup: 1 },
    policyRounds: 1,
};

function log(line: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const load = () => loadavg().map((value) => Math.round(value * 100) / 100);

/** The erasure's sizes: the 100,000 notes and 10,000 files unless given. */
function erasureSizes(): { notes: number; files: number } {
    const value = (flag: string, fallback: number) => {
        const at = process.argv.indexOf(flag);
        if (at < 0) return fallback;
        const n = Number(process.argv[at + 1]);
        if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a positive whole number, got ${process.argv[at + 1]}`);
        return n;
    };
    return { notes: value("--erasure-notes", 100_000), files: value("--erasure-files", 10_000) };
}

/** The Node.js the cold starts run on: Lambda's when it can be installed. */
function coldNodes(runtime: string): { nodes: NodeBinary[]; unavailable?: string } {
    const lambda = lambdaNode();
    const machine = machineNode();
    if ("unavailable" in lambda) return { nodes: [machine], unavailable: `${lambda.unavailable}; measuring on this machine's Node.js ${machine.version} only` };
    if (majorOf(lambda.version) !== runtimeMajor(runtime)) throw new Error(`the functions deploy on ${runtime} but the benchmark pins Node.js ${lambda.version}`);
    return { nodes: lambda.version === machine.version ? [lambda] : [lambda, machine] };
}

/** `--only`: the named parts, measured and merged into the committed results. */
async function partial(parts: string[], quick: boolean): Promise<void> {
    const plan = quick ? QUICK : FULL;
    const file = path.resolve(__dirname, "..", "..", "bench", "results.json");
    const results = JSON.parse(readFileSync(file, "utf8"));
    resetBenchTmp();
    for (const part of parts) {
        if (part === "erasure") {
            const sizes = erasureSizes();
            const { figures, details } = await measureErasure({ ...sizes, log });
            log(`erasure: ${JSON.stringify(figures)} ${JSON.stringify(details)}`);
            results.erasure = figures;
            continue;
        }
        if (part === "webClient") {
            results.webClient = webClientFigures((await measureMockRun({ runs: 1 })).run);
            log(`webClient: ${results.webClient.scriptBytes} bytes, ${results.webClient.scriptGzipBytes} gzip`);
            continue;
        }
        const handler = /^coldInit:(\w+)$/.exec(part)?.[1] as HandlerName | undefined;
        if (!handler || !(HANDLER_NAMES as readonly string[]).includes(handler)) throw new Error(`--only takes erasure, webClient or coldInit:<${HANDLER_NAMES.join("|")}>, got ${part}`);
        const mock = await measureMockRun({ runs: 1 });
        const functions = deployedFunctions(mock.run);
        const { nodes } = coldNodes(functions[handler].runtime);
        if (results.nodeVersion !== nodes[0].version) throw new Error(`bench/results.json was measured on ${results.nodeVersion}, this run would use ${nodes[0].version}: run the whole benchmark`);
        const deployed = unpack(functions[handler], path.join(BENCH_TMP, "deployed", handler));
        const unbundled = compileUnbundled()[handler];
        const sst = writeSstBundles()[handler];
        const db = await startBenchDynamo();
        try {
            const local = db.lambdaEnv();
            const env = functionEnvironment(functions[handler], { TABLE_NAME: local.TABLE_NAME, BUCKET_NAME: local.BUCKET_NAME });
            const cases: ColdCase[] = [
                { kind: "floor", env },
                { kind: "bundled", handler, module: deployed, env },
                { kind: "unbundled", handler, module: unbundled, env },
                { kind: "sst", handler, module: sst, env },
            ];
            const cold = await measureColdStarts([nodes[0]], cases, db, { samples: plan.coldInitSamples, log });
            const ms = (kind: string) => cold.results.find((r) => r.kind === kind && (kind === "floor" || r.handler === handler))!.ms;
            results.coldInit[handler] = { bundledMs: ms("bundled"), unbundledMs: ms("unbundled"), nodeFloorMs: ms("floor"), bundleBytes: deployed.bytes, bundleGzipBytes: deployed.gzipBytes, sstMs: ms("sst") };
            log(`coldInit ${handler}: ${JSON.stringify(results.coldInit[handler])} (${cold.processes} processes on ${nodes[0].version})`);
        } finally {
            await db.stop();
        }
    }
    const checked = benchResultsSchema.parse(results);
    const outDir = quick ? BENCH_TMP : path.dirname(file);
    writeFileSync(path.join(outDir, "results.json"), `${JSON.stringify(checked, null, 2)}\n`);
    for (const check of checkTargets(checked)) if (parts.some((part) => check.target.startsWith(part.replace("coldInit:", "")))) log(`${check.met ? "met" : "MISSED"}: ${check.target}: ${check.actual}`);
    log(`wrote ${path.relative(process.cwd(), path.join(outDir, "results.json"))} (${parts.join(", ")})`);
}

async function main(): Promise<void> {
    const quick = process.argv.includes("--quick");
    const only = process.argv.indexOf("--only");
    if (only >= 0) return partial((process.argv[only + 1] ?? "").split(",").filter(Boolean), quick);
    const plan = quick ? QUICK : FULL;
    const started = Date.now();
    const loadBefore = load();

    // What the program deploys, from the program itself, and the Node.js its runtime runs.
    resetBenchTmp();
    const mock = await measureMockRun({ runs: plan.mockRuns });
    log(`mockRun: median ${mock.ms} ms of ${mock.samplesMs.join(", ")}`);
    const webClient = webClientFigures(mock.run);
    log(`webClient: ${webClient.scriptBytes} bytes, ${webClient.scriptGzipBytes} gzip`);
    const functions = deployedFunctions(mock.run);
    const runtimes = new Set(Object.values(functions).map((fn) => fn.runtime));
    if (runtimes.size !== 1) throw new Error(`the handlers deploy on several runtimes (${[...runtimes].join(", ")}); the benchmark expects one`);
    const [runtime] = runtimes;
    const lambda = lambdaNode();
    const machine = machineNode();
    let nodes: NodeBinary[];
    let lambdaUnavailable: string | undefined;
    if ("unavailable" in lambda) {
        lambdaUnavailable = `${lambda.unavailable}; measuring on this machine's Node.js ${machine.version} only`;
        log(`Lambda's Node.js is not available: ${lambdaUnavailable}`);
        nodes = [machine];
    } else {
        if (majorOf(lambda.version) !== runtimeMajor(runtime)) {
            throw new Error(`the functions deploy on ${runtime} but the benchmark pins Node.js ${lambda.version}: update LAMBDA_NODE_VERSION in tools/bench/lambda-node.ts`);
        }
        nodes = lambda.version === machine.version ? [lambda] : [lambda, machine];
        log(`cold starts on ${nodes.map((n) => n.version).join(" and ")} (${runtime})`);
    }

    const packages = Object.fromEntries(HANDLER_NAMES.map((name) => [name, unpack(functions[name], path.join(BENCH_TMP, "deployed", name))])) as Record<HandlerName, ReturnType<typeof unpack>>;
    const unbundled = compileUnbundled();
    const sst = writeSstBundles();
    const previous = writePreviousBundles();
    const { variants, targetNode22SameBytes, lazyInitModules } = writeLeverVariants();
    log(`wrote the deployed packages, the unbundled handlers, SST's bundles, the previous bundles and ${variants.length} lever variants in ${path.relative(process.cwd(), BENCH_TMP)}`);

    const db = await startBenchDynamo();
    try {
        const local = db.lambdaEnv();
        const envOf = (name: HandlerName) => functionEnvironment(functions[name], { TABLE_NAME: local.TABLE_NAME, BUCKET_NAME: local.BUCKET_NAME });
        const cases: ColdCase[] = [{ kind: "floor", env: envOf("get") }];
        for (const name of HANDLER_NAMES) {
            cases.push({ kind: "bundled", handler: name, module: packages[name], env: envOf(name) });
            cases.push({ kind: "unbundled", handler: name, module: unbundled[name], env: envOf(name) });
            // SST sets no NODE_OPTIONS; its function gets the same table and bucket.
            cases.push({ kind: "sst", handler: name, module: sst[name], env: { TABLE_NAME: local.TABLE_NAME, BUCKET_NAME: local.BUCKET_NAME } });
            cases.push({ kind: "previous", handler: name, module: previous[name], env: { ...envOf(name), ...PREVIOUS_ENV }, lambdaOnly: true });
        }
        for (const variant of variants) {
            cases.push({ kind: variant.name, handler: variant.handler, module: variant, env: { ...envOf(variant.handler), ...variant.env }, lambdaOnly: true, prepareEnv: variant.prepareEnv, expectedStatus: variant.expectedStatus, withAttachment: variant.withAttachment });
        }

        const cold = await measureColdStarts(nodes, cases, db, { samples: plan.coldInitSamples, log });
        const loadAfterColdInit = load();
        log(`coldInit done (${cold.processes} processes; load average ${loadAfterColdInit.join(", ")})`);
        const byNode = Object.fromEntries(nodes.map((node) => [node.version, coldInitFigures(cold.results, node.version, packages)]));
        const primary = nodes[0].version;
        const resultOf = (kind: string, handler: HandlerName) => cold.results.find((r) => r.node === primary && r.kind === kind && r.handler === handler)!;
        const levers: LeverFigure[] = variants.map((variant) => {
            const measured = resultOf(variant.name, variant.handler);
            return {
                name: variant.name,
                handler: variant.handler,
                description: variant.description,
                bytes: variant.bytes,
                ms: measured.ms,
                loadMs: measured.breakdown.loadMs,
                requestMs: measured.breakdown.requestMs,
                cpuMs: measured.breakdown.cpuMs,
                shippedMs: byNode[primary][variant.handler].bundledMs,
                shippedCpuMs: resultOf("bundled", variant.handler).breakdown.cpuMs,
            };
        });
        const firstRequests: FirstRequests = Object.fromEntries(
            HANDLER_NAMES.map((name) => [name, { shippedMs: resultOf("bundled", name).breakdown.requestMs, previousMs: resultOf("previous", name).breakdown.requestMs }]),
        );

        const list = await measureListScaling(db, plan.list);
        log(`listScaling: ${JSON.stringify(list.figures)} (seeding took ${list.details.seedMs} ms)`);
        const auth = deployedAuth(mock.run);
        const requestPaths: Record<string, Awaited<ReturnType<typeof measureRequestPath>>> = {};
        for (const node of nodes) {
            requestPaths[node.version] =
                node.version === process.version
                    ? await measureRequestPath(db, auth, functions.get, plan.requestPath)
                    : await measureRequestPathOn(node, db, auth, functions.get, plan.requestPath);
            log(`requestPath on ${node.version}: ${JSON.stringify(requestPaths[node.version].figures)}`);
        }
        const policy = await measurePolicyScaling({ rounds: plan.policyRounds });
        log(`policyScaling: ${JSON.stringify(policy.figures)}`);
        const erasure = await measureErasure({ ...(quick ? { notes: 2000, files: 1500 } : erasureSizes()), log });
        log(`erasure: ${JSON.stringify(erasure.figures)}`);

        const results = benchResultsSchema.parse({
            nodeVersion: primary,
            coldInit: byNode[primary],
            requestPath: requestPaths[primary].figures,
            listScaling: list.figures,
            policyScaling: policy.figures,
            mockRun: mock.ms,
            webClient,
            erasure: erasure.figures,
        });
        const details = {
            generatedAt: new Date().toISOString(),
            quick,
            totalSeconds: Math.round((Date.now() - started) / 1000),
            machine: {
                node: machine.version,
                platform: `${process.platform}/${process.arch}`,
                cpus: cpus().length,
                cpuModel: cpus()[0]?.model,
                loadavgBefore: loadBefore,
                loadavgAfterColdInit: loadAfterColdInit,
                loadavgAfter: load(),
            },
            runtime,
            lambdaNode: lambdaUnavailable ?? primary,
            coldInit: {
                processes: cold.processes,
                samplesPerFigure: plan.coldInitSamples,
                byNode,
                cases: cold.results,
                levers,
                targetNode22SameBytes,
                lazyInitModules,
                firstRequests,
                sstBytes: Object.fromEntries(HANDLER_NAMES.map((name) => [name, { bytes: sst[name].bytes, gzipBytes: sst[name].gzipBytes }])),
            },
            requestPath: Object.fromEntries(Object.entries(requestPaths).map(([node, r]) => [node, { figures: r.figures, ...r.details }])),
            listScaling: list.details,
            policyScaling: policy.details,
            mockRun: { samplesMs: mock.samplesMs },
            erasure: erasure.details,
            targets: checkTargets(results, firstRequests),
        };
        const outDir = quick ? BENCH_TMP : path.resolve(__dirname, "..", "..", "bench");
        mkdirSync(outDir, { recursive: true });
        writeFileSync(path.join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
        writeFileSync(path.join(outDir, "details.json"), `${JSON.stringify(details, null, 2)}\n`);
        const otherNodes = nodes.slice(1).map((node) => ({ node: node.version, coldInit: byNode[node.version] }));
        process.stdout.write(`${toMarkdown(results, { otherNodes, levers, firstRequests })}\n`);
        log(`wrote ${path.relative(process.cwd(), path.join(outDir, "results.json"))} in ${details.totalSeconds} s`);
    } finally {
        await db.stop();
    }
}

main().then(
    () => process.exit(0),
    (error) => {
        process.stderr.write(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
        process.exit(1);
    },
);
