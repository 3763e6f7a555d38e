import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";
import { runProgramIsolated } from "../../tools/engine/program";
import { federationOverrides, SECRET_KEYS } from "../support/federation";
import { runFixtureProgram } from "../support/fixture-program";
import { asList, named, ofType, policyStatements, ProgramRun, single, STACKS, stackRun } from "../support/program";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const FUNCTION = "aws:lambda/function:Function";
const HANDLERS = ["create", "list", "get", "update", "delete"];
/** Every function the default stacks deploy: the five routes' and `DELETE /account`'s. */
const FUNCTIONS = [...HANDLERS, "account"];
/** The routes' table operations and the account function's (Query, BatchWriteItem). */
const TABLE_OPERATIONS = ["BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"];
const OVERRIDES = {
    "notes-infra:tracing": "true",
    "notes-infra:alarmEmail": JSON.stringify(["ops@example.com", "Oncall@example.org"]),
    "notes-infra:alarmApi5xxPerMinute": "7",
    "notes-infra:alarmApiLatencyP99Ms": "1500",
};

/** The anchors of docs/operations.md's headings, as GitHub makes them. */
function runbookAnchors(): Set<string> {
    const text = readFileSync(path.join(REPO_ROOT, "docs", "operations.md"), "utf8");
    const anchors = new Set<string>();
    for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
        anchors.add(match[1].trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-"));
    }
    return anchors;
}

const alarm = (run: ProgramRun, role: string) => named(run, `notes-monitoring-${role}`);
/** A function by its handler: `notes-api-<handler>`, the account's `notes-account`, the trigger's `notes-auth-link-accounts`. */
const fnOf = (run: ProgramRun, handler: string) =>
    named(run, handler === "account" ? "notes-account" : handler === "link-accounts" ? "notes-auth-link-accounts" : `notes-api-${handler}`);

