import { execFile } from "node:child_process";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";

export const PROGRAMS = path.join(REPO_ROOT, "test", "fixtures", "programs");

export interface PolicyCheckResult {
    code: number;
    /** stdout lines (violations, then the summary); `[""]` when nothing was printed. */
    lines: string[];
    stderr: string;
}

/**
 * Runs `npm run policy:check`'s script as CI does, in a child process, without any AWS region in
 * the environment. `env` adds variables (PULUMI_NODEJS_TRANSPILE_ONLY, as the CLI reads it).
 */
export function policyCheck(args: string[], env: Record<string, string> = {}): Promise<PolicyCheckResult> {
    const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete environment.AWS_REGION;
    delete environment.AWS_DEFAULT_REGION;
    return new Promise((resolve) => {
        execFile(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/scripts/policy-check.ts", ...args], { cwd: REPO_ROOT, env: environment, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as any).code) : 0, lines: stdout.trim().split("\n"), stderr }),
        );
    });
}

/** Runs tasks `width` at a time (each policy:check is a Node process with its own Pulumi runtime). */
export function limited<T>(tasks: (() => Promise<T>)[], width = 2): Promise<T>[] {
    const results: Promise<T>[] = [];
    const chain: Promise<unknown>[] = Array.from({ length: width }, () => Promise.resolve());
    tasks.forEach((task, index) => {
        const slot = index % width;
        const run = chain[slot].then(task, task);
        chain[slot] = run.catch(() => undefined);
        results.push(run);
    });
    return results;
}
