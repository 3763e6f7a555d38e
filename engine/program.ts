import * as pulumi from "@pulumi/pulumi";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { Materializer, ProgramMocks, RecordedResource } from "./mocks";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const MOCK_ACCOUNT_ID = "123456789012";

/** One run of the real program under the mock engine. */
export interface ProgramRun {
    project: string;
    stack: string;
    region: string;
    accountId: string;
    /** Stack settings as Pulumi passes them to the program (strings; structured values JSON-encoded). */
    config: Record<string, string>;
    resources: RecordedResource[];
    /** The stack outputs (the program's exports). */
    outputs: Record<string, unknown>;
}

export interface RunOptions {
    stack?: string;
    /** The stack name the program sees (default: `stack`): runs a stack's settings as if the stack had been renamed. */
    stackName?: string;
    /** Settings that replace the stack file's, keyed `<project>:<key>` or `aws:<key>` (JSON-encoded if not a string). */
    configOverrides?: Record<string, string>;
    /** Provisions each registered resource somewhere real (the local cloud). */
    materialize?: Materializer;
    /** Program directory holding Pulumi.yaml (default: this repository). */
    programDir?: string;
}

/**
 * The settings `pulumi up` would pass for a stack: Pulumi.yaml's project defaults, then
 * Pulumi.<stack>.yaml. Mocks apply neither, so this does what the CLI does.
 */
export function readStackConfig(stack: string, programDir = REPO_ROOT): { project: string; config: Record<string, string> } {
    const project = parseYaml(readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8"));
    const name: string = project.name;
    const config: Record<string, string> = {};
    for (const [key, spec] of Object.entries<any>(project.config ?? {})) {
        const fullKey = key.includes(":") ? key : `${name}:${key}`;
        const value = spec !== null && typeof spec === "object" && !Array.isArray(spec) ? spec.default ?? spec.value : spec;
        if (value !== undefined) config[fullKey] = encode(value);
    }
    const stackFile = path.join(programDir, `Pulumi.${stack}.yaml`);
    if (!existsSync(stackFile)) {
        throw new Error(`No stack file ${path.relative(process.cwd(), stackFile)}: stacks are ${listStacks(programDir).join(", ")}.`);
    }
    const stackYaml = parseYaml(readFileSync(stackFile, "utf8")) ?? {};
    for (const [key, value] of Object.entries<any>(stackYaml.config ?? {})) {
        config[key] = encode(value);
    }
    return { project: name, config };
}

function listStacks(programDir = REPO_ROOT): string[] {
    return readdirSync(programDir)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

let used = false;

/**
 * Runs `index.ts` under Pulumi's mock engine in this process and returns every registered
 * resource. Pulumi's runtime is process-global, so a process runs one program once; use
 * `runProgramIsolated` to run several stacks from one test process.
 */
export async function runProgram(options: RunOptions = {}): Promise<ProgramRun> {
    if (used) throw new Error("runProgram runs once per process (Pulumi's runtime is global); use runProgramIsolated.");
    used = true;
    const configStack = options.stack ?? "dev";
    const stack = options.stackName ?? configStack;
    const programDir = options.programDir ?? REPO_ROOT;
    const { project, config: stackConfig } = readStackConfig(configStack, programDir);
    const config = { ...stackConfig, ...(options.configOverrides ?? {}) };
    const region = config["aws:region"] ?? "us-east-1";
    const mocks = new ProgramMocks({ region, accountId: MOCK_ACCOUNT_ID }, options.materialize);

    pulumi.runtime.setAllConfig(config);
    await pulumi.runtime.setMocks(mocks, project, stack, false);
    recordRequests(mocks);

    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        const program = require(path.join(programDir, "index"));
        return { ...program };
    });
    await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
    return { project, stack, region, accountId: MOCK_ACCOUNT_ID, config, resources: mocks.resources, outputs: outputs ?? {} };
}

/**
 * The mock monitor hands `newResource` only the type, name and inputs; CrossGuard also needs the
 * URN, parent, dependencies and options, so capture them from the request just before the call.
 */
function recordRequests(mocks: ProgramMocks): void {
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        mocks.pending = {
            urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
            parent: req.getParent() || undefined,
            dependencies: req.getDependenciesList(),
            propertyDependencies,
            options: {
                protect: Boolean(req.getProtect()),
                retainOnDelete: Boolean(req.getRetainondelete()),
                ignoreChanges: req.getIgnorechangesList(),
            },
        };
        return register(req, callback);
    };
}

/** Converts assets/archives (whose fields are promises) into plain JSON-safe values. */
export async function toPlain(value: any): Promise<any> {
    if (value === null || typeof value !== "object") return value;
    if (pulumi.asset.Asset.isInstance(value)) {
        const asset: any = value;
        if (asset.text) return { $asset: "string", text: await asset.text };
        if (asset.path) return { $asset: "file", path: await asset.path };
        return { $asset: "remote", uri: await asset.uri };
    }
    if (pulumi.asset.Archive.isInstance(value)) {
        const archive: any = value;
        if (archive.assets) {
            const assets = await archive.assets;
            const plain: Record<string, unknown> = {};
            for (const key of Object.keys(assets).sort()) plain[key] = await toPlain(assets[key]);
            return { $archive: "assets", assets: plain };
        }
        if (archive.path) return { $archive: "file", path: await archive.path };
        return { $archive: "remote", uri: await archive.uri };
    }
    if (Array.isArray(value)) return Promise.all(value.map(toPlain));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await toPlain(item);
    return out;
}

const isolatedRuns = new Map<string, Promise<ProgramRun>>();

/**
 * Runs the program for a stack in a fresh Node process (so several stacks can be checked from one
 * test run) and returns the run as plain JSON, assets included. Results are cached per stack and
 * override set within this process.
 */
export function runProgramIsolated(stack: string, configOverrides: Record<string, string> = {}, stackName?: string): Promise<ProgramRun> {
    const key = JSON.stringify([stack, configOverrides, stackName]);
    let run = isolatedRuns.get(key);
    if (!run) {
        run = new Promise<ProgramRun>((resolve, reject) => {
            execFile(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", path.join(__dirname, "run-isolated.ts"), stack, JSON.stringify(configOverrides), ...(stackName ? [stackName] : [])],
                { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") } },
                (error, stdout, stderr) => {
                    if (error) {
                        reject(new Error(`The program failed under mocks for stack ${stack}:\n${stderr || error.message}`));
                        return;
                    }
                    resolve(JSON.parse(stdout));
                },
            );
        });
        isolatedRuns.set(key, run);
    }
    return run;
}

export type { RecordedResource } from "./mocks";
