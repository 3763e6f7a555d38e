import { ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { AdminCredentials, readAdminCredentials } from "./keys";
import { type LocalOutputs, OUTPUTS_FILE } from "./outputs";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A local cloud running as `npm start` runs it, in a child process. */
export interface LocalCloudProcess {
    outputs: LocalOutputs;
    /** The data directory's admin key, for the User Pools' admin actions. */
    adminCredentials: AdminCredentials;
    /** Everything the process printed so far (stdout and stderr). */
    output(): string;
    /** Seconds from spawn to `outputs.json`. */
    readySeconds: number;
    /** Sends the signal and resolves with the exit code. */
    stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns `tools/scripts/start.ts` (the mocha process cannot run the program in-process: Pulumi's runtime
 * is global and other suites use it) with a data dir, on free ports, and waits for outputs.json.
 */
export async function startLocalCloudProcess(dataDir: string, extraArgs: string[] = [], timeoutMs = 40_000, fresh = true, env: Record<string, string> = {}): Promise<LocalCloudProcess> {
    // The local cloud removes a previous outputs.json itself; remove it here too so the wait
    // below cannot see it before the child process gets that far. (`fresh: false` keeps it, for
    // a start that is expected to fail while another local cloud owns the directory.)
    const outputsFile = path.join(dataDir, OUTPUTS_FILE);
    if (fresh) rmSync(outputsFile, { force: true });
    const previous = existsSync(outputsFile) ? readFileSync(outputsFile, "utf8") : undefined;
    const started = Date.now();
    const child: ChildProcess = spawn(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "tools", "scripts", "start.ts"), "--data-dir", dataDir, ...extraArgs],
        { cwd: REPO_ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json"), ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let text = "";
    child.stdout!.on("data", (chunk) => (text += chunk));
    child.stderr!.on("data", (chunk) => (text += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));

    while (!existsSync(outputsFile) || readFileSync(outputsFile, "utf8") === previous) {
        if (exitCode !== undefined) throw new Error(`the local cloud exited with ${exitCode} before it was ready:\n${text}`);
        if (Date.now() - started > timeoutMs) {
            child.kill("SIGKILL");
            throw new Error(`the local cloud was not ready after ${timeoutMs} ms:\n${text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return {
        outputs: JSON.parse(readFileSync(outputsFile, "utf8")),
        adminCredentials: readAdminCredentials(dataDir),
        output: () => text,
        readySeconds: (Date.now() - started) / 1000,
        async stop(signal = "SIGINT") {
            if (exitCode !== undefined) return exitCode;
            child.kill(signal);
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
            const code = await exited;
            clearTimeout(timer);
            return code;
        },
    };
}
