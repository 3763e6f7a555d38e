import { build, BuildOptions, buildSync, OutputFile } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { connectSources, contentTypeOf, documentPolicy, IMMUTABLE, REVALIDATE, withDocumentPolicy } from "./headers";
import { CONFIG_ELEMENT_ID, configDataBlockText, type WebClientConfig } from "./src/config";

const WEB_DIR = __dirname;

/** A built client: file name (relative, no directories) -> contents. */
export type ClientFiles = Map<string, Uint8Array>;

/** Only in a client built for the local cloud (`s3Relay`): the service worker that relays S3 requests. */
export const RELAY_WORKER = "s3-relay-sw.js";

/** The pages beside the bundle: the app, and the page a missing path answers with. */
const PAGES = ["index.html", "404.html", "style.css"];

/** Settings of both builds (npm start's and the site's). */
const COMMON: BuildOptions = {
    bundle: true,
    minify: true,
    platform: "browser",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    legalComments: "linked",
    logLevel: "silent",
    write: false,
    // Nothing is written there; source map paths come out relative to it (no machine paths).
    outdir: path.join(WEB_DIR, "dist"),
};

const APP_ENTRY = { app: path.join(WEB_DIR, "src", "main.ts") };

function collect(outputs: (OutputFile[] | undefined)[]): ClientFiles {
    const files: ClientFiles = new Map();
    for (const list of outputs) for (const file of list ?? []) files.set(path.basename(file.path), file.contents);
    for (const file of PAGES) files.set(file, readFileSync(path.join(WEB_DIR, file)));
    return files;
}

/**
 * Bundles the reference client with esbuild, in memory: `app.js` (one ES module), its source map
 * and licences, `index.html`, `404.html`, `style.css` and, for the local cloud, the service worker.
 * The bundle holds no stack settings: `withConfig` writes those into index.html (and `config.json`),
 * so one bundle serves any stack.
 */
export async function bundleWebClient({ serviceWorker }: { serviceWorker: boolean }): Promise<ClientFiles> {
    const common: BuildOptions = { ...COMMON, sourcemap: "linked" };
    const results = await Promise.all([
        build({ ...common, entryPoints: APP_ENTRY, format: "esm" }),
        serviceWorker ? build({ ...common, entryPoints: { [RELAY_WORKER.replace(/\.js$/, "")]: path.join(WEB_DIR, "src", "s3-relay-sw.ts") }, format: "iife" }) : undefined,
    ]);
    return collect(results.map((result) => result?.outputFiles));
}

/**
 * The client as the hosted site ships it (components/site.ts, while the program runs, hence
 * synchronous): the script under a content-hashed name (`app-<hash>.js`, its licences beside it)
 * that index.html loads, and no source map. A map would show the TypeScript, which is this
 * repository's open source anyway: visitors never need it, `npm start` serves the same code with
 * maps for debugging, and leaving them out keeps the site to what runs (and out of the budget).
 */
export function bundleSiteClient(): ClientFiles {
    const result = buildSync({ ...COMMON, sourcemap: false, entryNames: "[name]-[hash]", entryPoints: APP_ENTRY, format: "esm" });
    const files = collect([result.outputFiles]);
    const script = siteScript(files);
    if (!script) throw new Error(`esbuild wrote no hashed app script (got ${[...files.keys()].join(", ")})`);
    const index = Buffer.from(files.get("index.html")!).toString("utf8");
    const loaded = index.replace(/<script type="module" src="app\.js"><\/script>/, `<script type="module" src="${script}"></script>`);
    if (loaded === index) throw new Error('web/index.html must load the client with <script type="module" src="app.js"></script>');
    files.set("index.html", Buffer.from(loaded));
    return files;
}

/** The name of the content-hashed script in a site bundle (`app-<esbuild's base32 hash>.js`). */
export function siteScript(files: ClientFiles): string | undefined {
    return [...files.keys()].find((name) => /^app-[A-Z2-7]+\.js$/.test(name));
}

/** One object of the hosted site. */
export interface SiteObject {
    contents: string;
    contentType: string;
    cacheControl: string;
}

/**
 * The site's objects for a stack: the bundle configured for it (`withConfig`). Content-hashed
 * files are immutable for a year; every file whose name outlives its content (index.html,
 * config.json, 404.html, style.css) is revalidated, so a deploy needs no invalidation.
 */
export function siteObjects(files: ClientFiles, config: WebClientConfig): Map<string, SiteObject> {
    const script = siteScript(files);
    if (!script) throw new Error("siteObjects needs a site bundle (bundleSiteClient)");
    const objects = new Map<string, SiteObject>();
    for (const [name, contents] of withConfig(files, config)) {
        const text = Buffer.from(contents).toString("utf8");
        const hashed = name === script || name.startsWith(`${script}.`);
        objects.set(name, { contents: text, contentType: contentTypeOf(name), cacheControl: hashed ? IMMUTABLE : REVALIDATE });
    }
    return objects;
}

/**
 * The bundle configured for a stack: index.html with the stack's document policy (web/headers.ts),
 * so every way the client is served (`npm start`, the hosted site, `web:build`) enforces the same
 * Content-Security-Policy, and with the configuration the page reads (`withConfigBlock`); and
 * `config.json`, the same configuration for other tooling. The page itself never fetches
 * `config.json`: a fetch would need `'self'` in `connect-src`.
 */
export function withConfig(files: ClientFiles, config: WebClientConfig): ClientFiles {
    const configured: ClientFiles = new Map([...files, ["config.json", Buffer.from(`${JSON.stringify(config, null, 2)}\n`)]]);
    const index = files.get("index.html");
    if (index) {
        const html = withDocumentPolicy(Buffer.from(index).toString("utf8"), documentPolicy(connectSources(config)));
        configured.set("index.html", Buffer.from(withConfigBlock(html, config)));
    }
    return configured;
}

/**
 * Puts the configuration in index.html as a data block, `<script type="application/json"
 * id="config">`, at the end of `<head>`: a script element of a non-JavaScript type is never
 * executed, so the Content-Security-Policy's `script-src` does not govern it, and its text is
 * escaped so that no value can end it (`configDataBlockText`).
 */
export function withConfigBlock(html: string, config: WebClientConfig): string {
    const heads = html.match(/<\/head>/gi) ?? [];
    if (heads.length !== 1) throw new Error(`index.html must have exactly one </head> to put the configuration before it (found ${heads.length})`);
    if (new RegExp(`\\sid="${CONFIG_ELEMENT_ID}"`).test(html)) throw new Error(`index.html already has an element with id="${CONFIG_ELEMENT_ID}"`);
    const block = `    <script type="application/json" id="${CONFIG_ELEMENT_ID}">${configDataBlockText(config)}</script>\n`;
    return html.replace(/<\/head>/i, (head) => `${block}${head}`);
}

/** Builds the client for a stack into `outDir` (static files for any web host). */
export async function buildWebClient(outDir: string, config: WebClientConfig): Promise<string[]> {
    const files = withConfig(await bundleWebClient({ serviceWorker: config.s3Relay !== undefined }), config);
    mkdirSync(outDir, { recursive: true });
    for (const [name, contents] of files) writeFileSync(path.join(outDir, name), contents);
    return [...files.keys()].sort();
}
