import * as esbuild from "esbuild";
import * as path from "node:path";

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
    /**
     * The deployment package, file name to contents: `index.js` and `index.js.map`, and the package
     * modules the handler requires on first use with their maps (delete: `s3.js`, `s3.js.map`).
     */
    files: Record<string, string>;
}

/**
 * The esbuild settings of the deployment packages. Each choice was measured on Lambda's Node
 * major (BENCHMARKS.md, "What each setting buys"); a setting not listed is esbuild's default.
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
 * Package modules: handler modules that a handler `require`s only inside the function that needs
 * them (the delete function's S3 SDK, `handlers/s3.ts`, on the first attachment delete). Each is
 * bundled on its own, with its own copy of what it imports, into a file of its own in the package
 * of every handler that requires it (`s3.js` and `s3.js.map` beside `index.js`). The handler
 * requires it by that file's name, `require("./s3.js")`, which esbuild leaves to Node (external),
 * so Node reads and compiles the file only when the require runs; TypeScript, esbuild and ts-node
 * (`experimentalResolver` in tsconfig.json) resolve the same name to `s3.ts`. A `require()` that
 * esbuild bundled instead would put the module, and every module it shares with the rest of the
 * bundle (most of the SDK's core), behind lazy-init wrappers, which cost a cold start more than
 * loading the module at once (BENCHMARKS.md, "What each setting buys").
 */
interface PackageModule {
    /** The source, relative to the repository (`handlers/s3.ts`). */
    source: string;
    /** Its file in the package (`s3.js`; its map is `s3.js.map`). */
    file: string;
    /** What a handler beside it requires (`./s3.js`), left to Node by esbuild. */
    request: string;
}

const PACKAGE_MODULES: readonly PackageModule[] = ["handlers/s3.ts", "handlers/account-s3.ts", "handlers/account-cognito.ts"].map((source) => {
    const file = `${path.posix.basename(source, ".ts")}.js`;
    return { source, file, request: `./${file}` };
});

/**
 * A package module bundled alone: its file and map. The event-stream codec stays in (the S3 client
 * configures it), and the source-map prelude stays out: the handler's own prelude maps stacks
 * through every file of the package (handlers/runtime/lazy-source-map.ts).
 */
function buildPackageModule(module: PackageModule): Record<string, string> {
    const outfile = `.build/modules/${module.file}`;
    const result = esbuild.buildSync({
        ...BUNDLE_OPTIONS,
        inject: [],
        absWorkingDir: REPO_ROOT,
        entryPoints: [module.source],
        outfile,
        write: false,
        logLevel: "silent",
    });
    const output = (file: string) => result.outputFiles.find((out) => out.path === path.join(REPO_ROOT, file))!.text;
    return { [module.file]: output(outfile), [`${module.file}.map`]: repositoryRelativeSources(output(`${outfile}.map`), path.posix.dirname(outfile)) };
}

function runEsbuild(names: readonly string[], eventStreams: "bundled" | "left out"): esbuild.BuildResult<{ write: false; metafile: true }> {
    return esbuild.buildSync({
        ...BUNDLE_OPTIONS,
        alias: eventStreams === "left out" ? { ...BUNDLE_OPTIONS.alias, ...WITHOUT_EVENT_STREAMS } : BUNDLE_OPTIONS.alias,
        external: PACKAGE_MODULES.map((module) => module.request),
        absWorkingDir: REPO_ROOT,
        entryPoints: Object.fromEntries(names.map((name) => [`${name}/index`, path.relative(REPO_ROOT, path.join(HANDLERS_DIR, `${name}.ts`))])),
        outdir: ".build",
        write: false,
        metafile: true,
        logLevel: "silent",
    });
}

/**
 * The package modules a handler's bundle requires. `external` matches the request as written in
 * any bundled file, so each such require is checked to come from beside the module's source.
 */
function requiredPackageModules(metafile: esbuild.Metafile, name: string): PackageModule[] {
    const inputs = Object.keys(metafile.outputs[`.build/${name}/${BUNDLE_FILE}`].inputs);
    return PACKAGE_MODULES.filter((module) => {
        const importers = inputs.filter((input) => metafile.inputs[input]?.imports.some((imported) => imported.external && imported.path === module.request));
        for (const importer of importers) {
            if (path.posix.dirname(importer) !== path.posix.dirname(module.source)) {
                throw new Error(`${importer} requires "${module.request}", which the handler bundles leave to Node for ${module.source}: require it only from beside that file`);
            }
        }
        return importers.length > 0;
    });
}

/**
 * True when code that ends up in the handler's bundle imports the event-stream codec statically,
 * i.e. uses it at init (an S3 client built at init would: it configures the codec); the SDK's own
 * `import()` of the codec, taken only by event-stream operations, does not count. A package
 * module is built with the codec.
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
    const lean = runEsbuild(names, "left out");
    const needCodec = names.filter((name) => usesEventStreams(lean.metafile, name));
    const full = needCodec.length > 0 ? runEsbuild(needCodec, "bundled") : undefined;
    const modules = new Map<PackageModule, Record<string, string>>();
    return new Map(
        names.map((name) => {
            const result = needCodec.includes(name) ? full! : lean;
            const output = (file: string) => result.outputFiles.find((out) => out.path === path.join(REPO_ROOT, ".build", name, file))?.text;
            const code = output(BUNDLE_FILE);
            const rawMap = output(SOURCE_MAP_FILE);
            if (code === undefined || rawMap === undefined) {
                throw new Error(`esbuild produced no output for handler ${name}`);
            }
            const map = repositoryRelativeSources(rawMap, `.build/${name}`);
            const files: Record<string, string> = { [BUNDLE_FILE]: code, [SOURCE_MAP_FILE]: map };
            for (const module of requiredPackageModules(result.metafile, name)) {
                if (!modules.has(module)) modules.set(module, buildPackageModule(module));
                Object.assign(files, modules.get(module));
            }
            return [name, { code, map, files }];
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
