// Child entry of the cold-start benchmark (compiled to plain JS by `compileChild`): loads one
// handler module the way the Lambda Node.js runtime does (`require`, or `import()` for `.mjs`),
// serves one request, reports where the time went on stderr and exits at once.
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string }>;

const [modulePath, eventJson, expectedStatus] = process.argv.slice(2);

/** CommonJS through `require`, `.mjs` through `import()`, as the Lambda Node.js runtime loads them. */
async function loadHandler(): Promise<Handler> {
    if (modulePath.endsWith(".mjs")) {
        // A real dynamic import: compiled to CommonJS, `import()` would otherwise become `require`.
        const load = new Function("url", "return import(url)") as (url: string) => Promise<{ handler: Handler }>;
        return (await load(pathToFileURL(modulePath).href)).handler;
    }
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(modulePath).handler;
}

async function main(): Promise<void> {
    const loadStarted = performance.now();
    const handler = await loadHandler();
    const loaded = performance.now();
    const response = await handler(JSON.parse(eventJson), { awsRequestId: "cold-start" });
    const answered = performance.now();
    if (response.statusCode !== Number(expectedStatus)) {
        process.stderr.write(`unexpected status ${response.statusCode} (wanted ${expectedStatus}): ${response.body}\n`);
        process.exit(2);
    }
    // bootMs: Node's own start-up until this file ran; loadMs: the handler module; requestMs: one
    // request; modules/moduleBytes: the CommonJS files loaded (counted after the clock stopped).
    const files = Object.keys(require.cache).filter((file) => file !== __filename);
    const moduleBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
    process.stderr.write(`BENCH ${JSON.stringify({ bootMs: loadStarted, loadMs: loaded - loadStarted, requestMs: answered - loaded, modules: files.length, moduleBytes })}\n`);
    process.exit(0);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(3);
});
