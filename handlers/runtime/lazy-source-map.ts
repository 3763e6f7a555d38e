/**
 * Maps stack traces of a deployment package to its TypeScript sources, reading a source map only
 * when a stack through the package is first printed. `lib/bundle.ts` injects this module at the
 * top of every handler bundle.
 *
 * Node's own `--enable-source-maps` reads and parses the map of every module as it loads it, so
 * with that flag each cold start paid for a map that only an error needs. Here a file's map
 * (`index.js.map` beside `index.js`, `s3.js.map` beside the delete function's `s3.js`) is read,
 * parsed with Node's `module.SourceMap` and cached the first time a stack with a frame in that
 * file is formatted: in the error path, never on a successful request. The package is the folder
 * of the bundle that carries this module (Lambda's /var/task); a file there without a map, or a
 * frame outside it, prints as V8 prints it.
 *
 * A mapped frame prints as `at async readItem (handlers/notes.ts:98:22)`: the original source path
 * relative to the repository (as `lib/bundle.ts` writes the maps), 1-based line and column, and
 * the original name of the enclosing function where the map has one.
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname } from "node:path";

// The bundle is one CommonJS module, so this is the bundle's own path at run time; its folder
// holds the whole package.
const packageDir = dirname(__filename);

interface LoadedMap {
    map: SourceMap;
    /** The file's own lines, to find a function's name after its `async function` keywords. */
    lines: string[];
}

/** Per file of the package: its map, or null when it has none (or it cannot be read). */
const loaded = new Map<string, LoadedMap | null>();

function inPackage(file: string | null | undefined): file is string {
    return typeof file === "string" && dirname(file) === packageDir;
}

function loadSourceMap(file: string): LoadedMap | null {
    let entry = loaded.get(file);
    if (entry === undefined) {
        try {
            entry = { map: new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8"))), lines: readFileSync(file, "utf8").split("\n") };
        } catch {
            // No map shipped beside it (or unreadable): print the file's own positions.
            entry = null;
        }
        loaded.set(file, entry);
    }
    return entry;
}

interface Origin {
    source: string;
    line: number;
    column: number;
    name?: string;
}

/** The original position of a 1-based position in a file, if its map covers it. */
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

function formatFrame(frame: NodeJS.CallSite): string {
    const file = frame.getFileName();
    const loadedMap = inPackage(file) ? loadSourceMap(file) : null;
    const origin = loadedMap ? originOf(loadedMap.map, frame.getLineNumber(), frame.getColumnNumber()) : undefined;
    if (loadedMap === null || origin === undefined) return `    at ${frame}`;
    const name = originalName(loadedMap, frame) ?? frame.getFunctionName() ?? "<anonymous>";
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
    if (!frames.some((frame) => inPackage(frame.getFileName()))) {
        return previous ? previous(error, frames) : [header(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
    }
    try {
        return [header(error), ...frames.map(formatFrame)].join("\n");
    } catch {
        // A stack is never lost to a mapping problem: print it unmapped.
        return [header(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
    }
};
