// Node module-loader hooks for `runPulumiProgram` (registered with module.register): lets `import()`
// load a TypeScript ES module program, as the CLI's ts-node/esm hooks do. `.ts` in a "type": "module"
// scope and `.mts` are transpiled with esbuild (types are not checked, as with transpile-only);
// `.ts` in a CommonJS scope and `.cts` go to the CommonJS loader, where ts-node compiles them.
// TypeScript ES modules import their siblings as `./x.js`: a missing `.js` resolves to its `.ts`.
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { transform } from "esbuild";

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/;

function moduleScope(file) {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")).type === "module";
        if (path.dirname(dir) === dir) return false;
    }
}

function typeScriptTwin(file) {
    const candidates = /\.js$/.test(file)
        ? [file.replace(/\.js$/, ".ts"), file.replace(/\.js$/, ".tsx")]
        : /\.mjs$/.test(file)
          ? [file.replace(/\.mjs$/, ".mts")]
          : /\.cjs$/.test(file)
            ? [file.replace(/\.cjs$/, ".cts")]
            : path.extname(file) === ""
              ? [`${file}.ts`, `${file}.mts`, `${file}.js`, `${file}.mjs`, path.join(file, "index.ts"), path.join(file, "index.js")]
              : [];
    return candidates.find((candidate) => existsSync(candidate));
}

export async function resolve(specifier, context, nextResolve) {
    try {
        return await nextResolve(specifier, context);
    } catch (error) {
        const relative = specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/") || specifier.startsWith("file:");
        if (!relative || !context.parentURL?.startsWith("file:")) throw error;
        const twin = typeScriptTwin(fileURLToPath(new URL(specifier, context.parentURL)));
        if (!twin) throw error;
        return { url: pathToFileURL(twin).href, shortCircuit: true };
    }
}

export async function load(url, context, nextLoad) {
    if (!url.startsWith("file:") || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context);
    const file = fileURLToPath(url);
    const esm = file.endsWith(".mts") || (!file.endsWith(".cts") && moduleScope(file));
    if (!esm) return { format: "commonjs", shortCircuit: true };
    const { code } = await transform(await readFile(file, "utf8"), {
        loader: file.endsWith(".tsx") ? "tsx" : "ts",
        format: "esm",
        target: `node${process.versions.node.split(".")[0]}`,
        sourcefile: file,
        sourcemap: "inline",
    });
    return { format: "module", source: code, shortCircuit: true };
}
