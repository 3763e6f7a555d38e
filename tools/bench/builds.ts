/**
 * The ways to ship a handler that the cold-start benchmark starts besides the deployed package
 * (which `deployed.ts` takes from the program itself), written to `tools/bench/tmp/` (git-ignored):
 * the same sources compiled file by file (an unbundled deployment), SST v3's default bundling,
 * the settings shipped before, and one variant per bundling choice ("lever") that BENCHMARKS.md
 * weighs.
 */
import * as esbuild from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { FUNCTION_NAMES, type FunctionName } from "../../components/account";
import { BUNDLE_FILE, BUNDLE_OPTIONS, bundleHandler, HANDLERS_DIR, SOURCE_MAP_FILE, WITHOUT_EVENT_STREAMS } from "../../lib/bundle";

// Every function the program deploys (components/account.ts: the five note routes' and the
// account route's); the bench modules take them from here.
export const HANDLER_NAMES = FUNCTION_NAMES;
export type HandlerName = FunctionName;

/** Inside the repository, so compiled sources resolve `node_modules` like a deployed package does. */
export const BENCH_TMP = path.resolve(__dirname, "tmp");
const REPO_ROOT = path.resolve(__dirname, "..", "..");

export function resetBenchTmp(): void {
    rmSync(BENCH_TMP, { recursive: true, force: true });
    mkdirSync(BENCH_TMP, { recursive: true });
}

/** A module a cold-start child loads (CommonJS with `require`, `.mjs` with `import()`), with its size. */
export interface BuiltModule {
    module: string;
    exportName: string;
    bytes: number;
    gzipBytes: number;
}

function writeOutputs(dir: string, result: esbuild.BuildResult, outDir: string, keep: (file: string) => boolean): void {
    mkdirSync(dir, { recursive: true });
    for (const out of result.outputFiles ?? []) {
        const file = path.relative(outDir, out.path);
        if (keep(file)) writeFileSync(path.join(dir, file), out.contents);
    }
}

function built(dir: string, file: string): BuiltModule {
    const code = readFileSync(path.join(dir, file));
    return { module: path.join(dir, file), exportName: "handler", bytes: code.length, gzipBytes: gzipSync(code).length };
}

/**
 * `tsc`-equivalent output of `handlers/`: one CommonJS file per source, imports left as `require`
 * calls (the AWS SDK, zod and ulid then load from `node_modules`, file by file). esbuild's
 * transform is used instead of `tsc` only because it is faster; the emitted module graph is the same.
 */
