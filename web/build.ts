import { build, BuildOptions } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { WebClientConfig } from "./src/config";

const WEB_DIR = __dirname;

/** A built client: file name (relative, no directories) -> contents. */
export type ClientFiles = Map<string, Uint8Array>;

/** Only in a client built for the local cloud (`s3Relay`): the service worker that relays S3 requests. */
export const RELAY_WORKER = "s3-relay-sw.js";

/**
 * Bundles the reference client with esbuild, in memory: `app.js` (one ES module), its source map
 * and licences, `index.html`, `style.css` and, for the local cloud, the service worker. The bundle
 * holds no stack settings: those are `config.json` (`withConfig`), so one bundle serves any stack.
 */
export async function bundleWebClient({ serviceWorker }: { serviceWorker: boolean }): Promise<ClientFiles> {
    const common: BuildOptions = {
        bundle: true,
        minify: true,
        sourcemap: "linked",
        platform: "browser",
        target: ["es2020", "chrome100", "firefox100", "safari15"],
        legalComments: "linked",
        logLevel: "silent",
        write: false,
        // Nothing is written there; source map paths come out relative to it (no machine paths).
        outdir: path.join(WEB_DIR, "dist"),
    };
    const results = await Promise.all([
        build({ ...common, entryPoints: { app: path.join(WEB_DIR, "src", "main.ts") }, format: "esm" }),
        serviceWorker ? build({ ...common, entryPoints: { [RELAY_WORKER.replace(/\.js$/, "")]: path.join(WEB_DIR, "src", "s3-relay-sw.ts") }, format: "iife" }) : undefined,
    ]);
    const files: ClientFiles = new Map();
    for (const result of results) for (const file of result?.outputFiles ?? []) files.set(path.basename(file.path), file.contents);
    for (const file of ["index.html", "style.css"]) files.set(file, readFileSync(path.join(WEB_DIR, file)));
    return files;
}

/** The bundle plus its `config.json`. */
export function withConfig(files: ClientFiles, config: WebClientConfig): ClientFiles {
    return new Map([...files, ["config.json", Buffer.from(`${JSON.stringify(config, null, 2)}\n`)]]);
}

/** Builds the client for a stack into `outDir` (static files for any web host). */
export async function buildWebClient(outDir: string, config: WebClientConfig): Promise<string[]> {
    const files = withConfig(await bundleWebClient({ serviceWorker: config.s3Relay !== undefined }), config);
    mkdirSync(outDir, { recursive: true });
    for (const [name, contents] of files) writeFileSync(path.join(outDir, name), contents);
    return [...files.keys()].sort();
}
