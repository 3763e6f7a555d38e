/**
 * TypeScript for a program, set up as the Pulumi CLI's Node.js language host sets it up
 * (`@pulumi/pulumi`'s `cmd/run/run.ts`), with the program's own SDK copy deciding: ts-node and
 * typescript as that SDK resolves them (its vendored copies when the program has none), the
 * program's `tsconfig.json` (or `PULUMI_NODEJS_TSCONFIG_PATH`) over the CLI's defaults (ES2020,
 * `module`/`moduleResolution` nodenext, or commonjs/node before TypeScript 4.7; ES2022 for an ES
 * module package), type checking unless `noCheck` or `PULUMI_NODEJS_TRANSPILE_ONLY` says
 * otherwise, and the SDK's own ts-node/esm hooks for a `"type": "module"` package. The checker's
 * own ts-node (this repository's settings) keeps compiling the checker alone.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "./mocks";

/** How the program's TypeScript was set up. */
export interface ProgramTypeScript {
    /** "cjs" (ts-node registered for require) or "esm" (the SDK's ts-node/esm loader hooks). */
    mode: "cjs" | "esm";
    /** The typescript that compiles the program (the program's SDK resolves it). */
    typescriptVersion: string;
}

/** `require` as seen from the SDK's directory: the CLI resolves typescript and ts-node from there. */
function fromSdk(sdkDir: string, specifier: string): string {
    return path.isAbsolute(specifier) ? specifier : require.resolve(specifier, { paths: [sdkDir] });
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
    const [a, b] = version.split(".").map(Number);
    return a > major || (a === major && b >= minor);
}

/**
 * Registers the program's TypeScript compilation as the CLI would, from the project directory
 * (the working directory by now). `packageType` is the nearest package.json's `type`.
 */
export function registerProgramTypeScript(options: { sdkDir: string; projectDir: string; packageType?: string; ownFiles: (file: string) => boolean }): ProgramTypeScript {
    const { sdkDir, projectDir } = options;
    const tsutils = require(path.join(sdkDir, "tsutils"));
    const defaultTsConfig = "tsconfig.json";
    const tsConfigPath: string = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? defaultTsConfig;
    const skipProject = !existsSync(path.resolve(projectDir, tsConfigPath));
    if (skipProject && tsConfigPath !== defaultTsConfig) {
        throw new ConfigError("PULUMI_NODEJS_TSCONFIG_PATH", `tsconfig path was set to ${tsConfigPath} but the file was not found`);
    }
    const compilerOptions: Record<string, unknown> = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
    const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly: boolean | undefined = transpileOnlyEnv ? transpileOnlyEnv === "true" : (compilerOptions.noCheck as boolean | undefined);
    // SDKs before typeScriptRequireStrings looked typescript and ts-node up by name, as here.
    const { tsnodeRequire, typescriptRequire } = (tsutils.typeScriptRequireStrings?.() ?? { tsnodeRequire: "ts-node", typescriptRequire: "typescript" }) as { tsnodeRequire: string; typescriptRequire: string };
    const compiler = fromSdk(sdkDir, typescriptRequire);
    const typescriptVersion: string = require(compiler).version;
    const registration: Record<string, unknown> = {
        compiler: typescriptRequire === "typescript" ? compiler : typescriptRequire,
        transpileOnly,
        project: tsConfigPath,
        skipProject,
        compilerOptions: {},
    };
    const described = (mode: "cjs" | "esm"): ProgramTypeScript => ({ mode, typescriptVersion });

    let tsNodeEsm: string | undefined;
    try {
        tsNodeEsm = require.resolve("ts-node/esm", { paths: [sdkDir] });
    } catch {
        tsNodeEsm = undefined;
    }
    const hooks = path.join(sdkDir, "cmd", "run", "hooks.js");
    if (options.packageType === "module" && versionAtLeast(typescriptVersion, 4, 7) && typescriptVersion !== "4.7.0" && tsNodeEsm && existsSync(hooks)) {
        registration.compilerOptions = { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions };
        // Registered exactly as the CLI does. The SDK's hooks create their ts-node service when the
        // hooks module loads, before Node hands them these options, so ts-node reads the tsconfig it
        // finds from the working directory itself: the same under the CLI and here.
        require("node:module").register(pathToFileURL(hooks).href, { data: registration });
        return described("esm");
    }

    const nodeNext = versionAtLeast(typescriptVersion, 4, 7);
    registration.compilerOptions = { target: "ES2020", module: nodeNext ? "nodenext" : "commonjs", moduleResolution: nodeNext ? "nodenext" : "node", sourceMap: "true", ...compilerOptions };
    // ts-node chains to the handler registered before it, and each one compiles what it does not
    // ignore: the checker's own ts-node (this repository's settings) and the program's would both
    // compile every file, one after the other. Split the files between them instead: the checker's
    // modules to the checker's compiler, everything else to the program's.
    const registered = Symbol.for("ts-node.register.instance");
    const checker = (process as any)[registered] as { ignored(file: string): boolean } | undefined;
    const program = require(fromSdk(sdkDir, tsnodeRequire)).register(registration) as { ignored(file: string): boolean };
    if (checker && checker !== program) {
        const checkerIgnored = checker.ignored.bind(checker);
        checker.ignored = (file) => !options.ownFiles(file) || checkerIgnored(file);
        const programIgnored = program.ignored.bind(program);
        program.ignored = (file) => options.ownFiles(file) || programIgnored(file);
    }
    return described("cjs");
}

/** The nearest package.json's `type` from a directory, as Node and the CLI read it. */
export function packageTypeOf(dir: string): string | undefined {
    for (let at = dir; ; at = path.dirname(at)) {
        const manifest = path.join(at, "package.json");
        if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")).type;
        if (path.dirname(at) === at) return undefined;
    }
}