for (const stack of STACKS) {
    describe(`NotesMonitoring (${stack} stack)`, () => {
        let run: ProgramRun;
        let tuned: ProgramRun;
        before(async () => {
            [run, tuned] = await Promise.all([stackRun(stack), stackRun(stack, OVERRIDES)]);
        });

        it("raises exactly one alarm per watched signal, all inside the monitoring component", () => {
            const roles = ofType(run, ALARM).map((a) => a.name.replace(/^notes-monitoring-/, "")).sort();
            const expected = [
                "api-5xx", "api-latency", "handler-errors", "table-throttles", "table-system-errors",
                "sign-in-throttles", "sign-up-throttles", "token-refresh-throttles",
                ...HANDLERS.flatMap((h) => [`${h}-errors`, `${h}-throttles`, `${h}-duration`]),
                "account-errors", "account-throttles", "account-duration",
            ].sort();
            assert.deepEqual(roles, expected);
            assert.equal(roles.length, 26);
            for (const a of ofType(run, ALARM)) assert.match(a.urn, /notes:monitoring:NotesMonitoring\$aws:cloudwatch\/metricAlarm:MetricAlarm::/);
        });

        it("sends every alarm and its recovery to the alarm topic, with a runbook link that exists", () => {
            const topic = single(run, "aws:sns/topic:Topic");
            const anchors = runbookAnchors();
            for (const a of ofType(run, ALARM)) {
                assert.deepEqual(a.inputs.alarmActions, [topic.state.arn], a.name);
                assert.deepEqual(a.inputs.okActions, [topic.state.arn], a.name);
                const link = /Runbook: docs\/operations\.md#([\w-]+)$/.exec(a.inputs.alarmDescription);
                assert.ok(link, `${a.name} has no runbook link: ${a.inputs.alarmDescription}`);
                assert.ok(anchors.has(link[1]), `${a.name} links to #${link[1]}, which docs/operations.md lacks`);
                assert.ok(a.inputs.alarmDescription.length <= 1024, "CloudWatch's limit for descriptions");
            }
        });

        it("reads one-minute datapoints, alarms on 3 of 5, and treats missing data as not breaching", () => {
            for (const a of ofType(run, ALARM)) {
                assert.equal(a.inputs.evaluationPeriods, 5, a.name);
                assert.equal(a.inputs.datapointsToAlarm, 3, a.name);
                assert.equal(a.inputs.treatMissingData, "notBreaching", a.name);
                const periods = a.inputs.metricQueries ? a.inputs.metricQueries.filter((q: any) => q.metric).map((q: any) => q.metric.period) : [a.inputs.period];
                for (const period of periods) assert.equal(period, 60, a.name);
            }
        });

        it("watches the API by its id and stage (not ApiName), for 5xx and p99 latency at the stack's thresholds", () => {
            const api = single(run, "aws:apigatewayv2/api:Api");
            const stage = single(run, "aws:apigatewayv2/stage:Stage");
            const errors = alarm(run, "api-5xx");
            const latency = alarm(run, "api-latency");
            for (const a of [errors, latency]) {
                assert.equal(a.inputs.namespace, "AWS/ApiGateway");
                assert.deepEqual(a.inputs.dimensions, { ApiId: api.id, Stage: stage.inputs.name });
            }
            assert.equal(stage.inputs.name, "$default");
            assert.deepEqual([errors.inputs.metricName, errors.inputs.statistic, errors.inputs.threshold], ["5xx", "Sum", 1]);
            assert.deepEqual([latency.inputs.metricName, latency.inputs.extendedStatistic, latency.inputs.threshold], ["Latency", "p99", 3000]);
            assert.equal(latency.inputs.comparisonOperator, "GreaterThanThreshold");
            assert.equal(alarm(tuned, "api-5xx").inputs.threshold, 7);
            assert.equal(alarm(tuned, "api-latency").inputs.threshold, 1500);
        });

        it("watches each function by its own name: Errors, Throttles, and p99 Duration above 80% of its timeout", () => {
            for (const handler of FUNCTIONS) {
                const fn = fnOf(run, handler);
                const name = fn.state.name;
                assert.match(name, handler === "account" ? /^notes-account-/ : new RegExp(`^notes-api-${handler}-`));
                for (const [role, metric] of [["errors", "Errors"], ["throttles", "Throttles"], ["duration", "Duration"]]) {
                    const a = alarm(run, `${handler}-${role}`);
                    assert.equal(a.inputs.namespace, "AWS/Lambda");
                    assert.equal(a.inputs.metricName, metric);
                    assert.deepEqual(a.inputs.dimensions, { FunctionName: name }, a.name);
                }
                assert.deepEqual([alarm(run, `${handler}-errors`).inputs.statistic, alarm(run, `${handler}-errors`).inputs.threshold], ["Sum", 1]);
                const duration = alarm(run, `${handler}-duration`);
                assert.equal(duration.inputs.extendedStatistic, "p99");
                // The routes' functions time out at lambdaTimeoutSeconds (10), the account's at 29 s.
                assert.equal(fn.inputs.timeout, handler === "account" ? 29 : 10);
                assert.equal(duration.inputs.threshold, handler === "account" ? 23200 : 8000);
            }
        });

        it("watches the DELETE /account function: its three alarms and its handler-5xx filter name its own resources", () => {
            const fn = fnOf(run, "account");
            assert.equal(fn.urn.includes("notes:account:NotesAccount$aws:lambda/function:Function::notes-account"), true, fn.urn);
            for (const [role, metric] of [["account-errors", "Errors"], ["account-throttles", "Throttles"], ["account-duration", "Duration"]]) {
                const a = alarm(run, role);
                assert.deepEqual([a.inputs.namespace, a.inputs.metricName, a.inputs.dimensions], ["AWS/Lambda", metric, { FunctionName: fn.state.name }]);
                assert.match(a.inputs.alarmDescription, /\(DELETE \/account\)/);
            }
            const filter = named(run, "notes-monitoring-account-handler-errors");
            assert.equal(filter.inputs.logGroupName, named(run, "notes-account-logs").state.name);
            assert.equal(filter.inputs.logGroupName, fn.inputs.loggingConfig.logGroup);
            assert.equal(filter.inputs.pattern, '{ $.level = "ERROR" && $.statusCode >= 500 }');
        });

        it("counts handler 5xx answers with a metric filter on every function's log group, and alarms on it", () => {
            const filters = ofType(run, "aws:cloudwatch/logMetricFilter:LogMetricFilter");
            const apiId = single(run, "aws:apigatewayv2/api:Api").id;
            const groups = FUNCTIONS.map((h) => fnOf(run, h).inputs.loggingConfig.logGroup).sort();
            assert.equal(filters.length, 6);
            assert.deepEqual(filters.map((f) => f.inputs.logGroupName).sort(), groups);
            const a = alarm(run, "handler-errors");
            for (const f of filters) {
                assert.equal(f.inputs.pattern, '{ $.level = "ERROR" && $.statusCode >= 500 }');
                assert.deepEqual(f.inputs.metricTransformation, { namespace: `notes-infra/notes-monitoring-${apiId}`, name: "HandlerErrors", value: "1", unit: "Count" });
            }
            assert.equal(a.inputs.namespace, `notes-infra/notes-monitoring-${apiId}`);
            assert.equal(a.inputs.metricName, "HandlerErrors");
            assert.equal(a.inputs.dimensions, undefined);
        });

        for (const [role, metric] of [["table-throttles", "ThrottledRequests"], ["table-system-errors", "SystemErrors"]]) {
            it(`sums ${metric} over every operation the functions perform on the table (TableName and Operation)`, () => {
                const table = single(run, "aws:dynamodb/table:Table");
                const queries: any[] = alarm(run, role).inputs.metricQueries;
                const metrics = queries.filter((q) => q.metric);
                assert.deepEqual(metrics.map((q) => q.metric.dimensions.Operation).sort(), TABLE_OPERATIONS);
                for (const q of metrics) {
                    assert.deepEqual(q.metric.dimensions, { TableName: table.state.name, Operation: q.metric.dimensions.Operation });
                    assert.deepEqual([q.metric.namespace, q.metric.metricName, q.metric.stat, q.returnData], ["AWS/DynamoDB", metric, "Sum", false]);
                }
                const expressions = queries.filter((q) => q.expression);
                assert.equal(expressions.length, 1);
                assert.equal(expressions[0].returnData, true);
                assert.deepEqual(/^SUM\(\[(.+)\]\)$/.exec(expressions[0].expression)![1].split(",").sort(), metrics.map((q) => q.id).sort());
            });
        }

        it("watches the User Pool and its app client for sign-in, sign-up and token refresh throttles", () => {
            const pool = single(run, "aws:cognito/userPool:UserPool");
            const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
            for (const [role, metric] of [["sign-in-throttles", "SignInThrottles"], ["sign-up-throttles", "SignUpThrottles"], ["token-refresh-throttles", "TokenRefreshThrottles"]]) {
                const a = alarm(run, role);
                assert.deepEqual([a.inputs.namespace, a.inputs.metricName, a.inputs.statistic], ["AWS/Cognito", metric, "Sum"]);
                assert.deepEqual(a.inputs.dimensions, { UserPool: pool.id, UserPoolClient: client.id });
            }
        });

        it("encrypts the topic with its own key, which only these alarms' CloudWatch may use", () => {
            const key = single(run, "aws:kms/key:Key");
            const topic = single(run, "aws:sns/topic:Topic");
            assert.equal(topic.inputs.kmsMasterKeyId, key.state.arn);
            assert.ok(!String(topic.inputs.kmsMasterKeyId).includes("alias/aws/sns"));
            assert.equal(key.inputs.enableKeyRotation, true);
            const keyPolicy = single(run, "aws:kms/keyPolicy:KeyPolicy");
            assert.equal(keyPolicy.inputs.keyId, key.id);
            const statements = policyStatements(keyPolicy.inputs.policy);
            const alarmArns = ofType(run, ALARM).map((a) => a.state.arn).sort();
            assert.equal(alarmArns.length, 26);
            const cloudwatch = statements.filter((s) => JSON.stringify(s.Principal).includes("cloudwatch.amazonaws.com"));
            assert.equal(cloudwatch.length, 1);
            assert.deepEqual(asList(cloudwatch[0].Action).sort(), ["kms:Decrypt", "kms:GenerateDataKey*"]);
            assert.equal(cloudwatch[0].Condition!.StringEquals["aws:SourceAccount"], "123456789012");
            assert.deepEqual(asList(cloudwatch[0].Condition!.ArnEquals["aws:SourceArn"]).sort(), alarmArns);
            for (const s of statements) {
                assert.notEqual(JSON.stringify(s.Principal), '"*"', "no statement for everyone");
                assert.ok(!asList(s.Action).includes("kms:*"), "no kms:*");
                if (s.Sid !== cloudwatch[0].Sid) assert.deepEqual(s.Principal, { AWS: "arn:aws:iam::123456789012:root" });
            }
        });

        it("lets only these alarms publish to the topic", () => {
            const topic = single(run, "aws:sns/topic:Topic");
            const topicPolicy = single(run, "aws:sns/topicPolicy:TopicPolicy");
            assert.equal(topicPolicy.inputs.arn, topic.state.arn);
            const statements = policyStatements(topicPolicy.inputs.policy);
            assert.equal(statements.length, 1);
            const [s] = statements;
            assert.deepEqual(s.Principal, { Service: "cloudwatch.amazonaws.com" });
            assert.equal(s.Action, "sns:Publish");
            assert.equal(s.Resource, topic.state.arn);
            assert.equal(s.Condition!.StringEquals["aws:SourceAccount"], "123456789012");
            assert.deepEqual(asList(s.Condition!.ArnEquals["aws:SourceArn"]).sort(), ofType(run, ALARM).map((a) => a.state.arn).sort());
        });

        it("subscribes no address by default and each alarmEmail address when set", () => {
            assert.deepEqual(ofType(run, "aws:sns/topicSubscription:TopicSubscription"), []);
            const topic = single(tuned, "aws:sns/topic:Topic");
            const subscriptions = ofType(tuned, "aws:sns/topicSubscription:TopicSubscription");
            assert.deepEqual(subscriptions.map((s) => [s.inputs.protocol, s.inputs.endpoint, s.inputs.topic]).sort(), [
                ["email", "Oncall@example.org", topic.state.arn],
                ["email", "ops@example.com", topic.state.arn],
            ]);
        });

        it("draws a dashboard whose metrics name the real API, functions, table, pool, client and alarms", () => {
            const dashboard = single(run, "aws:cloudwatch/dashboard:Dashboard");
            assert.equal(dashboard.inputs.dashboardName, `notes-monitoring-${single(run, "aws:apigatewayv2/api:Api").id}`);
            const body = JSON.parse(dashboard.inputs.dashboardBody);
            const metrics: unknown[][] = body.widgets.flatMap((w: any) => w.properties.metrics ?? []);
            const has = (namespace: string, metric: string, ...dims: string[]) =>
                metrics.some((m) => m[0] === namespace && m[1] === metric && dims.every((d, i) => m[2 + i] === d));
            const api = single(run, "aws:apigatewayv2/api:Api").id;
            for (const metric of ["Count", "4xx", "5xx", "Latency"]) assert.ok(has("AWS/ApiGateway", metric, "ApiId", api, "Stage", "$default"), metric);
            const latencyStats = metrics.filter((m) => m[1] === "Latency").map((m) => (m[m.length - 1] as any).stat).sort();
            assert.deepEqual(latencyStats, ["p50", "p99"]);
            for (const handler of FUNCTIONS) {
                for (const metric of ["Errors", "Duration", "Throttles"]) assert.ok(has("AWS/Lambda", metric, "FunctionName", fnOf(run, handler).state.name), `${handler} ${metric}`);
            }
            const table = single(run, "aws:dynamodb/table:Table").state.name;
            assert.ok(has("AWS/DynamoDB", "ThrottledRequests", "TableName", table, "Operation", "PutItem"));
            assert.ok(has("AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table));
            assert.ok(has("AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table));
            const pool = single(run, "aws:cognito/userPool:UserPool").id;
            const client = single(run, "aws:cognito/userPoolClient:UserPoolClient").id;
            for (const metric of ["SignInSuccesses", "SignUpSuccesses"]) assert.ok(has("AWS/Cognito", metric, "UserPool", pool, "UserPoolClient", client), metric);
            const alarmWidget = body.widgets.find((w: any) => w.type === "alarm");
            assert.deepEqual([...alarmWidget.properties.alarms].sort(), ofType(run, ALARM).map((a) => a.state.arn).sort());
        });

        it("saves Logs Insights queries over the functions' log groups: errors by route, slowest requests, cold starts", () => {
            const queries = ofType(run, "aws:cloudwatch/queryDefinition:QueryDefinition");
            const folder = `notes-monitoring-${single(run, "aws:apigatewayv2/api:Api").id}`;
            assert.deepEqual(queries.map((q) => q.inputs.name).sort(), [`${folder}/cold starts`, `${folder}/errors by route`, `${folder}/slowest requests`]);
            const groups = FUNCTIONS.map((h) => fnOf(run, h).inputs.loggingConfig.logGroup).sort();
            for (const q of queries) assert.deepEqual([...q.inputs.logGroupNames].sort(), groups);
            const byName = (suffix: string) => queries.find((q) => q.inputs.name.endsWith(suffix))!.inputs.queryString;
            assert.match(byName("errors by route"), /by route/);
            assert.match(byName("slowest requests"), /sort durationMs desc/);
            assert.match(byName("cold starts"), /platform\.report/);
            assert.match(byName("cold starts"), /initDurationMs/);
        });

        it("leaves tracing off by default: no active tracing, no X-Ray permission", () => {
            for (const handler of FUNCTIONS) {
                assert.deepEqual(fnOf(run, handler).inputs.tracingConfig, { mode: "PassThrough" });
                const policy = named(run, `${fnOf(run, handler).name}-policy`).inputs.policy as string;
                assert.ok(!policy.includes("xray:"), handler);
            }
        });

        it("with tracing on, traces every function and grants exactly PutTraceSegments and PutTelemetryRecords", () => {
            for (const handler of FUNCTIONS) {
                assert.deepEqual(fnOf(tuned, handler).inputs.tracingConfig, { mode: "Active" });
                const statements = policyStatements(named(tuned, `${fnOf(tuned, handler).name}-policy`).inputs.policy);
                const xray = statements.filter((s) => asList(s.Action).some((a) => a.startsWith("xray:")));
                assert.equal(xray.length, 1);
                assert.deepEqual(asList(xray[0].Action).sort(), ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
                // X-Ray has no resource types: these two actions take "*" only.
                assert.equal(xray[0].Resource, "*");
            }
            assert.equal(ofType(tuned, FUNCTION).length, 6);
        });
    });
}

describe("NotesMonitoring with sign-in providers (the pre sign-up trigger deployed)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramIsolated("dev", federationOverrides(), undefined, SECRET_KEYS);
    });

    it("watches the trigger by its own name: Errors, Throttles, and p99 Duration above 80% of its 5 s timeout", () => {
        const fn = fnOf(run, "link-accounts");
        assert.match(fn.state.name, /^notes-auth-link-accounts-/);
        for (const [role, metric] of [["link-accounts-errors", "Errors"], ["link-accounts-throttles", "Throttles"], ["link-accounts-duration", "Duration"]]) {
            const a = alarm(run, role);
            assert.deepEqual([a.inputs.namespace, a.inputs.metricName, a.inputs.dimensions], ["AWS/Lambda", metric, { FunctionName: fn.state.name }]);
        }
        assert.equal(fn.inputs.timeout, 5);
        assert.equal(alarm(run, "link-accounts-duration").inputs.threshold, 4000);
        assert.equal(ofType(run, ALARM).length, 29);
    });

    it("puts no handler-5xx filter on the trigger's log group (it answers Cognito, not HTTP), but queries it", () => {
        const group = fnOf(run, "link-accounts").inputs.loggingConfig.logGroup;
        const filters = ofType(run, "aws:cloudwatch/logMetricFilter:LogMetricFilter");
        assert.equal(filters.length, 6);
        assert.ok(!filters.some((f) => f.inputs.logGroupName === group));
        for (const q of ofType(run, "aws:cloudwatch/queryDefinition:QueryDefinition")) assert.ok(q.inputs.logGroupNames.includes(group), q.inputs.name);
        const dashboard = JSON.parse(single(run, "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody);
        const metrics: unknown[][] = dashboard.widgets.flatMap((w: any) => w.properties.metrics ?? []);
        assert.ok(metrics.some((m) => m[1] === "Errors" && m[3] === fnOf(run, "link-accounts").state.name));
    });

    it("sums the same table operations: the trigger touches no table", () => {
        const metrics = (alarm(run, "table-throttles").inputs.metricQueries as any[]).filter((q) => q.metric);
        assert.deepEqual(metrics.map((q) => q.metric.dimensions.Operation).sort(), TABLE_OPERATIONS);
    });
});

describe("NotesMonitoring across stacks and instances", () => {
    it("never gives two instances the same dashboard, query folder or metric namespace, and each watches its own API", async () => {
        const fixture = await runFixtureProgram("renamed-components", "dev");
        const names = ["blue", "green"].map((name) => {
            const apiId = named(fixture, `${name}-api-http`).id;
            const dashboard = named(fixture, `${name}-monitoring-dashboard`).inputs.dashboardName;
            const folder = named(fixture, `${name}-monitoring-errors-by-route`).inputs.name;
            const namespace = named(fixture, `${name}-monitoring-handler-errors`).inputs.namespace;
            assert.deepEqual(named(fixture, `${name}-monitoring-api-5xx`).inputs.dimensions, { ApiId: apiId, Stage: "$default" });
            return [dashboard, folder, namespace];
        });
        assert.equal(new Set(names.flat()).size, 6, JSON.stringify(names));
    });

    it("never gives two stacks the same dashboard", async () => {
        const [dev, prod] = await Promise.all([stackRun("dev"), stackRun("prod")]);
        const name = (run: ProgramRun) => single(run, "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardName;
        assert.notEqual(name(dev), name(prod));
    });
});
