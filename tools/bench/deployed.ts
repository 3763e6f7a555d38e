/**
 * What the program deploys for each handler, read from the program's own run under mocks: the
 * deployment package (the `code` archive's files), the `handler` and `runtime` settings and the
 * environment variables. The cold-start and request-path benchmarks run exactly these, so a change
 * to the Lambda configuration is a change to what is measured.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import type { ProgramRun } from "../engine/program";
import { HANDLER_NAMES, HandlerName } from "./builds";

export interface DeployedFunction {
    handler: HandlerName;
    /** Lambda `runtime`, e.g. `nodejs22.x`. */
    runtime: string;
    /** Lambda `handler` setting, e.g. `index.handler`. */
    entry: string;
    /** The deployment package: file name to contents. */
    files: Record<string, string>;
    /** The function's environment variables as deployed. */
    environment: Record<string, string>;
}

const FUNCTION_TYPE = "aws:lambda/function:Function";

/** Each handler's function as the program registers it (one per handler; anything else is an error). */
export function deployedFunctions(run: Pick<ProgramRun, "resources">): Record<HandlerName, DeployedFunction> {
    const functions = run.resources.filter((resource) => resource.type === FUNCTION_TYPE);
    const result = {} as Record<HandlerName, DeployedFunction>;
    for (const handler of HANDLER_NAMES) {
        const matches = functions.filter((fn) => fn.name.endsWith(`-${handler}`));
        if (matches.length !== 1) throw new Error(`expected one Lambda function for the ${handler} handler in the program, found ${matches.length}`);
        const { inputs } = matches[0];
        const code = inputs.code;
        if (code?.$archive !== "assets") throw new Error(`the ${handler} function's code is not an archive of assets: ${JSON.stringify(code).slice(0, 80)}`);
        const files: Record<string, string> = {};
        for (const [file, asset] of Object.entries<{ $asset: string; text?: string }>(code.assets)) {
            if (asset.$asset !== "string" || asset.text === undefined) throw new Error(`${handler}: ${file} is not a string asset`);
            files[file] = asset.text;
        }
        result[handler] = { handler, runtime: String(inputs.runtime), entry: String(inputs.handler), files, environment: { ...(inputs.environment?.variables ?? {}) } };
    }
    return result;
}

/**
 * The file and export the Lambda Node.js runtime loads for a `handler` setting: `<module>.<export>`,
 * the module tried as is, then with `.js`, `.mjs` and `.cjs` (aws-lambda-nodejs-runtime-interface-client,
 * `UserFunction.js`).
 */
export function entryModule(fn: Pick<DeployedFunction, "entry" | "files">): { file: string; exportName: string } {
    const match = /^([^.]*)\.(.*)$/.exec(fn.entry);
    if (!match) throw new Error(`malformed Lambda handler setting "${fn.entry}"`);
    const [, moduleName, exportName] = match;
    const file = ["", ".js", ".mjs", ".cjs"].map((ext) => `${moduleName}${ext}`).find((name) => name in fn.files);
    if (!file) throw new Error(`the package has no module for handler "${fn.entry}" (files: ${Object.keys(fn.files).join(", ")})`);
    return { file, exportName };
}

/** The Node.js major of a Lambda runtime id (`nodejs22.x` → 22). */
export function runtimeMajor(runtime: string): number {
    const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
    if (major === undefined) throw new Error(`not a Node.js Lambda runtime: ${runtime}`);
    return Number(major);
}

/** A deployment package unpacked on disk, as Lambda unpacks it into /var/task. */
export interface UnpackedPackage {
    dir: string;
    /** The module the runtime loads, and its export. */
    module: string;
    exportName: string;
    /** Size of that module as deployed, and gzipped (the Lambda zip deflates it similarly). */
    bytes: number;
    gzipBytes: number;
}

export function unpack(fn: Pick<DeployedFunction, "entry" | "files">, dir: string): UnpackedPackage {
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(fn.files)) writeFileSync(path.join(dir, file), text);
    const { file, exportName } = entryModule(fn);
    return { dir, module: path.join(dir, file), exportName, bytes: Buffer.byteLength(fn.files[file]), gzipBytes: gzipSync(fn.files[file]).length };
}

/**
 * The function's environment as deployed, with the table and bucket of the benchmark's local
 * services in place of the stack's (`localEnv` is what the runtime adds: region, credentials,
 * endpoints, and those two names).
 */
export function functionEnvironment(fn: Pick<DeployedFunction, "environment">, localEnv: Record<string, string>): Record<string, string> {
    return { ...fn.environment, ...localEnv };
}
