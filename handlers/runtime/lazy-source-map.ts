/**
 * Maps stack traces of a handler bundle to its TypeScript sources, reading the source map only
 * when a stack through the bundle is first printed. `lib/bundle.ts` injects this module at the
 * top of every bundle.
 *
 * Node's own `--enable-source-maps` reads and parses the map of every module as it loads it, so
 * with that flag each cold start paid for a map that only an error needs. Here the map
 * (`index.js.map`, beside the bundle) is read, parsed with Node's `module.SourceMap` and cached
 * the first time a stack that passes through the bundle is formatted: in the error path, never
 * on a successful request.
 *
 * A bundle frame prints as `at async readItem (handlers/notes.ts:98:22)`: the original source path
 * relative to the repository (as `lib/bundle.ts` writes the map), 1-based line and column, and
 * the original name of the enclosing function where the map has one. Other frames print as V8
 * prints them.
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

// The bundle is one CommonJS module, so this is the bundle's own path at run time.
const bundleFile = __filename;

interface LoadedMap {
    map: SourceMap;
    /** The bundle's own lines, to find a function's name after its `async function` keywords. */
    lines: string[];
}

let loaded: LoadedMap | null | undefined;

function loadSourceMap(): LoadedMap | null {
    if (loaded === undefined) {
        try {
            loaded = {
                map: new SourceMap(JSON.parse(readFileSync(`${bundleFile}.map`, "utf8"))),
                lines: readFileSync(bundleFile, "utf8").split("\n"),
            };
        } catch {
            // No map shipped (or unreadable): print the bundle's own positions.
            loaded = null;
        }
    }
    return loaded;
}

interface Origin {
    source: string;
    line: number;
    column: number;
    name?: string;
}

/** The original position of a 1-based position in the bundle, if the map covers it. */
function originOf(map: SourceMap, line: number | null, column: number | null): Origin | undefined {
    if (line === null || column === null) return undefined;
    const entry = map.findEntry(line - 1, column - 1) as Partial<{ originalSource: string; originalLine: number; originalColumn: number; name: string }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
    return { source: entry.originalSource, line: entry.originalLine + 1, column: entry.originalColumn + 1, name: entry.name };
}

/**
 * The original name of the function a frame runs in. The map names renamed identifiers, so the
 * name is the one mapped at the function's own identifier: at the function's start, or just after
 * the `async function` keywords of a declaration. Arrow functions keep V8's name for them.
 */
function originalName({ map, lines }: LoadedMap, frame: NodeJS.CallSite): string | undefined {
    const line = frame.getEnclosingLineNumber();
    const column = frame.getEnclosingColumnNumber();
    if (line === null || column === null) return undefined;
    const atStart = originOf(map, line, column)?.name;
    if (atStart !== undefined) return atStart;
    const header = /^(?:async\s*)?function\s*\*?\s*(?=[\w$])/.exec(lines[line - 1]?.slice(column - 1) ?? "");
    return header ? originOf(map, line, column + header[0].length)?.name : undefined;
}

function formatFrame(frame: NodeJS.CallSite, loaded: LoadedMap | null): string {
    if (loaded === null || frame.getFileName() !== bundleFile) return `    at ${frame}`;
    const origin = originOf(loaded.map, frame.getLineNumber(), frame.getColumnNumber());
    if (origin === undefined) return `    at ${frame}`;
    const name = originalName(loaded, frame) ?? frame.getFunctionName() ?? "<anonymous>";
    const prefix = `${frame.isAsync() ? "async " : ""}${frame.isConstructor() ? "new " : ""}`;
    return `    at ${prefix}${name} (${origin.source}:${origin.line}:${origin.column})`;
}

function header(error: Error): string {
    try {
        return Error.prototype.toString.call(error);
    } catch {
        return "Error";
    }
}

const previous = Error.prepareStackTrace;

Error.prepareStackTrace = (error, frames) => {
    if (!frames.some((frame) => frame.getFileName() === bundleFile)) {
        return previous ? previous(error, frames) : [header(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
    }
    try {
        const map = loadSourceMap();
        return [header(error), ...frames.map((frame) => formatFrame(frame, map))].join("\n");
    } catch {
        // A stack is never lost to a mapping problem: print it unmapped.
        return [header(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
    }
};
