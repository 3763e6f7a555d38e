import * as pulumi from "@pulumi/pulumi";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { InvokeAnswers } from "./invokes";
import { ConfigError, Materializer, ProgramMocks, RecordedResource } from "./mocks";
import { packageTypeOf, ProgramTypeScript, registerProgramTypeScript } from "./typescript";
import { IncompleteRunError, RunWatch } from "./watch";
import { decryptStackSecrets } from "./stack-secrets";

export { ConfigError } from "./mocks";
export { IncompleteRunError } from "./watch";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
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
    /** Keys (`<project>:<key>`) the program gets as secrets, as `pulumi config set --secret` would mark them (besides the stack file's `secure:` keys). */
    secretKeys?: string[];
    /**
     * The stack file's `secure:` values: marked placeholders (default; offline checks need no
     * passphrase), or decrypted with `PULUMI_CONFIG_PASSPHRASE` as the CLI does (the local cloud).
     */
    secrets?: "placeholder" | "decrypt";
    /** Provisions each registered resource somewhere real (the local cloud). */
    materialize?: Materializer;
    /** Program directory holding Pulumi.yaml (default: this repository). */
    programDir?: string;
}

/** A stack's settings as the CLI hands them to the program. */
export interface StackSettings {
    project: string;
    /** `<project>:<key>` or `<provider>:<key>` -> string (structured values JSON-encoded). */
    config: Record<string, string>;
    /** Keys whose value is secret (`secure:` in the stack file, or `secret: true` in Pulumi.yaml). */
    secretKeys: string[];
    /** Keys whose `secure:` value cannot be decrypted offline and was replaced by `secretPlaceholder(key)`. */
    undecryptable: string[];
}

/** What a program sees instead of a `secure:` value: clearly marked, and marked secret. */
export function secretPlaceholder(key: string): string {
    return `[policy:check placeholder for secret ${key}: not decrypted offline]`;
}

/**
 * The settings `pulumi up` would pass for a stack: Pulumi.yaml's project defaults, then
 * Pulumi.<stack>.yaml, with `secure:` values replaced by a marked placeholder (offline checks need no
 * passphrase) or, with `secrets: "decrypt"`, decrypted as the CLI does (tools/engine/stack-secrets.ts). A project key declared without a default that the stack does not set is an
 * error naming the key, as under the CLI. Mocks apply none of this, so this does what the CLI does.
 */
export function readStackSettings(stack: string, programDir = REPO_ROOT, secrets: "placeholder" | "decrypt" = "placeholder"): StackSettings {
    const projectFile = path.join(programDir, "Pulumi.yaml");
    if (!existsSync(projectFile)) throw new ConfigError("Pulumi.yaml", `No Pulumi.yaml in ${programDir}: --program must name a Pulumi project directory.`);
    const project = parseYaml(readFileSync(projectFile, "utf8")) ?? {};
    const name: string = project.name;
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const undecryptable: string[] = [];
    const required: string[] = [];
    for (const [key, spec] of Object.entries<any>(project.config ?? {})) {
        const fullKey = key.includes(":") ? key : `${name}:${key}`;
        const declared = spec !== null && typeof spec === "object" && !Array.isArray(spec);
        const value = declared ? spec.default ?? spec.value : spec;
        if (declared && spec.secret === true) secretKeys.add(fullKey);
        if (value !== undefined) config[fullKey] = encode(value);
        else if (declared) required.push(fullKey);
    }
    const stackFile = path.join(programDir, `Pulumi.${stack}.yaml`);
    if (!existsSync(stackFile)) {
        throw new ConfigError("stack", `No stack file ${path.relative(process.cwd(), stackFile) || stackFile}: stacks are ${listStacks(programDir).join(", ") || "(none)"}.`);
    }
    const stackYaml = parseYaml(readFileSync(stackFile, "utf8")) ?? {};
    if (secrets === "decrypt") {
        // As the CLI: every secure value decrypted, its key marked secret; or a stop naming the keys.
        const decrypted = decryptStackSecrets(stack, stackYaml.config ?? {}, stackYaml.encryptionsalt);
        for (const [key, value] of Object.entries(decrypted.values)) config[key] = encode(value);
        for (const key of decrypted.secretKeys) secretKeys.add(key);
        return finish();
    }
    for (const [key, value] of Object.entries<any>(stackYaml.config ?? {})) {
        const { plain, secret } = withoutSecrets(key, value);
        if (secret) {
            secretKeys.add(key);
            undecryptable.push(key);
        }
        config[key] = encode(plain);
    }
    return finish();

    function finish(): StackSettings {
        const missing = required.filter((key) => !(key in config));
        if (missing.length > 0) {
            throw new ConfigError(
                missing[0],
                `Stack ${stack} is missing required configuration ${missing.length === 1 ? "key" : "keys"} ${missing.join(", ")} (declared in Pulumi.yaml without a default): set ${missing.length === 1 ? "it" : "them"} with \`pulumi config set <key> <value> --stack ${stack}\`.`,
            );
        }
        return { project: name, config, secretKeys: [...secretKeys], undecryptable };
    }
}

