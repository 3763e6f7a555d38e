import * as esbuild from "esbuild";
import * as path from "node:path";

export const HANDLERS_DIR = path.resolve(__dirname, "..", "handlers");
const REPO_ROOT = path.resolve(__dirname, "..");

export interface Bundle {
    /** Minified CommonJS entry exporting `handler`. */
    code: string;
    /** External source map (sources relative to the repository, so builds match across machines). */
    map: string;
}

const cache = new Map<string, Bundle>();

/**
 * Bundles one handler with everything it imports, the AWS SDK v3 included: the SDK pinned by the
 * lock file ships, not whatever version the Lambda runtime carries that day. Tree-shaken and
 * minified; no timestamps or absolute paths, so two builds of the same source are byte-identical
 * and `pulumi preview` shows no spurious code diff.
 */
export function bundleHandler(name: string): Bundle {
    let bundle = cache.get(name);
    if (!bundle) {
        bundle = buildHandler(name);
        cache.set(name, bundle);
    }
    return bundle;
}

/** One uncached esbuild run (the program bundles each handler once, through `bundleHandler`). */
export function buildHandler(name: string): Bundle {
    const entry = path.join(HANDLERS_DIR, `${name}.ts`);
    const result = esbuild.buildSync({
        absWorkingDir: REPO_ROOT,
        entryPoints: [path.relative(REPO_ROOT, entry)],
        outfile: `.build/${name}/index.js`,
        bundle: true,
        write: false,
        platform: "node",
        // The lowest Node.js that runs the bundle: Lambda's nodejs22.x and the local cloud's Node 20.
        target: "node20",
        format: "cjs",
        minify: true,
        treeShaking: true,
        sourcemap: "external",
        sourcesContent: false,
        legalComments: "none",
        mainFields: ["module", "main"],
        logLevel: "silent",
    });
    const code = result.outputFiles.find((file) => file.path.endsWith(".js"));
    const map = result.outputFiles.find((file) => file.path.endsWith(".js.map"));
    if (!code || !map) {
        throw new Error(`esbuild produced no output for handler ${name}`);
    }
    return { code: code.text, map: map.text };
}
