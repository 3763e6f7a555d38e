/**
 * `npm run bench [-- --quick]`: every benchmark of issue 6 in one bounded run on this machine
 * (loopback only), then `bench/results.json` (the contract keys, nothing else),
 * `bench/details.json` (sample counts, breakdowns, machine) and a markdown table on stdout.
 * `--quick` takes few samples and writes to `bench/tmp/` instead: a smoke run, not a measurement.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import * as path from "node:path";
import { BENCH_TMP, resetBenchTmp, writeBundles, writeVariants } from "../bench/builds";
import { measureColdInit } from "../bench/cold-init";
import { startBenchDynamo } from "../bench/dynamo";
import { measureListScaling } from "../bench/list-scaling";
import { measureMockRun } from "../bench/mock-run";
import { measurePolicyScaling } from "../bench/policy-scaling";
import { deployedAuth, measureRequestPath } from "../bench/request-path";
import { benchResultsSchema, checkTargets, toMarkdown } from "../bench/report";

const FULL = {
    coldInitSamples: 20,
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

async function main(): Promise<void> {
    const quick = process.argv.includes("--quick");
    const plan = quick ? QUICK : FULL;
    const started = Date.now();
    const loadBefore = loadavg();

    resetBenchTmp();
    const builds = writeBundles();
    const variants = writeVariants("get");
    log(`built ${Object.keys(builds).length} bundles and the unbundled handlers in ${path.relative(process.cwd(), BENCH_TMP)}`);

    const mock = await measureMockRun({ runs: plan.mockRuns });
    log(`mockRun: median ${mock.ms} ms of ${mock.samplesMs.join(", ")}`);

    const db = await startBenchDynamo();
    try {
        const cold = await measureColdInit(builds, db, { samples: plan.coldInitSamples, variants: { handler: "get", builds: variants }, log });
        log("coldInit done");
        const list = await measureListScaling(db, plan.list);
        log(`listScaling: ${JSON.stringify(list.figures)} (seeding took ${list.details.seedMs} ms)`);
        const request = await measureRequestPath(db, deployedAuth(mock.run), plan.requestPath);
        log(`requestPath: ${JSON.stringify(request.figures)}`);
        const policy = await measurePolicyScaling({ rounds: plan.policyRounds });
        log(`policyScaling: ${JSON.stringify(policy.figures)}`);

        const results = benchResultsSchema.parse({
            coldInit: cold.figures,
            requestPath: request.figures,
            listScaling: list.figures,
            policyScaling: policy.figures,
            mockRun: mock.ms,
        });
        const details = {
            generatedAt: new Date().toISOString(),
            quick,
            totalSeconds: Math.round((Date.now() - started) / 1000),
            machine: { node: process.version, platform: `${process.platform}/${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgBefore: loadBefore, loadavgAfter: loadavg() },
            coldInit: cold.details,
            requestPath: request.details,
            listScaling: list.details,
            policyScaling: policy.details,
            mockRun: { samplesMs: mock.samplesMs },
            targets: checkTargets(results),
        };
        const outDir = quick ? BENCH_TMP : path.resolve(__dirname, "..", "bench");
        mkdirSync(outDir, { recursive: true });
        writeFileSync(path.join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
        writeFileSync(path.join(outDir, "details.json"), `${JSON.stringify(details, null, 2)}\n`);
        process.stdout.write(`${toMarkdown(results)}\n`);
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
