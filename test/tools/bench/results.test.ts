import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { LAMBDA_NODE_VERSION, majorOf } from "../../../tools/bench/lambda-node";
import { BenchResults, benchResultsSchema, checkTargets } from "../../../tools/bench/report";
import { median, percentile, shuffled } from "../../../tools/bench/stats";
import { syntheticStack, UNIT } from "../../../tools/bench/synthetic-stack";
import { evaluatePolicies } from "../../../policy/evaluate";

const RESULTS_FILE = path.resolve(__dirname, "../../../bench/results.json");

function committedResults(): BenchResults {
    return benchResultsSchema.parse(JSON.parse(readFileSync(RESULTS_FILE, "utf8")));
}

describe("benchmark results contract", function () {
    it("keeps bench/results.json to exactly the contract's keys, for all six functions, and the erasure's figures", function () {
        const results = committedResults();
        assert.deepEqual(Object.keys(results).sort(), ["coldInit", "erasure", "listScaling", "mockRun", "nodeVersion", "policyScaling", "requestPath", "webClient"]);
        assert.deepEqual(Object.keys(results.coldInit).sort(), ["account", "create", "delete", "get", "list", "update"]);
        assert.deepEqual(Object.keys(results.erasure).sort(), [
            "files",
            "maxCallMs",
            "minimumRequestsPer1000Files",
            "minimumRequestsPer1000Notes",
            "notes",
            "requestsPer1000Files",
            "requestsPer1000Notes",
            "timeoutMs",
            "wallMsPer1000Files",
            "wallMsPer1000Notes",
        ]);
        assert.deepEqual(Object.keys(results.webClient).sort(), ["scriptBytes", "scriptGzipBytes"]);
        for (const figures of Object.values(results.coldInit)) {
            assert.deepEqual(Object.keys(figures).sort(), ["bundleBytes", "bundleGzipBytes", "bundledMs", "nodeFloorMs", "sstMs", "unbundledMs"]);
        }
        assert.deepEqual(Object.keys(results.requestPath).sort(), ["directP50", "directP99", "gatewayP50", "gatewayP99", "rps"]);
        assert.deepEqual(Object.keys(results.listScaling).sort(), ["10", "1000", "10000"]);
        assert.deepEqual(Object.keys(results.policyScaling).sort(), ["100", "1000", "10000"]);
    });

    it("rejects results with a missing key, an extra key or a non-numeric figure", function () {
        const results = committedResults();
        const { mockRun: _dropped, ...missing } = results;
        assert.throws(() => benchResultsSchema.parse(missing));
        assert.throws(() => benchResultsSchema.parse({ ...results, extra: 1 }));
        assert.throws(() => benchResultsSchema.parse({ ...results, coldInit: { ...results.coldInit, get: { ...results.coldInit.get, warmMs: 1 } } }));
        assert.throws(() => benchResultsSchema.parse({ ...results, listScaling: { ...results.listScaling, "10": "fast" } }));
        assert.throws(() => benchResultsSchema.parse({ ...results, nodeVersion: "22" }));
        const { sstMs: _sst, ...withoutSst } = results.coldInit.get;
        assert.throws(() => benchResultsSchema.parse({ ...results, coldInit: { ...results.coldInit, get: withoutSst } }));
    });

    it("measures the committed cold starts on Lambda's Node.js major", function () {
        assert.equal(majorOf(committedResults().nodeVersion), majorOf(LAMBDA_NODE_VERSION));
    });

    it("holds each handler's cold init to SST v3's defaults, the Node floor and the first request before", function () {
        const results = committedResults();
        const coldInit = (bundledMs: number, sstMs: number, nodeFloorMs: number) => ({
            ...results,
            coldInit: { ...results.coldInit, get: { ...results.coldInit.get, bundledMs, sstMs, nodeFloorMs } },
        });
        const verdicts = (r: BenchResults, firstRequests = {}) =>
            checkTargets(r, firstRequests)
                .filter((c) => c.target.startsWith("get:"))
                .map((c) => [c.target.replace("get: ", ""), c.met]);
        assert.deepEqual(verdicts(coldInit(75, 100, 25)).slice(0, 2), [
            ["bundled cold init <= 0.75x SST v3 defaults", true],
            ["bundled cold init <= 3x Node floor", true],
        ]);
        assert.deepEqual(verdicts(coldInit(76, 100, 25)).slice(0, 2).map(([, met]) => met), [false, false]);
        const first = (shippedMs: number) => verdicts(results, { get: { shippedMs, previousMs: 20 } }).find(([target]) => String(target).startsWith("first request"));
        assert.deepEqual(first(20)?.[1], true);
        assert.deepEqual(first(21)?.[1], false);
    });

    it("holds the hosted client's script under 100 KB gzip, in the committed figures and as a target", function () {
        const results = committedResults();
        assert.ok(results.webClient.scriptGzipBytes < 100 * 1024, `${results.webClient.scriptGzipBytes} bytes gzip`);
        const target = (scriptGzipBytes: number) => checkTargets({ ...results, webClient: { scriptBytes: 300_000, scriptGzipBytes } }).find((c) => c.target === "web client script < 100 KB gzip")!;
        assert.equal(target(102_399).met, true);
        assert.equal(target(102_400).met, false);
        assert.throws(() => benchResultsSchema.parse({ ...results, webClient: { scriptBytes: 1 } }));
    });

    it("marks each target met or missed from the figures", function () {
        const results = committedResults();
        const withOverhead = (ms: number) =>
            checkTargets({ ...results, requestPath: { ...results.requestPath, directP50: 5, gatewayP50: 5 + ms } }).find((c) => c.target.startsWith("gateway overhead"))!;
        assert.equal(withOverhead(1.5).met, true);
        assert.equal(withOverhead(2.5).met, false);
        const policy = (p1000: number, p10000: number) =>
            checkTargets({ ...results, policyScaling: { "100": 1, "1000": p1000, "10000": p10000 } }).filter((c) => c.target.startsWith("policyScaling"));
        assert.deepEqual(policy(100, 1100).map((c) => c.met), [true, true]);
        assert.deepEqual(policy(100, 1300).map((c) => c.met), [false, true]);
        assert.deepEqual(policy(200, 2100).map((c) => c.met), [true, false]);
        const erasure = (requestsPer1000Notes: number, requestsPer1000Files: number, maxCallMs: number) =>
            checkTargets({ ...results, erasure: { ...results.erasure, requestsPer1000Notes, requestsPer1000Files, minimumRequestsPer1000Notes: 40.01, minimumRequestsPer1000Files: 2, maxCallMs, timeoutMs: 29000 } })
                .filter((c) => c.target.startsWith("erasure"))
                .map((c) => c.met);
        assert.deepEqual(erasure(44.01, 2.19, 28999), [true, true, true]);
        assert.deepEqual(erasure(44.1, 2.21, 29000), [false, false, false]);
    });

    it("records an erasure of 100,000 notes and 10,000 files within 1.1x of the fewest requests, every call inside the timeout", function () {
        const { erasure } = committedResults();
        assert.deepEqual([erasure.notes, erasure.files], [100_000, 10_000]);
        const met = checkTargets(committedResults()).filter((c) => c.target.startsWith("erasure"));
        assert.deepEqual(met.map((c) => [c.target, c.met]), met.map((c) => [c.target, true]), JSON.stringify(met));
    });
});