/** Replaces each `{secure: "…"}` leaf (top-level or inside structured config) with the placeholder. */
function withoutSecrets(key: string, value: unknown): { plain: unknown; secret: boolean } {
    let secret = false;
    const walk = (node: unknown): unknown => {
        if (Array.isArray(node)) return node.map(walk);
        if (node === null || typeof node !== "object") return node;
        const record = node as Record<string, unknown>;
        if (Object.keys(record).length === 1 && typeof record.secure === "string") {
            secret = true;
            return secretPlaceholder(key);
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, walk(v)]));
    };
    const plain = walk(value);
    return { plain, secret };
}

/** The settings `pulumi up` would pass for a stack (see `readStackSettings`). */
export function readStackConfig(stack: string, programDir = REPO_ROOT): { project: string; config: Record<string, string> } {
    const { project, config } = readStackSettings(stack, programDir);
    return { project, config };
}

/** The stacks of a project: each `Pulumi.<stack>.yaml` beside its Pulumi.yaml, sorted. */
export function listStacks(programDir = REPO_ROOT): string[] {
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
    const { project, config: stackConfig, secretKeys } = readStackSettings(configStack, programDir, options.secrets);
    const config = { ...stackConfig, ...(options.configOverrides ?? {}) };
    const region = config["aws:region"] ?? "us-east-1";
    const mocks = new ProgramMocks({ region, accountId: MOCK_ACCOUNT_ID }, options.materialize);

    pulumi.runtime.setAllConfig(config, [...secretKeys, ...(options.secretKeys ?? [])]);
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
 * A multi-language component (a remote registration) gets a response marked skipped, so the SDK
 * resolves its outputs as unknown instead of undefined: nothing built on them passes as known.
 */
function recordRequests(mocks: ProgramMocks, settings: any = require("@pulumi/pulumi/runtime/settings"), onRegistered?: (type: string, name: string) => void): void {
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        const remote = Boolean(req.getRemote?.());
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
            remote,
            rawInputs: req.getObject()?.toJavaScript(),
        };
        const SKIP = 2; // pulumirpc.Result.SKIP: outputs the engine did not produce stay unknown
        return register(req, (error: any, response: any) => {
            if (!error && remote) response.setResult(SKIP);
            if (!error) onRegistered?.(req.getType(), req.getName());
            callback(error, response);
        });
    };
}

// ---------------------------------------------------------------------------------------------
// Any Pulumi TypeScript or JavaScript program, run the way the CLI's Node.js language host runs it.

/** A run of any program (see `runPulumiProgram`): the run, plus what could not be known offline. */
export interface PulumiProgramRun extends ProgramRun {
    /** The entry module the language host would load. */
    entry: string;
    /** The `@pulumi/pulumi` the program imports (its own copy when it has one). */
    pulumiSdk: string;
    /** How the program's TypeScript was compiled (as the CLI would), unless Pulumi.yaml turns TypeScript off. */
    typescript?: ProgramTypeScript;
    secretKeys: string[];
    /** Stack keys whose `secure:` value the program saw as a placeholder. */
    undecryptable: string[];
    /** Multi-language components, whose children and outputs are unknown offline. */
    unresolved: RecordedResource[];
}

interface ProjectFile {
    name: string;
    runtime?: string | { name?: string; options?: { typescript?: boolean } };
    main?: string;
}

/** The package.json nearest to `from`, looking no higher than the project directory. */
function nearestPackageJson(from: string, projectDir: string): { dir: string; manifest: Record<string, any> } | undefined {
    for (let dir = from; ; dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (existsSync(file)) return { dir, manifest: JSON.parse(readFileSync(file, "utf8")) };
        if (dir === projectDir || path.dirname(dir) === dir || !dir.startsWith(projectDir)) return undefined;
    }
}

const isDirectory = (file: string) => existsSync(file) && statSync(file).isDirectory();

/**
 * The entry the CLI's Node.js host loads: `main:` of Pulumi.yaml (relative to the project), else
 * package.json's `exports`/`main`, else the project directory itself; then whether it is an ES
 * module (`"type": "module"`, `.mjs`, `.mts`).
 */