export function compileUnbundled(): Record<HandlerName, BuiltModule> {
    const outDir = path.join(BENCH_TMP, "unbundled", "handlers");
    for (const file of readdirSync(HANDLERS_DIR, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
        const source = readFileSync(path.join(HANDLERS_DIR, file), "utf8");
        const { code } = esbuild.transformSync(source, { loader: "ts", format: "cjs", target: "node20", sourcefile: file });
        mkdirSync(path.dirname(path.join(outDir, file)), { recursive: true });
        writeFileSync(path.join(outDir, file.replace(/\.ts$/, ".js")), code);
    }
    return Object.fromEntries(HANDLER_NAMES.map((name) => [name, built(outDir, `${name}.js`)])) as Record<HandlerName, BuiltModule>;
}

/** Compiles a benchmark child entry to plain JavaScript (`.mjs` for an ES module), so children never pay for ts-node. */
export function compileChild(source: string, format: "cjs" | "esm" = "cjs"): string {
    const out = path.join(BENCH_TMP, path.basename(source).replace(/\.ts$/, format === "esm" ? ".mjs" : ".js"));
    const { code } = esbuild.transformSync(readFileSync(source, "utf8"), { loader: "ts", format, target: "node20" });
    writeFileSync(out, code);
    return out;
}

/** The banner SST v3 puts on its ES module bundles, so bundled CommonJS code finds `require` and `__dirname`. */
const SST_ESM_BANNER = [
    `import { createRequire as topLevelCreateRequire } from 'module';`,
    `const require = topLevelCreateRequire(import.meta.url);`,
    `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
    `const __filename = topLevelFileUrlToPath(import.meta.url)`,
    `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/**
 * SST v3's default bundling of a Node.js function on `nodejs22.x`, as its source sets it
 * (anomalyco/sst, formerly sst/sst, `pkg/runtime/node/build.go`; BENCHMARKS.md cites the lines):
 * ES module `bundle.mjs` (handler `bundle.handler`), target es2023 for nodejs22.x, keepNames,
 * mainFields module then main, the banner above, only `sharp` and `pg-native` external (the AWS
 * SDK is bundled), not minified unless `nodejs.minify` is set. The linked source map is built but
 * left out of the deployed zip (`platform/src/components/aws/function.ts` uploads it to the
 * bootstrap bucket instead), and SST sets no `NODE_OPTIONS`.
 */
export const SST_DEFAULT_OPTIONS = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "es2023",
    keepNames: true,
    mainFields: ["module", "main"],
    external: ["sharp", "pg-native"],
    banner: { js: SST_ESM_BANNER },
    sourcemap: "linked",
} as const satisfies esbuild.BuildOptions;

function buildOne(name: HandlerName, options: esbuild.BuildOptions, dir: string, file: string, keep: (file: string) => boolean, entry = path.join(HANDLERS_DIR, `${name}.ts`)): BuiltModule {
    const result = esbuild.buildSync({
        ...options,
        absWorkingDir: REPO_ROOT,
        entryPoints: [entry],
        outfile: path.join(dir, file),
        write: false,
        logLevel: "silent",
    });
    writeOutputs(dir, result, dir, keep);
    return built(dir, file);
}

/** SST v3's default bundle of each handler: `bundle.mjs` alone, as SST's zip holds it. */
export function writeSstBundles(): Record<HandlerName, BuiltModule> {
    return Object.fromEntries(
        HANDLER_NAMES.map((name) => [name, buildOne(name, SST_DEFAULT_OPTIONS, path.join(BENCH_TMP, "sst", name), "bundle.mjs", (file) => file === "bundle.mjs")]),
    ) as Record<HandlerName, BuiltModule>;
}

/**
 * The bundle without the settings chosen on Lambda's Node (`previous`): the same esbuild run without
 * compiling `import()` away, without leaving out the default credential chain and without the
 * lazy source-map prelude, with `NODE_OPTIONS=--enable-source-maps` and the map beside the code,
 * and the delete function's S3 SDK loaded at init.
 */
export const PREVIOUS_ENV = { NODE_OPTIONS: "--enable-source-maps" };

function previousOptions(): esbuild.BuildOptions {
    const { supported: _supported, alias: _alias, inject: _inject, ...rest } = BUNDLE_OPTIONS;
    return rest;
}

export function writePreviousBundles(): Record<HandlerName, BuiltModule> {
    // The delete function then built its S3 client at init.
    const entry = (name: HandlerName) => (name === "delete" ? path.join(VARIANTS_SRC, "delete-s3-at-init.ts") : undefined);
    return Object.fromEntries(
        HANDLER_NAMES.map((name) => [name, buildOne(name, previousOptions(), path.join(BENCH_TMP, "previous", name), "index.js", () => true, entry(name))]),
    ) as Record<HandlerName, BuiltModule>;
}

/** One bundling choice changed against the shipped bundle, measured in the same rounds. */
export interface LeverVariant extends BuiltModule {
    name: string;
    handler: HandlerName;
    /** What differs from the shipped bundle. */
    description: string;
    /** Function environment variables that differ from the deployed ones. */
    env: Record<string, string>;
    /** Extra environment of one unmeasured process run before the rounds (the code cache is made there). */
    prepareEnv?: Record<string, string>;
    /** The status the request must answer, when not the handler's success. */
    expectedStatus?: number;
    /** The first request deletes a note that has an attachment (delete only). */
    withAttachment?: boolean;
}

const VARIANTS_SRC = path.join(__dirname, "variants");

/** The options the get bundle (like every bundle without S3) is built with: the codec left out too. */
const GET_OPTIONS: esbuild.BuildOptions = { ...BUNDLE_OPTIONS, alias: { ...BUNDLE_OPTIONS.alias, ...WITHOUT_EVENT_STREAMS } };

function shippedGetBundle(): string {
    return esbuild.buildSync({ ...GET_OPTIONS, absWorkingDir: REPO_ROOT, entryPoints: [path.join(HANDLERS_DIR, "get.ts")], outfile: "index.js", sourcemap: false, write: false, logLevel: "silent" }).outputFiles[0].text;
}

/**
 * The shipped get bundle followed by the default credential chain's own code (bundled alone, with
 * the same settings) inside a function that is never called: what those bytes cost when none of
 * them run. V8 only pre-parses a function until it is first called.
 */
function writeUnusedBytesVariant(variants: LeverVariant[]): void {
    const { alias: _alias, inject: _inject, ...options } = BUNDLE_OPTIONS;
    const chain = esbuild.buildSync({
        ...options,
        absWorkingDir: REPO_ROOT,
        stdin: { contents: `export { defaultProvider } from "@aws-sdk/credential-provider-node";`, resolveDir: REPO_ROOT, loader: "ts" },
        outfile: "chain.js",
        sourcemap: false,
        write: false,
        logLevel: "silent",
    }).outputFiles[0].text;
    const dir = path.join(BENCH_TMP, "variants", "unusedBytes");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "index.js"), `${shippedGetBundle()}\nfunction neverCalled(){${chain}\n}\n`);
    variants.push({
        name: "unusedBytes",
        handler: "get",
        description: `the shipped bundle plus the default credential chain's code (${(Buffer.byteLength(chain) / 1024).toFixed(0)} KB) in a function never called`,
        env: {},
        ...built(dir, "index.js"),
    });
}

