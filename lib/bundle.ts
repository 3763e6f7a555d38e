import { decode, encode } from "@jridgewell/sourcemap-codec";
import * as esbuild from "esbuild";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { LAZY_MODULE_FIRST_LINE } from "../handlers/runtime/lazy-module";

export const HANDLERS_DIR = path.resolve(__dirname, "..", "handlers");
const REPO_ROOT = path.resolve(__dirname, "..");

/** The file names of a deployment package and the Lambda `handler` setting that loads it. */
export const BUNDLE_FILE = "index.js";
export const SOURCE_MAP_FILE = `${BUNDLE_FILE}.map`;
export const LAMBDA_HANDLER = "index.handler";

export interface Bundle {
    /** Minified CommonJS entry exporting `handler`, ending with a link to `index.js.map`. */
    code: string;
    /** Source map; sources are relative to the repository (`handlers/notes.ts`), so builds match across machines. */
    map: string;
}

/**
 * The esbuild settings of the deployment packages. Each choice was measured on Lambda's Node
 * major (bench/README.md, "What each setting buys"); a setting not listed is esbuild's default.
 */
export const BUNDLE_OPTIONS = {
    bundle: true,
    platform: "node",
    // The lowest Node.js that runs the bundle: Lambda's nodejs22.x and the local cloud's Node 20.
    // "node22" emits the same bytes.
    target: "node20",
    // CommonJS, loaded with `require` by the Lambda runtime; an ES module (.mjs) was no faster.
    format: "cjs",
    minify: true,
    treeShaking: true,
    // The SDK's ES module builds, which esbuild tree-shakes; its CommonJS builds are twice the size.
    mainFields: ["module", "main"],
    // `import()` becomes `require()`. On Node 22, the SDK's `import("node:http")` otherwise builds
    // an ES module facade over `node:http`, whose getters load all of undici on the first request.
    supported: { "dynamic-import": false },
    // The SDK's default credential chain is never used on Lambda: see handlers/runtime/lambda-credentials.ts.
    // (Bundles that do not use the event-stream codec also leave it out: WITHOUT_EVENT_STREAMS.)
    alias: { "@aws-sdk/credential-provider-node": "./handlers/runtime/lambda-credentials.ts" },
    // Maps stack traces to the TypeScript sources when one is printed; see handlers/runtime/lazy-source-map.ts.
    inject: ["./handlers/runtime/lazy-source-map.ts"],
    // "linked" ends the code with `//# sourceMappingURL=index.js.map`, for tools that look for it.
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "none",
} as const satisfies esbuild.BuildOptions;

/** The SDK's event-stream codec, and the stand-in that replaces it in bundles that do not use it (handlers/runtime/no-event-streams.ts). */
const EVENT_STREAMS = "@smithy/core/event-streams";
export const WITHOUT_EVENT_STREAMS = { [EVENT_STREAMS]: "./handlers/runtime/no-event-streams.ts" } as const;
const STAND_IN = "handlers/runtime/no-event-streams.ts";

/**
 * Lazy modules: handler modules that a handler loads only inside the function that needs them,
 * keyed by the name under which the handler reads them (`S3_SDK_BUNDLE` in handlers/delete.ts).
 * Each is bundled on its own, with its own copy of what it imports, and its source text is defined
 * under that name in the handler bundles, where handlers/runtime/lazy-module.ts compiles it on
 * first use. Until then V8 only scans past a string. The alternative, a `require()` that esbuild
 * bundles, puts the module and every module it shares with the rest of the bundle (most of the
 * SDK's core) behind lazy-init wrappers, which cost a cold start more than loading the module at
 * once (bench/README.md, "What each setting buys").
 */
const LAZY_MODULES = { S3_SDK_BUNDLE: "handlers/s3.ts" } as const;

interface LazyModule {
    name: string;
    code: string;
    map: string;
}

function buildLazyModules(): LazyModule[] {
    return Object.entries(LAZY_MODULES).map(([name, entry]) => {
        const outfile = `.build/lazy/${name}.js`;
        const result = esbuild.buildSync({
            ...BUNDLE_OPTIONS,
            // The handler bundle's prelude maps stacks through the module too.
            inject: [],
            // No link comment: the map is merged into the handler bundle's own.
            sourcemap: "external",
            absWorkingDir: REPO_ROOT,
            entryPoints: [entry],
            outfile,
            write: false,
            logLevel: "silent",
        });
        const output = (file: string) => result.outputFiles.find((out) => out.path === path.join(REPO_ROOT, file))!.text;
        return { name, code: output(outfile), map: repositoryRelativeSources(output(`${outfile}.map`), path.posix.dirname(outfile)) };
    });
}

function runEsbuild(names: readonly string[], eventStreams: "bundled" | "left out", lazy: readonly LazyModule[]): esbuild.BuildResult<{ write: false; metafile: true }> {
    return esbuild.buildSync({
        ...BUNDLE_OPTIONS,
        alias: eventStreams === "left out" ? { ...BUNDLE_OPTIONS.alias, ...WITHOUT_EVENT_STREAMS } : BUNDLE_OPTIONS.alias,
        define: Object.fromEntries(lazy.map((module) => [module.name, JSON.stringify(module.code)])),
        absWorkingDir: REPO_ROOT,
        entryPoints: Object.fromEntries(names.map((name) => [`${name}/index`, path.relative(REPO_ROOT, path.join(HANDLERS_DIR, `${name}.ts`))])),
        outdir: ".build",
        write: false,
        metafile: true,
        logLevel: "silent",
    });
}