export function programEntry(projectDir: string): { entry: string; esm: boolean } {
    const project: ProjectFile = parseYaml(readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) ?? {};
    let entry = path.resolve(projectDir, project.main ?? ".");
    const pkg = nearestPackageJson(isDirectory(entry) ? entry : path.dirname(entry), path.resolve(projectDir));
    if (project.main === undefined && pkg) {
        const exported = pkg.manifest.exports;
        const main =
            typeof exported === "string" ? exported : typeof exported?.["."] === "string" ? exported["."] : exported?.["."]?.default ?? exported?.["."]?.require ?? exported?.["."]?.import ?? pkg.manifest.main;
        if (typeof main === "string" && existsSync(path.join(pkg.dir, main))) entry = path.join(pkg.dir, main);
    }
    const moduleScope = pkg?.manifest.type === "module";
    if (isDirectory(entry)) {
        if (moduleScope) {
            const index = ["index.js", "index.mjs", "index.ts", "index.mts"].find((file) => existsSync(path.join(entry, file)));
            if (!index) throw new Error(`No entry point in ${entry}: expected index.js, index.mjs, index.ts or index.mts.`);
            return { entry: path.join(entry, index), esm: true };
        }
        return { entry, esm: false };
    }
    const extension = path.extname(entry);
    const esm = extension === ".mjs" || extension === ".mts" || (moduleScope && extension !== ".cjs" && extension !== ".cts");
    return { entry, esm };
}

let activeMocks: ProgramMocks | undefined;
let activeWatch: RunWatch | undefined;

/** The missing configuration a running program hit, if any (errors raised off the main path carry it too). */
export function pendingConfigProblem(): ConfigError | undefined {
    return activeMocks?.configProblem;
}

/** Invokes the running program could not get answered: they explain an error better than the error itself. */
export function pendingInvokeProblem(): IncompleteRunError | undefined {
    return activeMocks && activeMocks.invokeFailures.length > 0 ? activeWatch?.problem(true) : undefined;
}

/**
 * Why the running program is not complete (see RunWatch.problem); `finished` is false when its
 * top-level code never returned. Undefined when nothing is missing.
 */
export function incompleteRunProblem(finished: boolean): IncompleteRunError | undefined {
    return activeWatch?.problem(finished);
}

let esmHooksRegistered = false;

/** A real `import()`: TypeScript compiled to CommonJS would turn `import()` into `require()`. */
const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

/** Lets `import()` load TypeScript (.ts in an ES module scope, .mts) through esbuild, as ts-node/esm does under the CLI. */
function registerTypeScriptEsmHooks(): void {
    if (esmHooksRegistered) return;
    esmHooksRegistered = true;
    require("node:module").register(pathToFileURL(path.join(__dirname, "esm-hooks.mjs")).href);
}

/**
 * Runs a Pulumi program under the mock engine as `pulumi preview` would run it: the project
 * directory as working directory, the entry from Pulumi.yaml/package.json, CommonJS or ES modules
 * (TypeScript through ts-node or the esbuild loader hook), the program's own `@pulumi/pulumi` copy
 * (the mocks are installed on the copy it imports), the stack's config with secrets marked, and
 * aws:region required once the default AWS provider is used. Pulumi's runtime is process-global:
 * one program per process.
 */
