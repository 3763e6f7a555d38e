import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";

interface MochaJson {
    stats: { tests: number; passes: number; failures: number; pending: number };
    tests: { title: string; fullTitle: string; err: { message?: string } }[];
    passes: { title: string }[];
    failures: { title: string; fullTitle: string; err: { message?: string } }[];
}

/** Runs test/fixtures/cors-steps/steps.ts in a mocha of its own and returns its JSON report. */
function runSteps(): Promise<MochaJson> {
    return new Promise((resolve, reject) => {
        execFile(
            process.execPath,
            [require.resolve("mocha/bin/mocha.js"), "--reporter", "json", path.join("test", "fixtures", "cors-steps", "steps.ts")],
            { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
            (error, stdout, stderr) => {
                try {
                    resolve(JSON.parse(stdout));
                } catch {
                    reject(new Error(`mocha wrote no JSON report (${error?.message ?? "exit 0"}):\n${stderr}`));
                }
            },
        );
    });
}

describe("failing browser steps on CORS failures", () => {
    let report: MochaJson;
    before(async () => {
        report = await runSteps();
    });

    it("counts each step once: a step with a CORS failure fails, and is not also a pass", () => {
        assert.deepEqual(report.stats, { ...report.stats, tests: 5, passes: 2, failures: 3, pending: 0 });
        assert.deepEqual(
            report.passes.map((test) => test.title),
            ["passes with no CORS failure", "passes after the earlier refusal was reported"],
        );
        assert.deepEqual(
            report.failures.map((test) => test.title),
            ["has a request refused for CORS", "fails on its own and has a request refused for CORS", "fails on its own"],
        );
    });

    it("reports every step exactly once, so passes and failures add up to the steps", () => {
        const reported = [...report.passes, ...report.failures].map((test) => test.title).sort();
        assert.deepEqual(reported, report.tests.map((test) => test.title).sort());
        assert.equal(report.stats.passes + report.stats.failures, report.stats.tests);
    });

    it("names the refused request in the step that made it, with the step's own failure when it had one", () => {
        const message = (title: string) => report.failures.find((test) => test.title === title)?.err.message ?? "";
        assert.equal(message("has a request refused for CORS"), "CORS failures:\nhttps://api.example.com/notes: PreflightMissingAllowOriginHeader");
        assert.equal(
            message("fails on its own and has a request refused for CORS"),
            "CORS failures:\nhttps://bucket.example.com/a.txt: PreflightMissingAllowOriginHeader\nThe step also failed: its own assertion",
        );
        assert.equal(message("fails on its own"), "another assertion");
    });
});