describe("benchmark statistics", function () {
    it("takes nearest-rank percentiles and the median of unsorted samples", function () {
        const samples = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
        assert.equal(percentile(samples, 50), 5);
        assert.equal(percentile(samples, 99), 10);
        assert.equal(percentile(samples, 10), 1);
        assert.equal(median(samples), 5.5);
        assert.equal(median([3, 1, 2]), 2);
    });

    it("runs each round's processes in a new order: every kind comes first in some round, none is lost", function () {
        const kinds = ["floor", "create", "get", "list", "update", "delete"];
        const firsts = new Set<string>();
        for (let round = 0; round < 200; round++) {
            const order = shuffled(kinds);
            assert.deepEqual([...order].sort(), [...kinds].sort());
            firsts.add(order[0]);
        }
        assert.deepEqual([...firsts].sort(), [...kinds].sort());
        assert.deepEqual(kinds, ["floor", "create", "get", "list", "update", "delete"], "the plan itself is left as it was");
    });
});

describe("synthetic stacks for the policy benchmark", function () {
    it("has exactly the requested number of resources, an even mix of buckets, access blocks, bucket policies, routes and roles", function () {
        const stack = syntheticStack(1000);
        assert.equal(stack.length, 1000);
        assert.equal(new Set(stack.map((r) => r.urn)).size, 1000, "every URN is unique");
        const counts = new Map<string, number>();
        for (const resource of stack) counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
        assert.equal(counts.size, UNIT.length);
        for (const count of counts.values()) assert.equal(count, 200);
        assert.equal(syntheticStack(103).length, 103);
    });

    it("makes the whole pack report exactly the seeded violations (every 20th unit), naming the resources", async function () {
        const violations = await evaluatePolicies(syntheticStack(200));
        const found = violations.map((v) => `${v.policyName} ${v.resourceName}`).sort();
        assert.deepEqual(found, [
            "apigatewayv2-route-iam-auth route-0",
            "apigatewayv2-route-iam-auth route-20",
            "s3-bucket-has-public-access-block bucket-0",
            "s3-bucket-has-public-access-block bucket-20",
            "s3-public-access-block-all-flags bucket-0-public-access",
            "s3-public-access-block-all-flags bucket-20-public-access",
        ]);
    });
});
