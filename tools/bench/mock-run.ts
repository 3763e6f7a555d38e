/**
 * mockRun: the real program (`index.ts`, dev stack) evaluated under Pulumi mocks end to end, in a
 * fresh process as `runProgramIsolated` runs it: Node start, ts-node, Pulumi's runtime, bundling
 * the five handlers with esbuild, registering every resource, resolving the outputs.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import type { ProgramRun } from "../engine/program";
import { median, nowMs, round } from "./stats";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

function runOnce(stack: string): Promise<{ ms: number; run: ProgramRun }> {
    return new Promise((resolve, reject) => {
        const started = nowMs();
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "tools", "engine", "run-isolated.ts"), stack, "{}"],
            { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") } },
            (error, stdout, stderr) => {
                const ms = nowMs() - started;
                if (error) return reject(new Error(`the program failed under mocks: ${stderr || error.message}`));
                resolve({ ms, run: JSON.parse(stdout) });
            },
        );
    });
}

/** Median of `runs` sequential runs, and the last run's resources (the request-path benchmark reuses them). */
export async function measureMockRun(options: { runs: number; stack?: string }): Promise<{ ms: number; samplesMs: number[]; run: ProgramRun }> {
    const samplesMs: number[] = [];
    let last: ProgramRun | undefined;
    for (let i = 0; i < options.runs; i++) {
        const { ms, run } = await runOnce(options.stack ?? "dev");
        samplesMs.push(round(ms));
        last = run;
    }
    return { ms: round(median(samplesMs)), samplesMs, run: last! };
}
