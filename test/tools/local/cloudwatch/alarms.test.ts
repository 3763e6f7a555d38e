import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { alarmDefinition, LocalCloudWatch } from "../../../../tools/local/cloudwatch/alarms";
import { compilePattern, PatternError } from "../../../../tools/local/cloudwatch/filter";
import { evaluate, MathError, parseExpression } from "../../../../tools/local/cloudwatch/math";
import { statistic } from "../../../../tools/local/cloudwatch/metrics";
import { ofType, stackRun } from "../../../support/program";

describe("local CloudWatch", () => {
    describe("statistics", () => {
        it("computes Sum, Average, Minimum, Maximum, SampleCount and percentiles by nearest rank", () => {
            const values = Array.from({ length: 100 }, (_, i) => i + 1);
            assert.equal(statistic("Sum", values), 5050);
            assert.equal(statistic("Average", values), 50.5);
            assert.equal(statistic("Minimum", values), 1);
            assert.equal(statistic("Maximum", values), 100);
            assert.equal(statistic("SampleCount", values), 100);
            assert.equal(statistic("p99", values), 99);
            assert.equal(statistic("p50", values), 50);
            assert.equal(statistic("p99", [7]), 7);
        });

        it("has no datapoint for a period without values, and refuses a statistic it cannot compute", () => {
            assert.equal(statistic("Sum", []), undefined);
            assert.throws(() => statistic("TM(10%:90%)", [1]), /is not evaluated locally/);
        });
    });

    describe("metric math", () => {
        const at = (text: string, values: Record<string, number | undefined>) => evaluate(parseExpression(text), values, Object.keys(values));

        it("sums the defined series of an array or of METRICS(), missing when none is defined", () => {
            assert.equal(at("SUM([m0,m1,m2])", { m0: 2, m1: undefined, m2: 3 }), 5);
            assert.equal(at("SUM(METRICS())", { m0: 1, m1: 4 }), 5);
            assert.equal(at("SUM([m0,m1])", { m0: undefined, m1: undefined }), undefined);
        });

        it("does arithmetic with precedence, FILL and missing propagation", () => {
            assert.equal(at("100 * e / n", { e: 3, n: 12 }), 25);
            assert.equal(at("a + b * 2", { a: 1, b: 3 }), 7);
            assert.equal(at("a + b", { a: 1, b: undefined }), undefined);
            assert.equal(at("FILL(a, 0) + 1", { a: undefined }), 1);
        });

        it("refuses what it does not evaluate, naming it", () => {
            assert.throws(() => parseExpression("ANOMALY_DETECTION_BAND(m1)"), MathError);
            assert.throws(() => parseExpression("m1 +"), /ends too early/);
            assert.throws(() => at("m9", { m0: 1 }), /no query has the id m9/);
        });
    });

    describe("metric filter patterns", () => {
        const handlerErrors = compilePattern('{ $.level = "ERROR" && $.statusCode >= 500 }');

        it("matches the handlers' error line that answered 500, not their 503 warning or Lambda's own error line", () => {
            assert.equal(handlerErrors(JSON.stringify({ level: "ERROR", message: "Unhandled error", statusCode: 500, route: "GET /notes" })), true);
            assert.equal(handlerErrors(JSON.stringify({ level: "WARN", message: "Dependency unavailable", statusCode: 503 })), false);
            assert.equal(handlerErrors(JSON.stringify({ level: "INFO", message: "Request handled", statusCode: 500 })), false);
            assert.equal(handlerErrors(JSON.stringify({ level: "ERROR", errorType: "Error", errorMessage: "boom" })), false);
            assert.equal(handlerErrors("2026-12-08T00:00:00Z ERROR not json"), false);
        });

        it("reads ||, wildcards, != and term patterns", () => {
            const either = compilePattern('{ $.a = "x*" || $.b != 3 }');
            assert.equal(either('{"a":"xyz"}'), true);
            assert.equal(either('{"a":"y","b":3}'), false);
            assert.equal(either('{"a":"y","b":4}'), true);
            assert.equal(compilePattern('ERROR "task timed out"')("ERROR: task timed out after 3 s"), true);
            assert.equal(compilePattern("ERROR timeout")("ERROR: done"), false);
            assert.throws(() => compilePattern('{ ($.a = 1) }'), PatternError);
        });
    });

    describe("alarm evaluation", () => {
        let dataDir: string;
        let now: number;
        let printed: string[];
        const PERIOD_MS = 1000; // 60 s at --alarm-time-scale 60
        const inputs = (overrides: Record<string, unknown> = {}) => ({
            namespace: "AWS/ApiGateway",
            metricName: "5xx",
            dimensions: { ApiId: "abc", Stage: "$default" },
            statistic: "Sum",
            period: 60,
            evaluationPeriods: 5,
            datapointsToAlarm: 3,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            treatMissingData: "notBreaching",
            ...overrides,
        });
        const watch = () => new LocalCloudWatch({ dataDir, timeScale: 60, print: (line) => printed.push(line), now: () => now });

        beforeEach(() => {
            dataDir = mkdtempSync(path.join(tmpdir(), "notes-cw-"));
            now = 1_800_000_000_000;
            printed = [];
        });
        afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

        it("goes to ALARM on the third breaching period of five, prints it, and back to OK when the data stops", () => {
            const cw = watch();
            cw.addAlarm(alarmDefinition("api-5xx", inputs()));
            cw.evaluateAll(true);
            assert.equal(cw.state("api-5xx"), "OK");
            assert.deepEqual(printed, [], "a new alarm's first OK is not printed");
            for (let period = 0; period < 2; period++) {
                cw.put("AWS/ApiGateway", "5xx", { ApiId: "abc", Stage: "$default" }, 1);
                now += PERIOD_MS;
                cw.evaluateAll();
            }
            assert.equal(cw.state("api-5xx"), "OK", "2 of 5 do not raise it");
            // Another dimension set is another metric.
            cw.put("AWS/ApiGateway", "5xx", { ApiId: "other", Stage: "$default" }, 9);
            now += PERIOD_MS;
            cw.evaluateAll();
            assert.equal(cw.state("api-5xx"), "OK");
            cw.put("AWS/ApiGateway", "5xx", { ApiId: "abc", Stage: "$default" }, 2);
            now += PERIOD_MS;
            cw.evaluateAll();
            assert.equal(cw.state("api-5xx"), "ALARM");
            assert.match(printed[0], /^\[alarm\] api-5xx: OK -> ALARM \(Threshold Crossed: 3 out of the last 5 datapoints \[.*\] were greater than or equal to the threshold \(1\) \(minimum 3 datapoints for OK -> ALARM transition\)\.\)$/);
            now += 3 * PERIOD_MS;
            cw.evaluateAll();
            assert.equal(cw.state("api-5xx"), "OK");
            assert.match(printed[1], /^\[alarm\] api-5xx: ALARM -> OK \(/);
            const saved = JSON.parse(readFileSync(path.join(dataDir, "alarms.json"), "utf8"));
            assert.equal(saved.alarms["api-5xx"].state, "OK");
            assert.equal(saved.timeScale, 60);
        });

        it("treats missing data as the alarm says: INSUFFICIENT_DATA, breaching, or ignored", () => {
            const cw = watch();
            cw.addAlarm(alarmDefinition("missing", inputs({ treatMissingData: "missing" })));
            cw.addAlarm(alarmDefinition("breaching", inputs({ treatMissingData: "breaching" })));
            cw.addAlarm(alarmDefinition("ignore", inputs({ treatMissingData: "ignore" })));
            now += 6 * PERIOD_MS;
            cw.evaluateAll(true);
            assert.deepEqual([cw.state("missing"), cw.state("breaching"), cw.state("ignore")], ["INSUFFICIENT_DATA", "ALARM", "INSUFFICIENT_DATA"]);
        });

        it("evaluates p99 and the metric math the table alarms use", () => {
            const cw = watch();
            cw.addAlarm(alarmDefinition("duration", inputs({ namespace: "AWS/Lambda", metricName: "Duration", dimensions: { FunctionName: "f" }, statistic: undefined, extendedStatistic: "p99", comparisonOperator: "GreaterThanThreshold", threshold: 8000 })));
            const metric = (op: string) => ({ namespace: "AWS/DynamoDB", metricName: "ThrottledRequests", dimensions: { TableName: "t", Operation: op }, period: 60, stat: "Sum" });
            cw.addAlarm(
                alarmDefinition("table", {
                    ...inputs({ namespace: undefined, metricName: undefined, dimensions: undefined, statistic: undefined, period: undefined }),
                    metricQueries: [
                        { id: "m0", metric: metric("GetItem"), returnData: false },
                        { id: "m1", metric: metric("Query"), returnData: false },
                        { id: "total", expression: "SUM([m0,m1])", returnData: true },
                    ],
                }),
            );
            for (let period = 0; period < 3; period++) {
                for (let i = 0; i < 99; i++) cw.put("AWS/Lambda", "Duration", { FunctionName: "f" }, 100);
                cw.put("AWS/Lambda", "Duration", { FunctionName: "f" }, 9000);
                cw.put("AWS/DynamoDB", "ThrottledRequests", { TableName: "t", Operation: period % 2 ? "Query" : "GetItem" }, 1);
                now += PERIOD_MS;
            }
            cw.evaluateAll(true);
            assert.equal(cw.state("duration"), "OK", "one slow call in 100 is under p99");
            assert.equal(cw.state("table"), "ALARM", "throttles of any operation add up");
        });

        it("reads every alarm the program declares (dev stack) without a part it cannot evaluate", async () => {
            const run = await stackRun("dev");
            const alarms = ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm");
            assert.equal(alarms.length, 26);
            for (const alarm of alarms) {
                const definition = alarmDefinition(alarm.state.name, alarm.inputs);
                assert.equal(definition.periodSeconds, 60, alarm.name);
            }
        });

        it("keeps states across a restart", () => {
            const first = watch();
            first.addAlarm(alarmDefinition("api-5xx", inputs({ treatMissingData: "breaching" })));
            first.evaluateAll(true);
            assert.equal(first.state("api-5xx"), "ALARM");
            const second = watch();
            assert.equal(second.state("api-5xx"), "ALARM");
        });
    });
});
