// Child entry of the cold-start benchmark, compiled to an ES module (`cold-child.mjs`) as the
// Lambda Node.js runtime's own entry is one (`/var/runtime/index.mjs`): so the ES module loader is
// running before the handler loads, as on Lambda. Loads the handler the way the runtime does
// (`require` for `.js`/`.cjs`, `import()` for `.mjs`), serves one request, reports where the time
// went on stderr and exits at once.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string }>;

// What the runtime loads CommonJS handlers with (`import.meta` would not type-check in this CommonJS project).
const requireModule = createRequire(process.argv[1]);
const [modulePath, exportName, eventJson, expectedStatus] = process.argv.slice(2);

async function main(): Promise<void> {
    const loadStarted = process.hrtime.bigint();
    const bootMs = process.uptime() * 1000;
    const loaded: Record<string, Handler> = modulePath.endsWith(".mjs") ? await import(pathToFileURL(modulePath).href) : requireModule(modulePath);
    const loadEnded = process.hrtime.bigint();
    // Lambda's context: the account function budgets its work by the time left (the default
    // timeout's 10 s, or what the case sets in BENCH_REMAINING_MS).
    const deadline = Date.now() + Number(process.env.BENCH_REMAINING_MS ?? 10_000);
    const response = await loaded[exportName](JSON.parse(eventJson), { awsRequestId: "cold-start", getRemainingTimeInMillis: () => deadline - Date.now() });
    const answered = process.hrtime.bigint();
    if (response.statusCode !== Number(expectedStatus)) {
        process.stderr.write(`unexpected status ${response.statusCode} (wanted ${expectedStatus}): ${response.body}\n`);
        process.exit(2);
    }
    // bootMs: Node's own start-up until this file ran; loadMs: the handler module; requestMs: one
    // request; cpuMs: CPU time of the whole process so far (less disturbed by other processes than
    // wall time); modules/moduleBytes: the CommonJS files loaded (counted after the clocks stopped).
    const cpu = process.cpuUsage();
    const { statSync } = requireModule("node:fs") as typeof import("node:fs");
    const files = Object.keys(requireModule.cache);
    const moduleBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
    const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
    process.stderr.write(`BENCH ${JSON.stringify({ bootMs, loadMs: ms(loadStarted, loadEnded), requestMs: ms(loadEnded, answered), cpuMs: (cpu.user + cpu.system) / 1000, modules: files.length, moduleBytes })}\n`);
    process.exit(0);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(3);
});