/** The lazy modules a handler's bundle embeds: those whose name one of its handler sources reads. */
function embeddedLazyModules(metafile: esbuild.Metafile, name: string, lazy: readonly LazyModule[]): LazyModule[] {
    const sources = Object.keys(metafile.outputs[`.build/${name}/${BUNDLE_FILE}`].inputs).filter((input) => input.startsWith("handlers/"));
    const texts = sources.map((source) => readFileSync(path.join(REPO_ROOT, source), "utf8"));
    return lazy.filter((module) => texts.some((text) => text.includes(module.name)));
}

/**
 * The handler bundle's map continued with its lazy module's, from line `LAZY_MODULE_FIRST_LINE`
 * on, where handlers/runtime/lazy-module.ts numbers the module's code: one map for every frame.
 */
function withLazyModuleMaps(map: string, code: string, modules: readonly LazyModule[]): string {
    if (modules.length === 0) return map;
    if (modules.length > 1) throw new Error(`a handler bundle embeds ${modules.length} lazy modules; handlers/runtime/lazy-module.ts numbers only one`);
    const lines = code.split("\n").length;
    if (lines >= LAZY_MODULE_FIRST_LINE) throw new Error(`the bundle has ${lines} lines, past LAZY_MODULE_FIRST_LINE (${LAZY_MODULE_FIRST_LINE}) in handlers/runtime/lazy-module.ts`);
    const outer = JSON.parse(map) as { sources: string[]; names: string[]; mappings: string };
    const inner = JSON.parse(modules[0].map) as { sources: string[]; names: string[]; mappings: string };
    const mappings = decode(outer.mappings);
    while (mappings.length < LAZY_MODULE_FIRST_LINE - 1) mappings.push([]);
    const [sourceShift, nameShift] = [outer.sources.length, outer.names.length];
    for (const line of decode(inner.mappings)) {
        mappings.push(
            line.map((segment) => {
                if (segment.length === 1) return segment;
                const [column, source, originalLine, originalColumn] = segment;
                return segment.length === 5 ? [column, source + sourceShift, originalLine, originalColumn, segment[4] + nameShift] : [column, source + sourceShift, originalLine, originalColumn];
            }),
        );
    }
    return JSON.stringify({ ...outer, sources: [...outer.sources, ...inner.sources], names: [...outer.names, ...inner.names], mappings: encode(mappings) });
}

/**
 * True when code that ends up in the handler's bundle imports the event-stream codec statically,
 * i.e. uses it at init (an S3 client built at init would: it configures the codec); the SDK's own
 * `import()` of the codec, taken only by event-stream operations, does not count. A lazy module
 * is built with the codec.
 */
function usesEventStreams(metafile: esbuild.Metafile, name: string): boolean {
    const output = metafile.outputs[`.build/${name}/${BUNDLE_FILE}`];
    return Object.entries(output.inputs).some(
        ([input, { bytesInOutput }]) => bytesInOutput > 0 && metafile.inputs[input]?.imports.some((imported) => imported.path === STAND_IN && imported.kind === "import-statement"),
    );
}

/**
 * Bundles handlers with everything they import, the AWS SDK v3 included: the SDK pinned by the
 * lock file ships, not whatever version the Lambda runtime carries that day. No timestamps or
 * absolute paths, so two builds of the same source are byte-identical and `pulumi preview` shows
 * no spurious code diff. Several handlers go through one esbuild run (about 2.5 times faster than
 * one run each, same bytes: nothing is shared between entries); a handler that uses the SDK's
 * event-stream codec is built again with it (see handlers/runtime/no-event-streams.ts).
 */
export function buildHandlers(names: readonly string[]): Map<string, Bundle> {
    const lazy = buildLazyModules();
    const lean = runEsbuild(names, "left out", lazy);
    const needCodec = names.filter((name) => usesEventStreams(lean.metafile, name));
    const full = needCodec.length > 0 ? runEsbuild(needCodec, "bundled", lazy) : undefined;
    return new Map(
        names.map((name) => {
            const result = needCodec.includes(name) ? full! : lean;
            const output = (file: string) => result.outputFiles.find((out) => out.path === path.join(REPO_ROOT, ".build", name, file))?.text;
            const code = output(BUNDLE_FILE);
            const map = output(SOURCE_MAP_FILE);
            if (code === undefined || map === undefined) {
                throw new Error(`esbuild produced no output for handler ${name}`);
            }
            const embedded = embeddedLazyModules(result.metafile, name, lazy);
            return [name, { code, map: withLazyModuleMaps(repositoryRelativeSources(map, `.build/${name}`), code, embedded) }];
        }),
    );
}

/** esbuild writes sources relative to the map (`../../handlers/get.ts`); stack traces read better from the repository root. */
function repositoryRelativeSources(map: string, mapDir: string): string {
    const parsed = JSON.parse(map) as { sources: string[] };
    parsed.sources = parsed.sources.map((source) => path.posix.normalize(path.posix.join(mapDir, source)));
    return JSON.stringify(parsed);
}

const cache = new Map<string, Bundle>();

/** The bundles of these handlers, each built once per process. */
export function bundleHandlers(names: readonly string[]): Map<string, Bundle> {
    const missing = names.filter((name) => !cache.has(name));
    if (missing.length > 0) {
        for (const [name, bundle] of buildHandlers(missing)) cache.set(name, bundle);
    }
    return new Map(names.map((name) => [name, cache.get(name)!]));
}

export function bundleHandler(name: string): Bundle {
    return bundleHandlers([name]).get(name)!;
}
