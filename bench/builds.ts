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
export function compileChild(source: string): string {
    const out = path.join(BENCH_TMP, path.basename(source).replace(/\.ts$/, ".js"));
    const { code } = esbuild.transformSync(readFileSync(source, "utf8"), { loader: "ts", format: "cjs", target: "node20" });
    writeFileSync(out, code);
    return out;
}
