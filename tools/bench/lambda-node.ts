/**
 * Lambda's Node.js for the benchmarks and the bundle tests. The functions run on `nodejs22.x`;
 * this machine may run another major. The Node.js binaries are published on the npm registry as
 * `node-<platform>-<arch>@<version>` (the binary is `bin/node` in the package), so the benchmark,
 * and test/lib/bundle.test.ts on every test run, unpack the pinned version once into a git-ignored
 * cache and run the deployed bundles with it. It is a tool, not a dependency of the product.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";

/** The Node.js that `nodejs22.x` runs, pinned so that runs compare. */
export const LAMBDA_NODE_VERSION = "22.23.5";

const CACHE_DIR = path.resolve(__dirname, "..", "..", "node_modules", ".cache", "notes-bench");

export interface NodeBinary {
    /** Path of the `node` executable. */
    execPath: string;
    /** `process.version` of that binary, e.g. `v22.23.5`. */
    version: string;
}

/** The machine's own Node.js (the one running the benchmark). */
export function machineNode(): NodeBinary {
    return { execPath: process.execPath, version: process.version };
}

function cacheDir(version: string): string {
    return path.join(CACHE_DIR, `node-${process.platform}-${process.arch}-${version}`);
}

export function majorOf(version: string): number {
    return Number(/^v?(\d+)\./.exec(version)?.[1]);
}

/**
 * Lambda's Node.js, from the cache or fetched with `npm pack` and unpacked with `tar`; the
 * machine's own Node.js when that is the same version. Returns the reason instead when it cannot
 * be had (no registry, no build for this platform): the benchmark says so and goes on, the tests fail.
 */
export function lambdaNode(version = LAMBDA_NODE_VERSION): NodeBinary | { unavailable: string } {
    if (process.version === `v${version}`) return machineNode();
    const pkg = `node-${process.platform}-${process.arch}`;
    const dir = cacheDir(version);
    const execPath = path.join(dir, "bin", "node");
    try {
        if (!existsSync(execPath)) {
            mkdirSync(CACHE_DIR, { recursive: true });
            const work = mkdtempSync(path.join(CACHE_DIR, "download-"));
            try {
                execFileSync("npm", ["pack", `${pkg}@${version}`, "--pack-destination", work, "--loglevel", "error"], { stdio: ["ignore", "ignore", "pipe"], timeout: 300_000 });
                const tarball = readdirSync(work).find((file) => file.endsWith(".tgz"));
                if (!tarball) throw new Error(`npm pack ${pkg}@${version} wrote no tarball`);
                const unpacked = path.join(work, "unpacked");
                mkdirSync(unpacked);
                execFileSync("tar", ["-xzf", path.join(work, tarball), "-C", unpacked, "--strip-components=1", "package/bin/node"], { stdio: ["ignore", "ignore", "pipe"] });
                rmSync(dir, { recursive: true, force: true });
                renameSync(unpacked, dir);
            } finally {
                rmSync(work, { recursive: true, force: true });
            }
        }
        const reported = execFileSync(execPath, ["--version"], { encoding: "utf8" }).trim();
        if (reported !== `v${version}`) throw new Error(`${execPath} reports ${reported}, not v${version}`);
        return { execPath, version: reported };
    } catch (error) {
        const detail = error instanceof Error ? ((error as { stderr?: Buffer }).stderr?.toString().trim() || error.message) : String(error);
        return { unavailable: `${pkg}@${version} could not be installed from the npm registry (${detail.split("\n")[0]})` };
    }
}
