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
    // CommonJS, loaded with `require` by the Lambda runtime. An ES module starts slower on Node 22:
    // every `import` of a Node built-in builds a module facade over all of its exports.
    format: "cjs",
    minify: true,
    treeShaking: true,
    // The SDK's ES module builds: tree-shaken, and their top-level code runs once, in one scope.
    mainFields: ["module", "main"],
    // `import()` becomes `require()`. On Node 22, the SDK's `import("node:http")` otherwise builds
    // an ES module facade over `node:http`, whose getters load all of undici on the first request.
    supported: { "dynamic-import": false },
    // The SDK's default credential chain is never used on Lambda: see lib/lambda-credentials.ts.
    alias: { "@aws-sdk/credential-provider-node": "./lib/lambda-credentials.ts" },
    // Maps stack traces to the TypeScript sources when one is printed; see lib/lazy-source-map.ts.
    inject: ["./lib/lazy-source-map.ts"],
    // "linked" ends the code with `//# sourceMappingURL=index.js.map`, for tools that look for it.
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "none",
} as const satisfies esbuild.BuildOptions;

/**
 * Bundles handlers with everything they import, the AWS SDK v3 included: the SDK pinned by the
 * lock file ships, not whatever version the Lambda runtime carries that day. No timestamps or
 * absolute paths, so two builds of the same source are byte-identical and `pulumi preview` shows
 * no spurious code diff. Several handlers go through one esbuild run (about 2.5 times faster than
 * one run each, same bytes: nothing is shared between entries).
 */
export function buildHandlers(names: readonly string[]): Map<string, Bundle> {
    const result = esbuild.buildSync({
        ...BUNDLE_OPTIONS,
        absWorkingDir: REPO_ROOT,
        entryPoints: Object.fromEntries(names.map((name) => [`${name}/index`, path.relative(REPO_ROOT, path.join(HANDLERS_DIR, `${name}.ts`))])),
        outdir: ".build",
        write: false,
        logLevel: "silent",
    });
    const output = (file: string) => result.outputFiles.find((out) => out.path === path.join(REPO_ROOT, ".build", file))?.text;
    return new Map(
        names.map((name) => {
            const code = output(`${name}/${BUNDLE_FILE}`);
            const map = output(`${name}/${SOURCE_MAP_FILE}`);
            if (code === undefined || map === undefined) {
                throw new Error(`esbuild produced no output for handler ${name}`);
            }
            return [name, { code, map: repositoryRelativeSources(map, `.build/${name}`) }];
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