/**
 * What the lazy source map costs where it is paid: a cold start whose first request fails with an
 * unexpected error (the table does not exist), so its stack is logged. Once with the map beside
 * the bundle (read and parsed for that stack), once without it (the stack stays unmapped).
 */
function writeFirstErrorVariants(variants: LeverVariant[]): void {
    const { code, map } = bundleHandler("get");
    for (const [name, withMap] of [["firstErrorMapped", true], ["firstErrorUnmapped", false]] as const) {
        const dir = path.join(BENCH_TMP, "variants", name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, BUNDLE_FILE), code);
        if (withMap) writeFileSync(path.join(dir, SOURCE_MAP_FILE), map);
        variants.push({
            name,
            handler: "get",
            description: `the shipped bundle whose first request fails (no such table) and logs the stack, ${withMap ? "mapped through the source map" : "with no map to read"}`,
            env: { TABLE_NAME: "no-such-table" },
            expectedStatus: 500,
            ...built(dir, BUNDLE_FILE),
        });
    }
}

/**
 * Diagnostic, not shippable: the shipped get bundle compiled from a V8 code cache made after one
 * warm request (`code-cache-shim.ts`), so neither its top-level code nor the functions the first
 * request runs are compiled again. The difference to the shipped bundle is what compilation costs.
 * V8 rejects a cache made by another V8 version or flag set, and Lambda updates its Node.js.
 */
function writeCodeCacheVariant(variants: LeverVariant[]): void {
    const dir = path.join(BENCH_TMP, "variants", "codeCache");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "bundle.js"), shippedGetBundle());
    const { code } = esbuild.transformSync(readFileSync(path.join(__dirname, "code-cache-shim.ts"), "utf8"), { loader: "ts", format: "cjs", target: "node20" });
    writeFileSync(path.join(dir, "index.js"), code);
    variants.push({
        name: "codeCache",
        handler: "get",
        description: "diagnostic: the shipped bundle compiled from a V8 code cache made after one request (what compilation costs)",
        env: {},
        prepareEnv: { BENCH_PRODUCE_CODE_CACHE: "1" },
        ...built(dir, "bundle.js"),
        module: path.join(dir, "index.js"),
    });
}