export async function runPulumiProgram(options: { programDir: string; stack: string; invokeAnswers?: InvokeAnswers }): Promise<PulumiProgramRun> {
    if (used) throw new Error("runPulumiProgram runs once per process (Pulumi's runtime is global).");
    used = true;
    const projectDir = path.resolve(options.programDir);
    const { stack } = options;
    const { project, config, secretKeys, undecryptable } = readStackSettings(stack, projectDir);
    const projectFile: ProjectFile = parseYaml(readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) ?? {};
    const runtime = typeof projectFile.runtime === "string" ? projectFile.runtime : projectFile.runtime?.name;
    if (runtime !== "nodejs") throw new ConfigError("runtime", `Pulumi.yaml of ${project} declares runtime ${runtime ?? "(none)"}: policy:check runs nodejs (TypeScript or JavaScript) programs.`);
    const { entry, esm } = programEntry(projectDir);

    let sdkPath: string;
    try {
        sdkPath = require.resolve("@pulumi/pulumi", { paths: [isDirectory(entry) ? entry : path.dirname(entry)] });
    } catch {
        throw new ConfigError("@pulumi/pulumi", `The program in ${projectDir} cannot load @pulumi/pulumi: run npm install (or yarn, pnpm) in it first.`);
    }
    const sdkDir = path.dirname(sdkPath);
    const sdk: typeof pulumi = require(sdkPath);
    const settings = require(path.join(sdkDir, "runtime", "settings"));

    const regionValue = config["aws:region"] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    const region = regionValue ?? "";
    const mocks = new ProgramMocks({ region, accountId: MOCK_ACCOUNT_ID, invokeAnswers: options.invokeAnswers, ...(regionValue ? {} : { missingRegion: { stack } }) });
    activeMocks = mocks;
    const watch = new RunWatch(sdkDir, mocks.invokeFailures);
    activeWatch = watch;
    sdk.runtime.setAllConfig(config, secretKeys);
    await sdk.runtime.setMocks(mocks, project, stack, false);
    recordRequests(mocks, settings, (type, name) => watch.markRegistered(type, name));

    process.chdir(projectDir);
    // TypeScript as the CLI sets it up (Pulumi.yaml's runtime option typescript, on by default).
    const typescriptOption = typeof projectFile.runtime === "object" ? projectFile.runtime?.options?.typescript : undefined;
    const checkerDirs = [path.join(REPO_ROOT, "tools"), path.join(REPO_ROOT, "policy")].map((dir) => dir + path.sep);
    const typescript =
        typescriptOption === false
            ? undefined
            : registerProgramTypeScript({
                  sdkDir,
                  projectDir,
                  packageType: packageTypeOf(isDirectory(entry) ? entry : path.dirname(entry)),
                  ownFiles: (file) => checkerDirs.some((dir) => file.startsWith(dir)) && !file.startsWith(projectDir + path.sep),
              });
    if (esm && typescript?.mode !== "esm") registerTypeScriptEsmHooks();
    const load = async (): Promise<unknown> => {
        if (!esm) return require(isDirectory(entry) ? `${entry}${path.sep}` : entry);
        const namespace = await dynamicImport(pathToFileURL(entry).href);
        // As the CLI: a default export (alone) is the program; a function is called for its outputs.
        if (Object.getOwnPropertyDescriptor(namespace, "default") === undefined) return namespace;
        if (Object.keys(namespace).length !== 1) throw new Error("expected entrypoint module to have either a default export or named exports but not both");
        return namespace.default;
    };
    let outputs: Record<string, unknown> | undefined;
    try {
        outputs = await sdk.runtime.runInPulumiStack(async () => {
            const exported = await load();
            const result = typeof exported === "function" ? await (exported as () => unknown)() : exported;
            return { ...((result as Record<string, unknown>) ?? {}) };
        });
        await settings.waitForRPCs();
        // Rejections the program left behind surface after the current turn.
        await new Promise((resolve) => setImmediate(resolve));
    } catch (error) {
        throw mocks.configProblem ?? pendingInvokeProblem() ?? error;
    }
    if (mocks.configProblem) throw mocks.configProblem;
    // Fail closed: a failed invoke, a resource that never registered or a leaked promise means the
    // program did not run as the CLI would have run it, so nothing may pass.
    const incomplete = watch.problem(true);
    if (incomplete) throw incomplete;
    return {
        project,
        stack,
        region,
        accountId: MOCK_ACCOUNT_ID,
        config,
        resources: mocks.resources,
        outputs: outputs ?? {},
        entry,
        pulumiSdk: sdkDir,
        typescript,
        secretKeys,
        undecryptable,
        unresolved: mocks.resources.filter((resource) => resource.remote),
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

/** A program that failed under mocks in its own process, with what it had registered by then. */
export class ProgramFailure extends Error {
    constructor(
        message: string,
        /** `<type>::<name>` of each registration before the failure, in order (the stack itself first); undefined if the child did not say. */
        readonly registered: string[] | undefined,
    ) {
        super(message);
        this.name = "ProgramFailure";
    }
}

function registeredBeforeFailure(stdout: string): string[] | undefined {
    try {
        const { registered } = JSON.parse(stdout);
        return Array.isArray(registered) ? registered : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Runs the program for a stack in a fresh Node process (so several stacks can be checked from one
 * test run) and returns the run as plain JSON, assets included. Results are cached per stack and
 * override set within this process.
 */
export function runProgramIsolated(stack: string, configOverrides: Record<string, string> = {}, stackName?: string, secretKeys: string[] = []): Promise<ProgramRun> {
    const key = JSON.stringify([stack, configOverrides, stackName, secretKeys]);
    let run = isolatedRuns.get(key);
    if (!run) {
        run = new Promise<ProgramRun>((resolve, reject) => {
            execFile(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", path.join(__dirname, "run-isolated.ts"), stack, JSON.stringify(configOverrides), stackName ?? "", JSON.stringify(secretKeys)],
                { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") } },
                (error, stdout, stderr) => {
                    if (error) {
                        reject(new ProgramFailure(`The program failed under mocks for stack ${stack}:\n${stderr || error.message}`, registeredBeforeFailure(stdout)));
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
