import { strict as assert } from "node:assert";
import { FakeStackResource, runStackPolicy, UNKNOWN } from "../../policy/evaluate";
import { alarmTopicCustomerKey, alarmWatchesStackResources } from "../../policy/monitoring";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alarms";

/** A stack with one of each watched kind, and an alarm per kind that names it correctly. */
function stack(alarmChanges: Record<string, Record<string, unknown>> = {}, extra: FakeStackResource[] = []): FakeStackResource[] {
    const alarm = (name: string, props: Record<string, unknown>): FakeStackResource => ({ type: ALARM, name, props: { alarmActions: [TOPIC_ARN], ...props, ...(alarmChanges[name] ?? {}) } });
    return [
        { type: "aws:apigatewayv2/api:Api", name: "api", props: { arn: "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5", protocolType: "HTTP" } },
        { type: "aws:lambda/function:Function", name: "fn", props: { name: "notes-list-1234567" } },
        { type: "aws:dynamodb/table:Table", name: "table", props: { name: "notes-abcdefg" } },
        { type: "aws:cognito/userPool:UserPool", name: "pool", props: { arn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEfGhI" } },
        { type: "aws:sns/topic:Topic", name: "alarms", props: { arn: TOPIC_ARN, kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" } },
        alarm("api-5xx", { namespace: "AWS/ApiGateway", metricName: "5xx", dimensions: { ApiId: "a1b2c3d4e5", Stage: "$default" } }),
        alarm("fn-errors", { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "notes-list-1234567" } }),
        alarm("table-throttles", {
            metricQueries: [
                { id: "m0", metric: { namespace: "AWS/DynamoDB", metricName: "ThrottledRequests", dimensions: { TableName: "notes-abcdefg", Operation: "Query" } } },
                { id: "e", expression: "SUM([m0])", returnData: true },
            ],
        }),
        alarm("sign-in", { namespace: "AWS/Cognito", metricName: "SignInThrottles", dimensions: { UserPool: "us-east-1_AbCdEfGhI", UserPoolClient: "client1234" } }),
        ...extra,
    ];
}

const messages = async (fakes: FakeStackResource[], policy = alarmWatchesStackResources) => (await runStackPolicy(policy, fakes)).reported.map((r) => r.message);

describe("cloudwatch-alarm-dimensions", () => {
    it("passes alarms whose dimensions name the stack's API, function, table and User Pool", async () => {
        assert.deepEqual(await messages(stack()), []);
    });

    it("fails an alarm whose function name is misspelled", async () => {
        assert.deepEqual(await messages(stack({ "fn-errors": { dimensions: { FunctionName: "notes-lsit-1234567" } } })), [
            'Alarm fn-errors (AWS/Lambda Errors) must name a function name of this stack in FunctionName, found "notes-lsit-1234567" (the stack has "notes-list-1234567").',
        ]);
    });

    it("fails an HTTP API alarm on ApiName, which HTTP APIs never publish", async () => {
        const [message] = await messages(stack({ "api-5xx": { dimensions: { ApiName: "notes-api", Stage: "$default" } } }));
        assert.equal(message, "Alarm api-5xx (AWS/ApiGateway 5xx) must use the ApiId dimension for an HTTP API, found ApiName: HTTP APIs publish no ApiName metrics.");
    });

    it("fails an API alarm on another API's id", async () => {
        assert.match((await messages(stack({ "api-5xx": { dimensions: { ApiId: "zz9zz9zz9z", Stage: "$default" } } })))[0], /must name a HTTP or WebSocket API id of this stack in ApiId, found "zz9zz9zz9z"/);
    });

    it("fails a table throttle alarm without the Operation dimension DynamoDB publishes it under", async () => {
        const change = { metricQueries: [{ id: "m0", metric: { namespace: "AWS/DynamoDB", metricName: "ThrottledRequests", dimensions: { TableName: "notes-abcdefg" } }, returnData: true }] };
        assert.deepEqual(await messages(stack({ "table-throttles": change })), [
            "Alarm table-throttles (AWS/DynamoDB ThrottledRequests) must name an Operation dimension: DynamoDB publishes ThrottledRequests per TableName and Operation, never per table alone.",
        ]);
    });

    it("fails a metric query on a table the stack does not have", async () => {
        const change = { metricQueries: [{ id: "m0", metric: { namespace: "AWS/DynamoDB", metricName: "ThrottledRequests", dimensions: { TableName: "old-table", Operation: "Query" } }, returnData: true }] };
        assert.match((await messages(stack({ "table-throttles": change })))[0], /must name a table name of this stack in TableName, found "old-table"/);
    });

    it("fails a Cognito alarm on another pool", async () => {
        assert.match((await messages(stack({ "sign-in": { dimensions: { UserPool: "us-east-1_Other", UserPoolClient: "client1234" } } })))[0], /must name a User Pool id of this stack in UserPool, found "us-east-1_Other"/);
    });

    it("does not judge an alarm on a kind of resource the stack does not have (it watches one deployed elsewhere)", async () => {
        const fakes = stack().filter((r) => r.type !== "aws:lambda/function:Function");
        assert.deepEqual(await messages(fakes.map((r) => (r.name === "fn-errors" ? { ...r, props: { ...r.props, dimensions: { FunctionName: "shared-fn" } } } : r))), []);
    });

    it("defers a dimension unknown at preview to pulumi up", async () => {
        const { reported } = await runStackPolicy(alarmWatchesStackResources, stack({ "fn-errors": { dimensions: UNKNOWN.object } }));
        assert.equal(reported.length, 1, JSON.stringify(reported));
        assert.equal(reported[0].enforcementLevel, "advisory");
        assert.match(reported[0].message, /^Could not check its metrics of .* at preview/);
    });
});

describe("cloudwatch-alarm-topic-customer-key", () => {
    it("passes a notified topic encrypted with a customer-managed key", async () => {
        assert.deepEqual(await messages(stack(), alarmTopicCustomerKey), []);
    });

    for (const key of ["alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"]) {
        it(`fails a topic alarms notify that is encrypted with ${key}`, async () => {
            const fakes = stack().map((r) => (r.name === "alarms" ? { ...r, props: { ...r.props, kmsMasterKeyId: key } } : r));
            assert.deepEqual(await messages(fakes, alarmTopicCustomerKey), [
                `Topic alarms must be encrypted with a customer-managed KMS key whose policy lets cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*), found ${key}: alarms notify it and CloudWatch cannot use that key.`,
            ]);
        });
    }

    it("leaves alone an aws/sns topic no alarm notifies", async () => {
        const fakes = stack().map((r) => (r.type === ALARM ? { ...r, props: { ...r.props, alarmActions: [] } } : r.name === "alarms" ? { ...r, props: { ...r.props, kmsMasterKeyId: "alias/aws/sns" } } : r));
        assert.deepEqual(await messages(fakes, alarmTopicCustomerKey), []);
    });
});
