/**
 * The two ways to ship a handler that the cold-start benchmark compares, written to `bench/tmp/`
 * (git-ignored): the deployed bundle, and the same sources compiled file by file, loading their
 * dependencies from `node_modules` as an unbundled deployment does.
 */
import * as esbuild from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { bundleHandler, HANDLERS_DIR } from "../lib/bundle";

export const HANDLER_NAMES = ["create", "get", "list", "update", "delete"] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** Inside the repository, so compiled sources resolve `node_modules` like a deployed package does. */
export const BENCH_TMP = path.resolve(__dirname, "tmp");

export interface HandlerBuild {
    /** Directory of the deployment package (`index.js`, `index.js.map`). */
    bundledDir: string;
    /** Module to `require` for the bundle, as the Lambda runtime resolves `index.handler`. */
    bundledModule: string;
    /** The compiled, unbundled handler module. */
    unbundledModule: string;
    bundleBytes: number;
    bundleGzipBytes: number;
}

export function resetBenchTmp(): void {
    rmSync(BENCH_TMP, { recursive: true, force: true });
    mkdirSync(BENCH_TMP, { recursive: true });
}

/** Writes every handler's deployment package exactly as `lib/bundle.ts` builds it for the program. */
export function writeBundles(): Record<HandlerName, HandlerBuild> {
    const unbundledDir = compileUnbundled();
    const builds = {} as Record<HandlerName, HandlerBuild>;
    for (const name of HANDLER_NAMES) {
        const bundle = bundleHandler(name);
        const bundledDir = path.join(BENCH_TMP, "bundled", name);
        mkdirSync(bundledDir, { recursive: true });
        writeFileSync(path.join(bundledDir, "index.js"), bundle.code);
        writeFileSync(path.join(bundledDir, "index.js.map"), bundle.map);
        builds[name] = {
            bundledDir,
            bundledModule: path.join(bundledDir, "index.js"),
            unbundledModule: path.join(unbundledDir, `${name}.js`),
            bundleBytes: Buffer.byteLength(bundle.code),
            bundleGzipBytes: gzipSync(bundle.code).length,
        };
    }
    return builds;
}

/**
 * `tsc`-equivalent output of `handlers/`: one CommonJS file per source, imports left as `require`
 * calls (the AWS SDK, zod and ulid then load from `node_modules`, file by file). esbuild's
 * transform is used instead of `tsc` only because it is faster; the emitted module graph is the same.
 */
export function compileUnbundled(): string {
    const outDir = path.join(BENCH_TMP, "unbundled", "handlers");
    mkdirSync(outDir, { recursive: true });
    for (const file of readdirSync(HANDLERS_DIR).filter((f) => f.endsWith(".ts"))) {
        const source = readFileSync(path.join(HANDLERS_DIR, file), "utf8");
        const { code } = esbuild.transformSync(source, { loader: "ts", format: "cjs", target: "node20", sourcefile: file });
        writeFileSync(path.join(outDir, file.replace(/\.ts$/, ".js")), code);
    }
    return outDir;
}

/** Compiles a benchmark child entry to plain JS, so child processes never pay for ts-node. */
export function compileChild(source: string, out = path.join(BENCH_TMP, path.basename(source).replace(/\.ts$/, ".js"))): string {
    const { code } = esbuild.transformSync(readFileSync(source, "utf8"), { loader: "ts", format: "cjs", target: "node20" });
    writeFileSync(out, code);
    return out;
}

/** Other ways to ship the `get` handler, measured beside the deployed bundle for comparison. */
export interface VariantBuild {
    name: string;
    description: string;
    module: string;
    bytes: number;
}

/**
 * - `sst`: SST v3's production defaults for a Node function (sst/sst `pkg/runtime/node/build.go`):
 *   ESM `.mjs` with its createRequire banner, target esnext, keepNames, minified, the AWS SDK
 *   bundled, no source map.
 * - `sdkExternal`: our settings with the AWS SDK left out and loaded from `node_modules`, as a
 *   function does that relies on the SDK the Lambda runtime ships (CDK's NodejsFunction default).
 * - `linkedSourceMap`: the deployed bundle plus the `sourceMappingURL` comment, i.e. what
 *   `NODE_OPTIONS=--enable-source-maps` costs once Node can actually find the map.
 * - `codeCache`: our settings with `import()` compiled to `require` (the SDK's lazy
 *   `import("node:http")` otherwise goes through the ESM loader on the first request), loaded
 *   through `code-cache-shim.ts` with a V8 code cache; the cache is made by `produceCodeCache`.
 */
export function writeVariants(name: HandlerName): VariantBuild[] {
    const entry = path.join(HANDLERS_DIR, `${name}.ts`);
    const common: esbuild.BuildOptions = { entryPoints: [entry], bundle: true, write: false, platform: "node", minify: true, legalComments: "none", logLevel: "silent" };
    const variants: VariantBuild[] = [];
    const write = (variant: string, file: string, code: string, description: string) => {
        const dir = path.join(BENCH_TMP, "variants", variant);
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, file), code);
        variants.push({ name: variant, description, module: path.join(dir, file), bytes: Buffer.byteLength(code) });
    };

    const sst = esbuild.buildSync({
        ...common,
        outfile: "index.mjs",
        format: "esm",
        target: "esnext",
        keepNames: true,
        mainFields: ["module", "main"],
        banner: {
            js: [
                `import { createRequire as topLevelCreateRequire } from 'module';`,
                `const require = topLevelCreateRequire(import.meta.url);`,
                `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
                `const __filename = topLevelFileUrlToPath(import.meta.url)`,
                `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
            ].join("\n"),
        },
    });
    write("sst", "index.mjs", sst.outputFiles![0].text, "SST v3 defaults: ESM, esnext, keepNames, minify, SDK bundled, no source map");

    const external = esbuild.buildSync({ ...common, outfile: "index.js", format: "cjs", target: "node20", mainFields: ["module", "main"], external: ["@aws-sdk/*", "@smithy/*"] });
    write("sdkExternal", "index.js", external.outputFiles![0].text, "our settings, AWS SDK external (loaded from node_modules, as the runtime-provided SDK)");

    const bundle = bundleHandler(name);
    write("linkedSourceMap", "index.js", `${bundle.code}//# sourceMappingURL=index.js.map\n`, "the deployed bundle with a sourceMappingURL comment, under --enable-source-maps");
    writeFileSync(path.join(BENCH_TMP, "variants", "linkedSourceMap", "index.js.map"), bundle.map);

    const noDynamicImport = esbuild.buildSync({
        ...common,
        outfile: "bundle.js",
        format: "cjs",
        target: "node20",
        mainFields: ["module", "main"],
        supported: { "dynamic-import": false },
    });
    write("codeCache", "bundle.js", noDynamicImport.outputFiles![0].text, "our settings without import(), with a V8 code cache made after one request");
    const cached = variants[variants.length - 1];
    cached.module = compileChild(path.join(__dirname, "code-cache-shim.ts"), path.join(path.dirname(cached.module), "index.js"));
    return variants;
}
