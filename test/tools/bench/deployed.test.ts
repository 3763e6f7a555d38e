import { strict as assert } from "node:assert";
import { deployedFunctions, entryModule, runtimeMajor } from "../../../tools/bench/deployed";
import { HANDLER_NAMES } from "../../../tools/bench/builds";
import { LAMBDA_NODE_VERSION, majorOf } from "../../../tools/bench/lambda-node";
import { BUNDLE_FILE, bundleHandler } from "../../../lib/bundle";
import { named, stackRun } from "../../support/program";

describe("what the benchmark starts", function () {
    it("is each function exactly as the program deploys it: package, handler setting, environment", async function () {
        const run = await stackRun("dev");
        const functions = deployedFunctions(run);
        for (const handler of HANDLER_NAMES) {
            // The note routes' functions are NotesApi's children, the account function NotesAccount's ("notes").
            const resource = named(run, handler === "account" ? "notes-account" : `notes-api-${handler}`);
            const fn = functions[handler];
            assert.equal(fn.entry, resource.inputs.handler);
            assert.equal(fn.runtime, resource.inputs.runtime);
            assert.deepEqual(fn.environment, resource.inputs.environment.variables);
            assert.deepEqual(
                fn.files,
                Object.fromEntries(Object.entries<{ text: string }>(resource.inputs.code.assets).map(([file, asset]) => [file, asset.text])),
            );
            // The module the Lambda runtime loads for the handler setting is the handler's bundle.
            assert.deepEqual(entryModule(fn), { file: BUNDLE_FILE, exportName: "handler" });
            assert.equal(fn.files[BUNDLE_FILE], bundleHandler(handler).code);
        }
    });

    it("runs on the Node.js major of the runtime the functions deploy on", async function () {
        const functions = deployedFunctions(await stackRun("dev"));
        for (const fn of Object.values(functions)) assert.equal(runtimeMajor(fn.runtime), majorOf(LAMBDA_NODE_VERSION));
    });

    it("resolves a handler setting to a module file as the Lambda runtime does", function () {
        assert.deepEqual(entryModule({ entry: "index.handler", files: { "index.js": "" } }), { file: "index.js", exportName: "handler" });
        assert.deepEqual(entryModule({ entry: "bundle.handler", files: { "bundle.mjs": "" } }), { file: "bundle.mjs", exportName: "handler" });
        assert.deepEqual(entryModule({ entry: "index.handler", files: { "index.js": "", "index.mjs": "" } }).file, "index.js");
        assert.throws(() => entryModule({ entry: "index.handler", files: { "main.js": "" } }), /no module for handler "index.handler"/);
        assert.throws(() => entryModule({ entry: "index", files: { "index.js": "" } }), /malformed/);
    });
});
