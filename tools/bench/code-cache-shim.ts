// Deployment-package entry of the `codeCache` cold-start variant (compiled to `index.js` next to
// `bundle.js` and `bundle.cache`): compiles the bundle with a V8 code cache made after one warm
// request, so neither the top-level code nor the functions the first request runs are compiled
// again. V8 rejects a cache from another V8 version or flag set and compiles normally instead.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import * as vm from "node:vm";

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const file = path.join(__dirname, "bundle.js");
const cacheFile = path.join(__dirname, "bundle.cache");
const produce = process.env.BENCH_PRODUCE_CODE_CACHE === "1";
const script = new vm.Script(Module.wrap(readFileSync(file, "utf8")), {
    filename: file,
    cachedData: !produce && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (script.cachedDataRejected) process.stderr.write("code cache rejected\n");
const bundle = { exports: {} as { handler: Handler } };
script.runInThisContext()(bundle.exports, Module.createRequire(file), bundle, file, __dirname);

export const handler: Handler = async (event, context) => {
    const response = await bundle.exports.handler(event, context);
    if (produce) writeFileSync(cacheFile, script.createCachedData());
    return response;
};
