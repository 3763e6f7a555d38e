import { strict as assert } from "node:assert";
import { execFile, execFileSync } from "node:child_process";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import * as esbuild from "esbuild";
import { deployedFunctions, entryModule } from "../../tools/bench/deployed";
import { LAMBDA_NODE_VERSION, lambdaNode, machineNode, NodeBinary } from "../../tools/bench/lambda-node";
import { NOTES_ROUTES } from "../../components/api";
import { BUNDLE_FILE, buildHandlers, bundleHandler, LAMBDA_HANDLER, SOURCE_MAP_FILE } from "../../lib/bundle";
import * as standIn from "../../handlers/runtime/no-event-streams";
import { LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { httpEvent, newIdentityId } from "../../tools/local/apigateway/event";
import { named, stackRun } from "../support/program";
import { HARMLESS_WARNINGS_OFF } from "../support/warnings";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The sources each source map of a package names, by the file it maps (`index.js`, `s3.js`). */
function sourcesByFile(files: Record<string, string>): Record<string, string[]> {
    return Object.fromEntries(
        Object.entries(files)
            .filter(([file]) => file.endsWith(".map"))
            .map(([file, map]) => [file.slice(0, -".map".length), (JSON.parse(map) as { sources: string[] }).sources]),
    );
}

/** The child that loads a deployed bundle and invokes it (test/support/invoke-bundle.ts), as plain JavaScript: ts-node would install a stack-trace hook of its own. */
function writeInvokeChild(dir: string): string {
    const child = path.join(dir, "invoke-bundle.js");
    const source = readFileSync(path.join(__dirname, "..", "support", "invoke-bundle.ts"), "utf8");
    writeFileSync(child, esbuild.transformSync(source, { loader: "ts", format: "cjs", target: "node20" }).code);
    return child;
}

/** Runs a deployed bundle in a fresh process on `node`: its result file, its JSON log lines and its stderr. */
function invokeBundle(node: NodeBinary, args: string[], input: Record<string, unknown> & { resultPath: string }, env: Record<string, string>): Promise<{ result: any; logs: Record<string, any>[]; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = execFile(node.execPath, args, { env: { ...HARMLESS_WARNINGS_OFF, PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) => {
            if (error) return reject(new Error(stderr || error.message));
            const logs = stdout
                .split("\n")
                .filter((line) => line.startsWith("{"))
                .map((line) => JSON.parse(line));
            resolve({ result: JSON.parse(readFileSync(input.resultPath, "utf8")), logs, stderr });
        });
        child.stdin!.end(JSON.stringify(input));
    });
}

/** A Node.js the deployed bundles are run on, named before the test run so every run lists the same tests. */
interface Runtime {
    version: string;
    /** The binary; may fetch it (Lambda's Node.js comes from the npm registry on first use). */
    binary(): NodeBinary;
}

let fetchedLambdaNode: NodeBinary | undefined;

/**
 * Lambda's Node.js (`nodejs22.x`, pinned in tools/bench/lambda-node.ts): from the cache, or fetched
 * from the npm registry as the benchmark fetches it. When it cannot be had, the tests that need it
 * fail and say why: the functions deploy on it, so a run without it would prove less than it says.
 */
function lambdaNodeOrFail(): NodeBinary {
    if (fetchedLambdaNode) return fetchedLambdaNode;
    const node = lambdaNode();
    if ("unavailable" in node) {
        throw new Error(`These tests run the deployed bundles on Lambda's Node.js v${LAMBDA_NODE_VERSION}, but ${node.unavailable}. Let this machine reach the npm registry (npm pack) and run them again.`);
    }
    process.stdout.write(`\n      the deployed bundles also run on Lambda's Node.js ${node.version}: ${path.relative(REPO_ROOT, node.execPath)}\n`);
    return (fetchedLambdaNode = node);
}

