/**
 * Runs a lazy module: a handler module that `lib/bundle.ts` bundled on its own and embedded in the
 * handler's bundle as a string, because the handler `require`s it only inside the function that
 * needs it (the S3 SDK of the delete function, `handlers/s3.ts`). The string is compiled the first
 * time the module is required; until then V8 only scans past it, so the module costs the cold
 * start nothing.
 *
 * It is compiled as part of the bundle's own file, numbered from `firstLine` on (past the bundle's
 * own lines), where the bundle's source map (`index.js.map`) continues with the module's map: a
 * stack through it prints mapped like the rest (`runtime/lazy-source-map.ts`).
 */
import { createRequire } from "node:module";
import { compileFunction } from "node:vm";

/** Where lazy modules are numbered in a bundle: past its own lines (lib/bundle.ts checks that). */
export const LAZY_MODULE_FIRST_LINE = 1001;

export function runLazyModule(source: string, firstLine = LAZY_MODULE_FIRST_LINE): unknown {
    const module = { exports: {} as unknown };
    // The CommonJS wrapper's parameters; the module, bundled, requires only Node's own modules.
    const body = compileFunction(source, ["exports", "require", "module", "__filename", "__dirname"], { filename: __filename, lineOffset: firstLine - 1 });
    body(module.exports, createRequire(__filename), module, __filename, __dirname);
    return module.exports;
}
