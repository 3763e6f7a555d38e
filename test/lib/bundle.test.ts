import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NOTES_ROUTES } from "../../components/api";
import { buildHandlers, bundleHandler } from "../../lib/bundle";
import { named, stackRun } from "../support/program";

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

            it("carries no absolute path of the build machine", () => {
                const bundle = bundleHandler(handler);
                assert.ok(!bundle.code.includes(REPO_ROOT) && !bundle.map.includes(REPO_ROOT));
                const sources: string[] = JSON.parse(bundle.map).sources;
                assert.ok(sources.includes(`../../handlers/${handler}.ts`), `map sources: ${sources.slice(0, 3).join(", ")}…`);
                assert.ok(sources.every((source) => !path.isAbsolute(source)));
            });

            it("links its source map, so --enable-source-maps maps stack traces to the TypeScript source", () => {
                const bundle = bundleHandler(handler);
                assert.ok(bundle.code.trimEnd().endsWith("//# sourceMappingURL=index.js.map"));
                const fnDir = path.join(dir, `${handler}-maps`);
                execFileSync("mkdir", ["-p", fnDir]);
                writeFileSync(path.join(fnDir, "index.js"), bundle.code);
                writeFileSync(path.join(fnDir, "index.js.map"), bundle.map);
                const found = execFileSync(
                    process.execPath,
                    [
                        "--enable-source-maps",
                        "-e",
                        "require('./index.js'); const map = require('module').findSourceMap(require.resolve('./index.js'));" +
                            "process.stdout.write(JSON.stringify(map ? map.payload.sources.filter((s) => s.includes('handlers/')) : null))",
                    ],
                    { cwd: fnDir, env: { PATH: process.env.PATH, TABLE_NAME: "notes", BUCKET_NAME: "uploads", AWS_REGION: "us-east-1" } },
                ).toString();
                // Node resolves the map's relative sources against the bundle's folder.
                const sources: string[] | null = JSON.parse(found);
                assert.ok(sources?.some((source) => source.endsWith(`/handlers/${handler}.ts`)), `Node found no map for the bundle: ${found}`);
            });

            it("loads in a fresh Node process with nothing but the bundle and exports handler()", () => {
                const bundle = bundleHandler(handler);
                const fnDir = path.join(dir, handler);
                execFileSync("mkdir", ["-p", fnDir]);
                writeFileSync(path.join(fnDir, "index.js"), bundle.code);
                writeFileSync(path.join(fnDir, "index.js.map"), bundle.map);
                const type = execFileSync(
                    process.execPath,
                    ["--enable-source-maps", "-e", "process.stdout.write(typeof require('./index.js').handler)"],
                    { cwd: fnDir, env: { PATH: process.env.PATH, NODE_PATH: "", TABLE_NAME: "notes", BUCKET_NAME: "uploads", AWS_REGION: "us-east-1" } },
                ).toString();
                assert.equal(type, "function");
            });

            it("is what the program deploys", async () => {
                const run = await stackRun("dev");
                const code = named(run, `notes-api-${handler}`).inputs.code;
                assert.equal(code.assets["index.js"].text, bundleHandler(handler).code);
                assert.equal(code.assets["index.js.map"].text, bundleHandler(handler).map);
            });
        });
    }
});