/** This machine's Node.js, and Lambda's (`nodejs22.x`) unless they are the same version. */
const RUNTIMES: Runtime[] = [
    { version: process.version, binary: machineNode },
    ...(process.version === `v${LAMBDA_NODE_VERSION}` ? [] : [{ version: `v${LAMBDA_NODE_VERSION}`, binary: lambdaNodeOrFail }]),
];

/** Registers the tests of one runtime: `node()` is its binary, resolved (fetched) in a `before` hook. */
function onEachRuntime(tests: (node: () => NodeBinary) => void): void {
    for (const runtime of RUNTIMES) {
        describe(`on Node ${runtime.version}`, function () {
            let binary: NodeBinary;
            before(function () {
                // A first fetch of Lambda's Node.js downloads about 30 MB from the npm registry.
                this.timeout(360_000);
                binary = runtime.binary();
            });
            tests(() => binary);
        });
    }
}

describe("handler bundles", () => {
    let dir: string;
    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), "notes-bundles-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const { handler } of NOTES_ROUTES) {
        describe(handler, () => {
            it("builds byte-identically twice, so previews show no spurious code diff", () => {
                const first = buildHandlers([handler]).get(handler)!;
                const second = buildHandlers([handler]).get(handler)!;
                assert.deepEqual(first.files, second.files);
            });

            it("is the same built alone or together with the other handlers", () => {
                const together = buildHandlers(NOTES_ROUTES.map((route) => route.handler)).get(handler)!;
                assert.deepEqual(together.files, bundleHandler(handler).files);
            });

            it("packages the bundle with its map, and the delete function's S3 SDK as a file of its own", () => {
                const bundle = bundleHandler(handler);
                assert.equal(bundle.files[BUNDLE_FILE], bundle.code);
                assert.equal(bundle.files[SOURCE_MAP_FILE], bundle.map);
                const s3 = ["s3.js", "s3.js.map"];
                assert.deepEqual(Object.keys(bundle.files).sort(), [BUNDLE_FILE, SOURCE_MAP_FILE, ...(handler === "delete" ? s3 : [])].sort());
                const { [BUNDLE_FILE]: atInit, ...loadedLater } = sourcesByFile(bundle.files);
                // What loads at init carries no S3 code: the delete bundle leaves its require of s3.js to Node.
                assert.deepEqual(
                    atInit.filter((source) => source.includes("@aws-sdk/client-s3/") || source === "handlers/s3.ts"),
                    [],
                );
                if (handler === "delete") {
                    assert.match(bundle.code, /\brequire\("\.\/s3\.js"\)/);
                    assert.ok(loadedLater["s3.js"].includes("handlers/s3.ts") && loadedLater["s3.js"].some((source) => source.includes("@aws-sdk/client-s3/")));
                }
            });

            it("carries no absolute path of the build machine, and names its sources from the repository root", () => {
                const bundle = bundleHandler(handler);
                for (const text of Object.values(bundle.files)) assert.ok(!text.includes(REPO_ROOT));
                const sources: string[] = JSON.parse(bundle.map).sources;
                assert.ok(sources.includes(`handlers/${handler}.ts`), `map sources: ${sources.slice(0, 3).join(", ")}…`);
                for (const fileSources of Object.values(sourcesByFile(bundle.files))) {
                    assert.ok(fileSources.every((source) => !path.isAbsolute(source) && !source.startsWith("..")));
                }
            });

            it("leaves out the SDK's default credential chain, which Lambda never uses", () => {
                for (const [file, sources] of Object.entries(sourcesByFile(bundleHandler(handler).files))) {
                    const chain = sources.filter((source) => /credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|credential-provider-imds|token-providers/.test(source));
                    assert.deepEqual(chain, [], file);
                    assert.ok(sources.some((source) => source.includes("@aws-sdk/credential-provider-env/")), `the environment provider is bundled in ${file}`);
                }
            });

            it("leaves out the SDK's event-stream codec unless the handler's own clients use it at init", () => {
                // The bundle, which loads at init; the delete function's s3.js loads on its first attachment delete.
                const { [BUNDLE_FILE]: atInit, ...loadedLater } = sourcesByFile(bundleHandler(handler).files);
                const codec = (sources: string[]) => sources.filter((source) => source.includes("/submodules/event-streams/"));
                assert.deepEqual(codec(atInit), []);
                assert.ok(atInit.includes("handlers/runtime/no-event-streams.ts"));
                for (const sources of Object.values(loadedLater)) {
                    // The S3 client configures the codec when it is built: on the first attachment delete.
                    assert.ok(codec(sources).length > 0 && !sources.includes("handlers/runtime/no-event-streams.ts"));
                }
            });

            it("compiles import() to require(), so Node 22 builds no module facade for node:http", () => {
                for (const [file, text] of Object.entries(bundleHandler(handler).files)) {
                    if (file.endsWith(".js")) assert.doesNotMatch(text, /\bimport\(/, file);
                }
            });

            it("links each file's source map for tools that look for it", () => {
                for (const [file, text] of Object.entries(bundleHandler(handler).files)) {
                    if (file.endsWith(".js")) assert.ok(text.trimEnd().endsWith(`//# sourceMappingURL=${file}.map`), file);
                }
            });

            it("loads in a fresh Node process with nothing but its package and exports handler()", () => {
                const fnDir = path.join(dir, handler);
                mkdirSync(fnDir, { recursive: true });
                for (const [file, text] of Object.entries(bundleHandler(handler).files)) writeFileSync(path.join(fnDir, file), text);
                const type = execFileSync(process.execPath, ["-e", `process.stdout.write(typeof require('./${BUNDLE_FILE}').handler)`], {
                    cwd: fnDir,
                    env: { ...HARMLESS_WARNINGS_OFF, PATH: process.env.PATH, NODE_PATH: "", TABLE_NAME: "notes", BUCKET_NAME: "uploads", AWS_REGION: "us-east-1" },
                }).toString();
                assert.equal(type, "function");
            });

            it("is what the program deploys: the package, its handler setting, no NODE_OPTIONS", async () => {
                const run = await stackRun("dev");
                const fn = named(run, `notes-api-${handler}`);
                const deployed = Object.fromEntries(Object.entries<{ text: string }>(fn.inputs.code.assets).map(([file, asset]) => [file, asset.text]));
                assert.deepEqual(deployed, bundleHandler(handler).files);
                assert.equal(fn.inputs.handler, LAMBDA_HANDLER);
                assert.equal(fn.inputs.environment.variables.NODE_OPTIONS, undefined);
            });
        });
    }
});