/**
 * What a first request that does delete an attachment costs: a cold start whose first request
 * deletes a note with an attachment (from an S3 endpoint that answers DeleteObject like S3), with
 * the shipped bundle, which compiles the S3 SDK then, and with the S3 SDK loaded at init.
 */
function writeFirstAttachmentVariants(variants: LeverVariant[]): void {
    const dir = path.join(BENCH_TMP, "variants", "firstAttachmentDelete");
    mkdirSync(dir, { recursive: true });
    // The whole package: index.js requires s3.js from beside it on the first attachment delete.
    for (const [file, text] of Object.entries(bundleHandler("delete").files)) writeFileSync(path.join(dir, file), text);
    variants.push({
        name: "firstAttachmentDelete",
        handler: "delete",
        description: "the shipped bundle whose first request deletes a note with an attachment (s3.js loaded then)",
        env: {},
        withAttachment: true,
        ...built(dir, BUNDLE_FILE),
    });
    const atInit = variants.find((variant) => variant.name === "s3AtInit")!;
    variants.push({ ...atInit, name: "firstAttachmentDeleteS3AtInit", description: "s3AtInit whose first request deletes a note with an attachment", withAttachment: true });
}

/**
 * The levers, each the shipped bundle with one setting changed (see BENCHMARKS.md, "What each
 * setting buys"). Besides these, `target: "node22"` was checked: it emits the same bytes as
 * `node20` (`targetNode22SameBytes`), so it needs no measurement.
 */
