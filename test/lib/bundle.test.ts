import { strict as assert } from "node:assert";
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import * as esbuild from "esbuild";
import { deployedFunctions, entryModule } from "../../tools/bench/deployed";
import { cachedLambdaNode, machineNode, NodeBinary } from "../../tools/bench/lambda-node";
import { NOTES_ROUTES } from "../../components/api";
import { BUNDLE_FILE, buildHandlers, bundleHandler, LAMBDA_HANDLER, SOURCE_MAP_FILE } from "../../lib/bundle";
import * as standIn from "../../handlers/runtime/no-event-streams";
import { LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { httpEvent, newIdentityId } from "../../tools/local/apigateway/event";
import { named, stackRun } from "../support/program";
import { HARMLESS_WARNINGS_OFF } from "../support/warnings";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

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
                assert.equal(first.code, second.code);
                assert.equal(first.map, second.map);
            });

            it("is the same built alone or together with the other handlers", () => {
                const together = buildHandlers(NOTES_ROUTES.map((route) => route.handler)).get(handler)!;
                assert.equal(together.code, bundleHandler(handler).code);
                assert.equal(together.map, bundleHandler(handler).map);
            });

            it("carries no absolute path of the build machine, and names its sources from the repository root", () => {
                const bundle = bundleHandler(handler);
                assert.ok(!bundle.code.includes(REPO_ROOT) && !bundle.map.includes(REPO_ROOT));
                const sources: string[] = JSON.parse(bundle.map).sources;
                assert.ok(sources.includes(`handlers/${handler}.ts`), `map sources: ${sources.slice(0, 3).join(", ")}…`);
                assert.ok(sources.every((source) => !path.isAbsolute(source) && !source.startsWith("..")));
            });

            it("leaves out the SDK's default credential chain, which Lambda never uses", () => {
                const sources: string[] = JSON.parse(bundleHandler(handler).map).sources;
                const chain = sources.filter((source) => /credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|credential-provider-imds|token-providers/.test(source));
                assert.deepEqual(chain, []);
                assert.ok(sources.some((source) => source.includes("@aws-sdk/credential-provider-env/")), "the environment provider is bundled");
            });

            it("leaves out the SDK's event-stream codec unless the handler's own clients use it at init", () => {
                const sources: string[] = JSON.parse(bundleHandler(handler).map).sources;
                const codec = sources.filter((source) => source.includes("/submodules/event-streams/"));
                if (handler === "delete") {
                    // The S3 client configures the codec when it is built.
                    assert.ok(codec.length > 0 && !sources.includes("handlers/runtime/no-event-streams.ts"));
                } else {
                    assert.deepEqual(codec, []);
                    assert.ok(sources.includes("handlers/runtime/no-event-streams.ts"));
                }
            });

            it("compiles import() to require(), so Node 22 builds no module facade for node:http", () => {
                assert.doesNotMatch(bundleHandler(handler).code, /\bimport\(/);
            });

            it("links its source map for tools that look for it", () => {
                assert.ok(bundleHandler(handler).code.trimEnd().endsWith(`//# sourceMappingURL=${SOURCE_MAP_FILE}`));
            });

            it("loads in a fresh Node process with nothing but the bundle and exports handler()", () => {
                const bundle = bundleHandler(handler);
                const fnDir = path.join(dir, handler);
                mkdirSync(fnDir, { recursive: true });
                writeFileSync(path.join(fnDir, BUNDLE_FILE), bundle.code);
                writeFileSync(path.join(fnDir, SOURCE_MAP_FILE), bundle.map);
                const type = execFileSync(process.execPath, ["-e", `process.stdout.write(typeof require('./${BUNDLE_FILE}').handler)`], {
                    cwd: fnDir,
                    env: { ...HARMLESS_WARNINGS_OFF, PATH: process.env.PATH, NODE_PATH: "", TABLE_NAME: "notes", BUCKET_NAME: "uploads", AWS_REGION: "us-east-1" },
                }).toString();
                assert.equal(type, "function");
            });

            it("is what the program deploys: the package, its handler setting, no NODE_OPTIONS", async () => {
                const run = await stackRun("dev");
                const fn = named(run, `notes-api-${handler}`);
                assert.deepEqual(Object.keys(fn.inputs.code.assets).sort(), [BUNDLE_FILE, SOURCE_MAP_FILE].sort());
                assert.equal(fn.inputs.code.assets[BUNDLE_FILE].text, bundleHandler(handler).code);
                assert.equal(fn.inputs.code.assets[SOURCE_MAP_FILE].text, bundleHandler(handler).map);
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
 * machine's Node and, when a benchmark run has cached it, on Lambda's.
 */
describe("source maps of the deployed bundles", function () {
    this.timeout(60_000);
    const nodes: NodeBinary[] = [machineNode(), cachedLambdaNode()].filter((node): node is NodeBinary => node !== undefined && node !== null);
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
        // The child runs as plain JavaScript: ts-node would install a stack-trace hook of its own.
        child = path.join(dir, "invoke-bundle.js");
        const source = readFileSync(path.join(__dirname, "..", "support", "invoke-bundle.ts"), "utf8");
        writeFileSync(child, esbuild.transformSync(source, { loader: "ts", format: "cjs", target: "node20" }).code);
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

    function invoke(node: NodeBinary, events: unknown[], env: Record<string, string>): Promise<Traced> {
        const resultPath = path.join(dir, `result-${Math.random().toString(36).slice(2)}.json`);
        return new Promise((resolve, reject) => {
            const process_ = execFile(
                node.execPath,
                [child],
                {
                    env: {
                        ...HARMLESS_WARNINGS_OFF,
                        PATH: process.env.PATH ?? "",
                        AWS_REGION: "us-east-1",
                        AWS_ACCESS_KEY_ID: "local",
                        AWS_SECRET_ACCESS_KEY: "local",
                        AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
                        ...environment,
                        ...env,
                    },
                },
                (error, stdout, stderr) => {
                    if (error) return reject(new Error(stderr || error.message));
                    const logs = stdout
                        .split("\n")
                        .filter((line) => line.startsWith("{"))
                        .map((line) => JSON.parse(line));
                    resolve({ ...JSON.parse(readFileSync(resultPath, "utf8")), logs });
                },
            );
            process_.stdin!.end(JSON.stringify({ bundlePath, events, resultPath, traceSourceMaps: true }));
        });
    }

    const sourceLine = (file: string, line: number) => readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n")[line - 1] ?? "";

    for (const node of nodes) {
        describe(`on Node ${node.version}`, () => {
            it("reads no source map at cold start or on a successful request", async () => {
                const result = await invoke(node, [getNote()], {});
                assert.deepEqual(
                    result.responses.map((r) => r.statusCode),
                    [200],
                );
                assert.deepEqual(result.mapReads, { load: [], events: [[]] });
                assert.equal(result.nodeLoadedMap, false, "Node loaded the bundle's map on its own");
            });

            it("would notice Node reading the map at load (as it does with --enable-source-maps)", async () => {
                const result = await invoke(node, [getNote()], { NODE_OPTIONS: "--enable-source-maps" });
                assert.deepEqual(
                    result.responses.map((r) => r.statusCode),
                    [200],
                );
                assert.equal(result.nodeLoadedMap, true);
            });

            it("logs an unexpected error's stack with handlers/*.ts lines, reading the map only then", async () => {
                // A table that does not exist: DynamoDB answers ResourceNotFoundException, an unexpected error.
                const result = await invoke(node, [getNote()], { TABLE_NAME: "no-such-table" });
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
    }
});