describe("the event-stream codec's stand-in", () => {
    it("exports exactly what the SDK's codec exports, so no bundle links against a name it lacks", () => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const real = Object.keys(require("@smithy/core/event-streams")).sort();
        assert.deepEqual(Object.keys(standIn).sort(), real);
    });

    it("fails with a message that says the codec was left out, if anything ever calls it", () => {
        for (const value of Object.values(standIn)) {
            assert.throws(() => (value as () => unknown)(), /event-stream codec is not in this handler bundle/);
        }
    });
});

/**
 * The deployed get package, exactly as the program ships it, run the way Lambda runs it: unpacked
 * into a folder, the module named by the `handler` setting loaded with `require` in a fresh
 * process, with the function's environment (table and endpoint pointed at dynalite). On this
 * machine's Node and on Lambda's.
 */
describe("source maps of the deployed bundles", function () {
    this.timeout(60_000);
    let dir: string;
    let db: LocalDynamo;
    let child: string;
    let bundlePath: string;
    let environment: Record<string, string>;
    const identityId = newIdentityId();
    const noteId = "01JD0000000000000000000001";
    const getNote = () => httpEvent({ identityId, method: "GET", path: `/notes/${noteId}` });

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "notes-source-maps-"));
        db = await startDynalite();
        const now = new Date().toISOString();
        await db.client.send(new PutCommand({ TableName: db.tableName, Item: { userId: identityId, noteId, content: "mapped", createdAt: now, updatedAt: now, version: 1 } }));
        const fn = deployedFunctions(await stackRun("dev")).get;
        const taskRoot = path.join(dir, "task");
        mkdirSync(taskRoot);
        for (const [file, text] of Object.entries(fn.files)) writeFileSync(path.join(taskRoot, file), text);
        const { file, exportName } = entryModule(fn);
        assert.equal(exportName, "handler");
        bundlePath = path.join(taskRoot, file);
        environment = { ...fn.environment, TABLE_NAME: db.tableName };
        child = writeInvokeChild(dir);
    });
    after(async () => {
        await db?.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    interface Traced {
        responses: { statusCode: number }[];
        mapReads: { load: string[]; events: string[][] };
        nodeLoadedMap: boolean;
        logs: Record<string, any>[];
    }

    async function invoke(node: NodeBinary, events: unknown[], env: Record<string, string>): Promise<Traced> {
        const resultPath = path.join(dir, `result-${Math.random().toString(36).slice(2)}.json`);
        const { result, logs } = await invokeBundle(
            node,
            [child],
            { bundlePath, events, resultPath, traceSourceMaps: true },
            { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, ...environment, ...env },
        );
        return { ...result, logs };
    }

    const sourceLine = (file: string, line: number) => readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n")[line - 1] ?? "";

    onEachRuntime((node) => {
        it("reads no source map at cold start or on a successful request", async () => {
            const result = await invoke(node(), [getNote()], {});
            assert.deepEqual(
                result.responses.map((r) => r.statusCode),
                [200],
            );
            assert.deepEqual(result.mapReads, { load: [], events: [[]] });
            assert.equal(result.nodeLoadedMap, false, "Node loaded the bundle's map on its own");
        });

        it("would notice Node reading the map at load (as it does with --enable-source-maps)", async () => {
            const result = await invoke(node(), [getNote()], { NODE_OPTIONS: "--enable-source-maps" });
            assert.deepEqual(
                result.responses.map((r) => r.statusCode),
                [200],
            );
            assert.equal(result.nodeLoadedMap, true);
        });

        it("logs an unexpected error's stack with handlers/*.ts lines, reading the map only then", async () => {
            // A table that does not exist: DynamoDB answers ResourceNotFoundException, an unexpected error.
            const result = await invoke(node(), [getNote()], { TABLE_NAME: "no-such-table" });
            assert.deepEqual(
                result.responses.map((r) => r.statusCode),
                [500],
            );
            assert.deepEqual(result.mapReads.load, []);
            assert.deepEqual(result.mapReads.events, [[`${bundlePath}.map`]]);

            const line = result.logs.find((entry) => entry.message === "Unhandled error");
            assert.ok(line, `no "Unhandled error" line in ${JSON.stringify(result.logs)}`);
            const stack: string = line.error.stack;
            assert.match(stack, /^ResourceNotFoundException: /);
            const frames = [...stack.matchAll(/^ {4}at (async )?(\S+) \((handlers\/[\w-]+\.ts):(\d+):(\d+)\)$/gm)].map(([, isAsync, name, file, row, column]) => ({
                isAsync: Boolean(isAsync),
                name,
                file,
                row: Number(row),
                column: Number(column),
            }));
            assert.ok(frames.length >= 2, `stack has no handlers/*.ts frames:\n${stack}`);
            // Each frame of our code points at the `await` it was suspended on, in the right file and line.
            for (const frame of frames) {
                assert.ok(frame.isAsync, `${frame.name} ${frame.file}:${frame.row}`);
                assert.match(sourceLine(frame.file, frame.row).slice(frame.column - 1), /^await /, `${frame.file}:${frame.row}:${frame.column} is not an await:\n${stack}`);
            }
            const dynamoFrame = frames.find((frame) => frame.file === "handlers/dynamo.ts");
            assert.ok(dynamoFrame, stack);
            assert.equal(dynamoFrame.name, "dynamo", "original function names, not minified ones");
            assert.match(sourceLine("handlers/dynamo.ts", dynamoFrame.row), /return await call\(\);/);
            assert.ok(
                frames.some((frame) => frame.file === "handlers/notes.ts" && /\bdynamo\(/.test(sourceLine(frame.file, frame.row))),
                `no notes.ts frame at a dynamo() call:\n${stack}`,
            );
            assert.doesNotMatch(stack, /index\.js:\d+:\d+/, "every bundle frame is mapped");
        });
    });
});

/**
 * The deployed delete package, run as Lambda runs it, against dynalite and an S3 endpoint that
 * answers DeleteObject (204, or 503 when told to fail). A preload script records the files of the
 * package that Node compiles (its CommonJS loader's `Module.prototype._compile`), and the child
 * records the source maps it reads.
 */
describe("the delete function's S3 SDK, loaded on the first attachment delete", function () {
    this.timeout(60_000);
    const bucket = "uploads-lazy";
    const identityId = newIdentityId();
    let dir: string;
    let db: LocalDynamo;
    let s3: Server;
    let s3Requests: string[];
    let s3Fails: boolean;
    let args: string[];
    let taskRoot: string;
    let bundlePath: string;
    let environment: Record<string, string>;
    let counter = 0;

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "notes-lazy-s3-"));
        db = await startDynalite();
        s3 = createServer((request, response) => {
            request.resume();
            s3Requests.push(`${request.method} ${new URL(request.url!, "http://s3").pathname}`);
            if (s3Fails) response.writeHead(503, { "content-type": "application/xml" }).end("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
            else response.writeHead(204).end();
        });
        await new Promise<void>((resolve) => s3.listen(0, "127.0.0.1", resolve));
        const fn = deployedFunctions(await stackRun("dev")).delete;
        taskRoot = path.join(dir, "task");
        mkdirSync(taskRoot);
        for (const [file, text] of Object.entries(fn.files)) writeFileSync(path.join(taskRoot, file), text);
        bundlePath = path.join(taskRoot, entryModule(fn).file);
        environment = {
            ...fn.environment,
            TABLE_NAME: db.tableName,
            BUCKET_NAME: bucket,
            AWS_REGION: "us-east-1",
            AWS_ACCESS_KEY_ID: "local",
            AWS_SECRET_ACCESS_KEY: "local",
            AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
            AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(s3.address() as AddressInfo).port}`,
        };
        const preload = path.join(dir, "record-compiles.js");
        writeFileSync(
            preload,
            `const Module = require("node:module"); const compile = Module.prototype._compile; const compiled = [];
             Module.prototype._compile = function (content, filename, ...rest) { compiled.push(filename); return compile.call(this, content, filename, ...rest); };
             process.on("exit", () => process.stderr.write("COMPILED " + JSON.stringify(compiled) + "\\n"));`,
        );
        args = ["-r", preload, writeInvokeChild(dir)];
    });
    beforeEach(() => {
        s3Requests = [];
        s3Fails = false;
    });
    after(async () => {
        await db?.stop();
        await new Promise((resolve) => s3?.close(resolve));
        rmSync(dir, { recursive: true, force: true });
    });

    /** A note of the caller's, with an attachment if `attachment` is given. */
    async function seed(attachment?: string): Promise<string> {
        const noteId = `01JD${String(++counter).padStart(22, "0")}`;
        const now = new Date().toISOString();
        await db.client.send(new PutCommand({ TableName: db.tableName, Item: { userId: identityId, noteId, content: "x", createdAt: now, updatedAt: now, version: 1, ...(attachment ? { attachment } : {}) } }));
        return noteId;
    }

    /** Deletes the notes in a fresh process: the statuses, the log lines, the package files Node compiled and the maps read, at load and per request. */
    async function deleteInFreshProcess(node: NodeBinary, noteIds: string[]) {
        const resultPath = path.join(dir, `result-${Math.random().toString(36).slice(2)}.json`);
        const events = noteIds.map((noteId) => httpEvent({ identityId, method: "DELETE", path: `/notes/${noteId}` }));
        const { result, logs, stderr } = await invokeBundle(node, args, { bundlePath, events, resultPath, traceSourceMaps: true }, environment);
        const compiled: string[] = JSON.parse(/^COMPILED (.*)$/m.exec(stderr)?.[1] ?? "null");
        const { responses, mapReads } = result as { responses: { statusCode: number }[]; mapReads: { load: string[]; events: string[][] } };
        return {
            statuses: responses.map((r) => r.statusCode),
            logs,
            compiled: compiled.filter((file) => path.dirname(file) === taskRoot).map((file) => path.basename(file)),
            mapReads: { load: mapReads.load.map((file) => path.basename(file)), events: mapReads.events.map((reads) => reads.map((file) => path.basename(file))) },
        };
    }

    onEachRuntime((node) => {
        it("compiles no S3 code at cold start or for notes without an attachment", async () => {
            const { statuses, compiled, mapReads } = await deleteInFreshProcess(node(), [await seed(), await seed()]);
            assert.deepEqual(statuses, [204, 204]);
            assert.deepEqual(compiled, [BUNDLE_FILE]);
            assert.deepEqual(s3Requests, []);
            assert.deepEqual(mapReads, { load: [], events: [[], []] });
        });

        it("compiles the S3 SDK once, on the first attachment delete, and removes each object", async () => {
            const keys = [`private/${identityId}/a.png`, `private/${identityId}/b.png`];
            const { statuses, compiled, mapReads } = await deleteInFreshProcess(node(), [await seed(), await seed(keys[0]), await seed(keys[1])]);
            assert.deepEqual(statuses, [204, 204, 204]);
            assert.deepEqual(compiled, [BUNDLE_FILE, "s3.js"]);
            assert.deepEqual(
                s3Requests,
                keys.map((key) => `DELETE /${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`),
            );
            assert.deepEqual(mapReads, { load: [], events: [[], [], []] }, "a map is read only when a stack is printed");
        });

        it("logs a failing clean-up's stack mapped through s3.js to its sources, reading the maps only then", async () => {
            s3Fails = true;
            const { statuses, logs, mapReads } = await deleteInFreshProcess(node(), [await seed(`private/${identityId}/c.png`)]);
            assert.deepEqual(statuses, [204]);
            assert.deepEqual(mapReads.load, []);
            // The maps of the files the stack passes through, each read once: here the SDK's frames, all in s3.js.
            const reads = mapReads.events[0];
            assert.ok(reads.includes("s3.js.map"), JSON.stringify(reads));
            assert.equal(new Set(reads).size, reads.length, `each map read once: ${JSON.stringify(reads)}`);
            assert.equal(s3Requests.length, 3, "three attempts");
            const orphaned = logs.find((line) => line.message === "Attachment clean-up failed; object orphaned");
            assert.ok(orphaned, JSON.stringify(logs));
            const stack: string = orphaned.error.stack;
            assert.doesNotMatch(stack, /(index|s3)\.js:\d+:\d+/, `every frame of the package is mapped:\n${stack}`);
            // S3-only middleware runs only in s3.js: its frames map to the SDK's own sources and lines.
            const frame = /\((node_modules\/@aws-sdk\/middleware-sdk-s3\/[^):]+):(\d+):\d+\)/.exec(stack);
            assert.ok(frame, `no mapped frame of the S3 SDK:\n${stack}`);
            assert.ok((readFileSync(path.join(REPO_ROOT, frame[1]), "utf8").split("\n")[Number(frame[2]) - 1] ?? "").trim().length > 0, frame[0]);
        });
    });
});