export function writeLeverVariants(): { variants: LeverVariant[]; targetNode22SameBytes: boolean; lazyInitModules: Record<string, number> } {
    const variants: LeverVariant[] = [];
    const add = (
        name: string,
        handler: HandlerName,
        description: string,
        options: esbuild.BuildOptions,
        file = "index.js",
        env: Record<string, string> = {},
        entry = path.join(HANDLERS_DIR, `${handler}.ts`),
    ) => {
        const dir = path.join(BENCH_TMP, "variants", name);
        const result = esbuild.buildSync({ ...options, absWorkingDir: REPO_ROOT, entryPoints: [entry], outfile: options.splitting ? undefined : path.join(dir, file), outdir: options.splitting ? dir : undefined, write: false, logLevel: "silent" });
        writeOutputs(dir, result, dir, () => true);
        variants.push({ name, handler, description, env, ...built(dir, file) });
    };
    const shipped = GET_OPTIONS;
    const { supported: _supported, ...withImport } = shipped;
    const withChain: esbuild.BuildOptions = { ...shipped, alias: WITHOUT_EVENT_STREAMS };
    // An ES module bundle needs `require` for the CommonJS code it carries, and `__filename` for the prelude.
    const esm: esbuild.BuildOptions = { ...shipped, format: "esm", banner: { js: SST_ESM_BANNER } };

    add("enableSourceMaps", "get", "NODE_OPTIONS=--enable-source-maps (Node reads and parses the map at load)", shipped, "index.js", PREVIOUS_ENV);
    if (readFileSync(variants[0].module, "utf8") !== bundleHandler("get").code) {
        throw new Error("the lever variants no longer start from the shipped get bundle: update GET_OPTIONS in tools/bench/builds.ts");
    }
    add("dynamicImport", "get", "import() kept as import() (no supported: dynamic-import false)", withImport);
    add("defaultCredentialChain", "get", "the SDK's default credential chain bundled (no alias; still unused)", withChain);
    add("eventStreamsBundled", "get", "the SDK's event-stream codec bundled (no stand-in; still unused), with ~150 modules behind lazy-init wrappers", { ...shipped, alias: BUNDLE_OPTIONS.alias });
    add("esm", "get", "ES module index.mjs, loaded with import()", esm, "index.mjs");
    add("esmSplitting", "get", "ES module with code splitting: import() targets in their own chunks", { ...esm, splitting: true, entryNames: "index", outExtension: { ".js": ".mjs" } }, "index.mjs");
    add("notMinified", "get", "minify off", { ...shipped, minify: false });
    add("keepNames", "get", "keepNames on (as SST sets it)", { ...shipped, keepNames: true });
    add("cjsDependencies", "get", "mainFields main first: the SDK's CommonJS builds", { ...shipped, mainFields: ["main", "module"] });
    add("sstMinified", "get", "SST v3 defaults with nodejs.minify: true (its documented default)", { ...SST_DEFAULT_OPTIONS, minify: true }, "bundle.mjs");
    add("credentialChainExternal", "get", "the default credential chain left external: a bundle as small as the shipped one that still loads the chain, from node_modules", { ...withChain, external: ["@aws-sdk/credential-provider-node"] });
    // The delete handler keeps the codec (its S3 client uses it), so its variants start from BUNDLE_OPTIONS.
    writeUnusedBytesVariant(variants);
    writeCodeCacheVariant(variants);
    writeFirstErrorVariants(variants);
    // The delete handler's S3 SDK: shipped as s3.js beside index.js (lib/bundle.ts, "package modules"), required on the first attachment delete.
    add("s3AtInit", "delete", "the S3 client built at init, so the S3 SDK loads with the bundle", BUNDLE_OPTIONS, "index.js", {}, path.join(VARIANTS_SRC, "delete-s3-at-init.ts"));
    add("s3ClientOnFirstUse", "delete", "the S3 SDK loaded with the bundle, the client built on the first attachment delete", BUNDLE_OPTIONS, "index.js", {}, path.join(VARIANTS_SRC, "delete-s3-client-on-first-use.ts"));
    add("s3RequireBundled", "delete", "the S3 SDK's require() bundled by esbuild (no s3.js of its own): the SDK and every module it shares with DynamoDB's client behind lazy-init wrappers", BUNDLE_OPTIONS);
    add("s3ImportOnFirstUse", "delete", "the S3 SDK loaded with import() on the first attachment delete, bundled by esbuild (wrapped likewise)", BUNDLE_OPTIONS, "index.js", {}, path.join(VARIANTS_SRC, "delete-s3-import-on-first-use.ts"));
    add(
        "withoutS3Client",
        "delete",
        "bound: no S3 code at all, not even a require of s3.js (and so no event-stream codec)",
        GET_OPTIONS,
        "index.js",
        {},
        path.join(VARIANTS_SRC, "delete-without-s3-client.ts"),
    );
    writeFirstAttachmentVariants(variants);

    const code = (target: string) =>
        esbuild.buildSync({ ...shipped, target, absWorkingDir: REPO_ROOT, entryPoints: [path.join(HANDLERS_DIR, "get.ts")], outfile: "index.js", sourcemap: false, write: false, logLevel: "silent" }).outputFiles[0].text;
    // Modules esbuild puts behind a lazy-init wrapper (everything reachable from an import()),
    // counted in unminified builds, where the wrapper keeps its name.
    const wrapped = (options: esbuild.BuildOptions) =>
        (esbuild.buildSync({ ...options, minify: false, absWorkingDir: REPO_ROOT, entryPoints: [path.join(HANDLERS_DIR, "get.ts")], outfile: "index.js", sourcemap: false, write: false, logLevel: "silent" }).outputFiles[0].text.match(/__esm\(\{/g) ?? []).length;
    const lazyInitModules = {
        shipped: wrapped(shipped),
        eventStreamsBundled: wrapped({ ...shipped, alias: BUNDLE_OPTIONS.alias }),
        defaultCredentialChain: wrapped(withChain),
        bothBundled: wrapped({ ...shipped, alias: {} }),
    };
    return { variants, targetNode22SameBytes: code("node20") === code("node22"), lazyInitModules };
}
