// Child-process entry: loads one deployed handler bundle (with the environment Lambda would give
// it) and invokes it with each event read from stdin, writing the responses as JSON to
// `resultPath` (stdout belongs to the handler's own log lines, as in Lambda). A fresh
// process per bundle keeps module-scope SDK clients and environment isolated, as in Lambda.
//
// With `traceSourceMaps`, it also records every source map the process reads through `fs`, and
// whether Node itself holds a map for the bundle (`module.findSourceMap`, filled only when Node
// loads maps on its own, as with --enable-source-maps), and writes
// `{ responses, mapReads: { load, events }, nodeLoadedMap }` instead of the bare responses.
import { findSourceMap } from "node:module";
import { text } from "node:stream/consumers";

// The module object itself (not an import namespace copy), so patches reach every caller.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const fs: typeof import("node:fs") = require("node:fs");

interface Input {
    bundlePath: string;
    events: unknown[];
    resultPath: string;
    exportName?: string;
    traceSourceMaps?: boolean;
}

/** Records the paths of `.map` files opened or read through `fs`, in the order they happen. */
function traceMapReads(): string[] {
    const reads: string[] = [];
    const record = (file: unknown) => {
        const name = file instanceof URL ? file.pathname : String(file);
        if (name.endsWith(".map")) reads.push(name);
    };
    const patch = <T extends object>(target: T, names: string[]) => {
        for (const name of names) {
            const original = (target as Record<string, unknown>)[name];
            if (typeof original !== "function") continue;
            (target as Record<string, unknown>)[name] = function (this: unknown, file: unknown, ...rest: unknown[]) {
                record(file);
                return original.call(this, file, ...rest);
            };
        }
    };
    patch(fs, ["readFileSync", "readFile", "openSync", "open", "createReadStream"]);
    patch(fs.promises, ["readFile", "open"]);
    return reads;
}

async function main(): Promise<void> {
    const { bundlePath, events, resultPath, exportName = "handler", traceSourceMaps = false }: Input = JSON.parse(await text(process.stdin));
    const reads = traceSourceMaps ? traceMapReads() : [];
    const handler = require(bundlePath)[exportName];
    const load = reads.splice(0);
    const responses = [];
    const perEvent: string[][] = [];
    for (const event of events) {
        responses.push(await handler(event, { awsRequestId: `req-${responses.length}` }));
        perEvent.push(reads.splice(0));
    }
    const result = traceSourceMaps ? { responses, mapReads: { load, events: perEvent }, nodeLoadedMap: findSourceMap(bundlePath) !== undefined } : responses;
    fs.writeFileSync(resultPath, JSON.stringify(result));
}

main().catch((error) => {
    process.stderr.write(String(error?.stack ?? error));
    process.exit(1);
});
