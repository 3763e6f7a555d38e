import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyJson } from "../lib/iam";

/**
 * How every alarm reads its metric: one-minute datapoints, raised when 3 of the last 5 breach.
 * One minute is the finest period these AWS metrics have; "3 of 5" lets a single bad minute (a
 * deploy, one retried burst) pass and still raises a real outage within 3 minutes, then clears it
 * after 3 good minutes. Missing data is not breaching: every metric here is published only while
 * there is traffic (or a failure), so no data means nothing is failing. Reasons in docs/operations.md.
 */
export const ALARM_PERIOD_SECONDS = 60;
export const ALARM_EVALUATION_PERIODS = 5;
export const ALARM_DATAPOINTS_TO_ALARM = 3;
/** A function's p99 duration above this share of its timeout is close to timing out. */
export const DURATION_ALARM_SHARE_OF_TIMEOUT = 0.8;

/** Where each alarm's runbook section lives; the anchor is the section's heading. */
export const RUNBOOK = "docs/operations.md";

/**
 * The filter pattern for handler failures answered as 5xx: the handlers' own ERROR lines, which
 * carry the status they answered (handlers/http.ts). Lambda's `Errors` metric never sees these:
 * the invocation succeeded. Lambda's own ERROR lines (an uncaught throw) carry no `statusCode`.
 */
export const HANDLER_ERROR_FILTER = "{ $.level = \"ERROR\" && $.statusCode >= 500 }";
export const HANDLER_ERROR_METRIC = "HandlerErrors";

/** Cognito's throttle metrics, with the runbook anchor and what each one blocks. */
const COGNITO_THROTTLES = [
    { metric: "SignInThrottles", role: "sign-in-throttles", what: "sign-in requests (InitiateAuth, RespondToAuthChallenge)" },
    { metric: "SignUpThrottles", role: "sign-up-throttles", what: "sign-ups (SignUp, ConfirmSignUp)" },
    { metric: "TokenRefreshThrottles", role: "token-refresh-throttles", what: "token refreshes (InitiateAuth REFRESH_TOKEN_AUTH)" },
] as const;

/**
 * What NotesMonitoring needs to watch one function. Every function the program deploys provides
 * it: NotesApi's (`NotesFunction`), NotesAccount, and NotesAuth's pre sign-up trigger. Its name and
 * timeout are read from the function resource itself, never retyped.
 */
export interface MonitoredFunction {
    /** Its handler (`handlers/<handler>.ts`): names its alarms (`<handler>-errors`, …) and metric filter. Unique per stack. */
    readonly handler: string;
    /** What invokes it, for the alarms' descriptions (`GET /notes`, `Cognito pre sign-up trigger`). */
    readonly invokedBy: string;
    /** The function: its `name` is the alarms' `FunctionName`, its `timeout` sets the duration alarm's threshold. */
    readonly function: aws.lambda.Function;
    /** Its log group: the saved queries read it, and the handler-5xx filter when it answers HTTP. */
    readonly logGroup: aws.cloudwatch.LogGroup;
    /** It answers HTTP through `handlers/http.ts`, which logs each 5xx it answers: the handler-errors filter applies. */
    readonly answersHttp: boolean;
    /** The DynamoDB actions its role allows on the table (`dynamodb:<Operation>`); the table alarms sum their operations. */
    readonly tableActions: readonly string[];
}

export interface NotesMonitoringArgs {
    /** The HTTP API's id (`ApiId` dimension of `AWS/ApiGateway`). */
    apiId: pulumi.Input<string>;
    /** The stage's name (`Stage` dimension), `$default` for this API. */
    stageName: pulumi.Input<string>;
    /** Every function the stack deploys: names, timeouts, log groups and table operations come from them. */
    functions: MonitoredFunction[];
    /** The notes table's name (`TableName` dimension of `AWS/DynamoDB`). */
    tableName: pulumi.Input<string>;
    /** The User Pool's id (`UserPool` dimension of `AWS/Cognito`). */
    userPoolId: pulumi.Input<string>;
    /** The app client's id (`UserPoolClient` dimension). */
    userPoolClientId: pulumi.Input<string>;
    /** Addresses subscribed to the alarm topic (each must confirm). Fed by `alarmEmail`. */
    alarmEmail: string[];
    /** 5xx answers per minute that make a breaching minute. Fed by `alarmApi5xxPerMinute`. */
    api5xxPerMinute: number;
    /** p99 latency (ms) above which a minute breaches. Fed by `alarmApiLatencyP99Ms`. */
    apiLatencyP99Ms: number;
}

interface AlarmSpec {
    /** Logical-name suffix and runbook anchor stem. */
    role: string;
    /** The runbook section's anchor in docs/operations.md. */
    runbook: string;
    /** What it means and the first thing to check (the alarm's description). */
    description: pulumi.Input<string>;
    comparisonOperator: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold";
    threshold: pulumi.Input<number>;
    /** One metric (with `statistic` or `extendedStatistic`) or metric math. */
    metric?: { namespace: pulumi.Input<string>; metricName: string; dimensions?: pulumi.Input<Record<string, pulumi.Input<string>>>; statistic?: string; extendedStatistic?: string };
    metricQueries?: pulumi.Input<aws.types.input.cloudwatch.MetricAlarmMetricQuery>[];
    dependsOn?: pulumi.Resource[];
}

/**
 * Alarms on everything a user would notice failing (API errors and latency, function errors,
 * throttles and near-timeouts, handler failures answered as 5xx, table throttling and errors,
 * Cognito throttling), delivered through an SNS topic encrypted with a key CloudWatch may use;
 * a dashboard of the stack and saved Logs Insights queries. Every dimension comes from the
 * resource it watches.
 */
export class NotesMonitoring extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    readonly topic: aws.sns.Topic;
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    readonly dashboard: aws.cloudwatch.Dashboard;
    readonly topicArn: pulumi.Output<string>;
    readonly dashboardName: pulumi.Output<string>;

    constructor(
        private readonly name: string,
        private readonly args: NotesMonitoringArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("notes:monitoring:NotesMonitoring", name, {}, opts);
        if (args.functions.length === 0) throw new Error(`NotesMonitoring ${name}: functions must list at least one function to watch.`);
        const handlers = args.functions.map((fn) => fn.handler);
        const repeated = handlers.filter((handler, i) => handlers.indexOf(handler) !== i);
        if (repeated.length > 0) throw new Error(`NotesMonitoring ${name}: functions must have distinct handlers (they name the alarms), found ${[...new Set(repeated)].join(", ")} twice.`);

        this.key = new aws.kms.Key(
            `${name}-alarms-key`,
            { description: "Encrypts the alarm topic; CloudWatch alarms of this stack may use it", enableKeyRotation: true, deletionWindowInDays: 30 },
            { parent: this },
        );
        this.topic = new aws.sns.Topic(`${name}-alarms`, { kmsMasterKeyId: this.key.arn }, { parent: this });
        this.subscribe(args.alarmEmail);

        const metricFilters = this.createHandlerErrorFilters();
        this.createApiAlarms();
        this.createFunctionAlarms();
        this.createHandlerErrorAlarm(metricFilters);
        this.createTableAlarms();
        this.createUserPoolAlarms();
        this.allowAlarmsToPublish();

        this.dashboard = this.createDashboard();
        this.createSavedQueries();

        this.topicArn = this.topic.arn;
        this.dashboardName = this.dashboard.dashboardName;
        this.registerOutputs({ topicArn: this.topicArn, dashboardName: this.dashboardName, alarmArns: this.alarms.map((alarm) => alarm.arn) });
    }

    private subscribe(addresses: string[]): void {
        for (const address of addresses) {
            // Named after the address, so reordering the list replaces nothing.
            new aws.sns.TopicSubscription(`${this.name}-email-${address.toLowerCase()}`, { topic: this.topic.arn, protocol: "email", endpoint: address }, { parent: this });
        }
    }

    private alarm(spec: AlarmSpec): aws.cloudwatch.MetricAlarm {
        const link = `Runbook: ${RUNBOOK}#${spec.runbook}`;
        const alarm = new aws.cloudwatch.MetricAlarm(
            `${this.name}-${spec.role}`,
            {
                alarmDescription: pulumi.interpolate`${spec.description} ${link}`,
                comparisonOperator: spec.comparisonOperator,
                threshold: spec.threshold,
                evaluationPeriods: ALARM_EVALUATION_PERIODS,
                datapointsToAlarm: ALARM_DATAPOINTS_TO_ALARM,
                treatMissingData: "notBreaching",
                ...(spec.metric ? { ...spec.metric, period: ALARM_PERIOD_SECONDS } : { metricQueries: spec.metricQueries }),
                alarmActions: [this.topic.arn],
                okActions: [this.topic.arn],
            },
            { parent: this, dependsOn: spec.dependsOn },
        );
        this.alarms.push(alarm);
        return alarm;
    }

    private apiDimensions() {
        return { ApiId: this.args.apiId, Stage: this.args.stageName };
    }

    private createApiAlarms(): void {
        this.alarm({
            role: "api-5xx",
            runbook: "api-5xx",
            description: pulumi.interpolate`The notes API answered 5xx (at least ${this.args.api5xxPerMinute} a minute). Check the table and handler-error alarms, then the access log's integrationError.`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: this.args.api5xxPerMinute,
            metric: { namespace: "AWS/ApiGateway", metricName: "5xx", dimensions: this.apiDimensions(), statistic: "Sum" },
        });
        this.alarm({
            role: "api-latency",
            runbook: "api-latency",
            description: `The notes API's p99 latency is above ${this.args.apiLatencyP99Ms} ms. Check the functions' duration alarms and the slowest-requests query.`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: this.args.apiLatencyP99Ms,
            metric: { namespace: "AWS/ApiGateway", metricName: "Latency", dimensions: this.apiDimensions(), extendedStatistic: "p99" },
        });
    }

    private createFunctionAlarms(): void {
        for (const { handler, invokedBy: what, function: fn } of this.args.functions) {
            const dimensions = { FunctionName: fn.name };
            this.alarm({
                role: `${handler}-errors`,
                runbook: "function-errors",
                description: pulumi.interpolate`Function ${fn.name} (${what}) failed invocations (uncaught errors, timeouts, crashes). Check its log group for the errorType.`,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
                metric: { namespace: "AWS/Lambda", metricName: "Errors", dimensions, statistic: "Sum" },
            });
            this.alarm({
                role: `${handler}-throttles`,
                runbook: "function-throttles",
                description: pulumi.interpolate`Function ${fn.name} (${what}) was throttled. Check the account's concurrency (ConcurrentExecutions) and reserved concurrency.`,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
                metric: { namespace: "AWS/Lambda", metricName: "Throttles", dimensions, statistic: "Sum" },
            });
            const timeoutMs = fn.timeout.apply((seconds) => (seconds ?? 3) * 1000);
            this.alarm({
                role: `${handler}-duration`,
                runbook: "function-duration",
                description: pulumi.interpolate`Function ${fn.name} (${what}) p99 duration is above ${DURATION_ALARM_SHARE_OF_TIMEOUT * 100}% of its ${timeoutMs} ms timeout. Check the table's latency and the slowest-requests query.`,
                comparisonOperator: "GreaterThanThreshold",
                threshold: timeoutMs.apply((ms) => ms * DURATION_ALARM_SHARE_OF_TIMEOUT),
                metric: { namespace: "AWS/Lambda", metricName: "Duration", dimensions, extendedStatistic: "p99" },
            });
        }
    }

    /**
     * What tells this instance's dashboard, queries and metric apart from another stack's in the
     * same account: the component's name and the API's id (no stack rename changes either).
     */
    private scope(): pulumi.Output<string> {
        return pulumi.interpolate`${this.name}-${this.args.apiId}`;
    }

    /** The custom namespace of the handler-error metric. */
    private metricNamespace(): pulumi.Output<string> {
        return pulumi.interpolate`${pulumi.getProject()}/${this.scope()}`;
    }

    /** One filter per function that answers HTTP (a trigger answers Cognito, not users: its failures are `Errors`). */
    private createHandlerErrorFilters(): aws.cloudwatch.LogMetricFilter[] {
        return this.args.functions.filter((fn) => fn.answersHttp).map(
            ({ handler, logGroup }) =>
                new aws.cloudwatch.LogMetricFilter(
                    `${this.name}-${handler}-handler-errors`,
                    {
                        logGroupName: logGroup.name,
                        pattern: HANDLER_ERROR_FILTER,
                        // No defaultValue: a zero for every unmatched line would cost a datapoint per log event.
                        metricTransformation: { namespace: this.metricNamespace(), name: HANDLER_ERROR_METRIC, value: "1", unit: "Count" },
                    },
                    { parent: this },
                ),
        );
    }

    private createHandlerErrorAlarm(filters: aws.cloudwatch.LogMetricFilter[]): void {
        this.alarm({
            role: "handler-errors",
            runbook: "handler-errors",
            description: "A handler caught an unexpected error and answered 500 (Lambda's Errors metric does not count these). Run the errors-by-route query.",
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            metric: { namespace: this.metricNamespace(), metricName: HANDLER_ERROR_METRIC, statistic: "Sum" },
            // The metric exists once the filters do.
            dependsOn: filters,
        });
    }

    /**
     * DynamoDB publishes ThrottledRequests and SystemErrors per `TableName` and `Operation`, never
     * per table alone: the alarm sums the operations the functions perform (metric math), so a new
     * function's operation joins the sum without a new alarm.
     */
    private tableOperations(): string[] {
        const operations = new Set<string>();
        for (const { tableActions } of this.args.functions) for (const action of tableActions) operations.add(action.replace(/^dynamodb:/, ""));
        return [...operations].sort();
    }

    private tableSum(metricName: string): pulumi.Input<aws.types.input.cloudwatch.MetricAlarmMetricQuery>[] {
        const operations = this.tableOperations();
        const queries: pulumi.Input<aws.types.input.cloudwatch.MetricAlarmMetricQuery>[] = operations.map((operation, i) => ({
            id: `m${i}`,
            returnData: false,
            metric: { namespace: "AWS/DynamoDB", metricName, dimensions: { TableName: this.args.tableName, Operation: operation }, period: ALARM_PERIOD_SECONDS, stat: "Sum" },
        }));
        queries.push({ id: "total", label: `${metricName} (all operations)`, expression: `SUM([${operations.map((_, i) => `m${i}`).join(",")}])`, returnData: true });
        return queries;
    }

    private createTableAlarms(): void {
        this.alarm({
            role: "table-throttles",
            runbook: "table-throttles",
            description: pulumi.interpolate`Table ${this.args.tableName} throttled requests; the handlers answer 503 with Retry-After. Check which operation (ThrottledRequests by Operation) and the table's capacity.`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            metricQueries: this.tableSum("ThrottledRequests"),
        });
        this.alarm({
            role: "table-system-errors",
            runbook: "table-system-errors",
            description: pulumi.interpolate`DynamoDB answered 500 on table ${this.args.tableName}; the handlers answer 503. Check the AWS Health Dashboard for DynamoDB in this Region.`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            metricQueries: this.tableSum("SystemErrors"),
        });
    }

    private createUserPoolAlarms(): void {
        const dimensions = { UserPool: this.args.userPoolId, UserPoolClient: this.args.userPoolClientId };
        for (const { metric, role, what } of COGNITO_THROTTLES) {
            this.alarm({
                role,
                runbook: role,
                description: pulumi.interpolate`Cognito throttled ${what} on User Pool ${this.args.userPoolId}; users cannot get in. Check the pool's quota usage (Service Quotas, Amazon Cognito user pools).`,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
                metric: { namespace: "AWS/Cognito", metricName: metric, dimensions, statistic: "Sum" },
            });
        }
    }

    /**
     * CloudWatch publishes to the topic with its own service principal, and must use the topic's
     * key to do so: the key policy and the topic policy both let it, for these alarms only. The
     * AWS-managed aws/sns key has a fixed policy without it, so alarms on such a topic deliver
     * nothing. In a key policy `Resource: "*"` means this key.
     */
    private allowAlarmsToPublish(): void {
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const alarmArns = this.alarms.map((alarm) => alarm.arn);
        const fromTheseAlarms = { StringEquals: { "aws:SourceAccount": account }, ArnEquals: { "aws:SourceArn": alarmArns } };
        new aws.kms.KeyPolicy(
            `${this.name}-alarms-key-policy`,
            {
                keyId: this.key.id,
                policy: policyJson([
                    {
                        // The account administers the key through IAM, as with KMS's default key policy.
                        Sid: "AccountAdministersKey",
                        Effect: "Allow",
                        Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` },
                        Action: [
                            "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*",
                            "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
                        ],
                        Resource: "*",
                    },
                    {
                        Sid: "CloudWatchAlarmsUseKey",
                        Effect: "Allow",
                        Principal: { Service: "cloudwatch.amazonaws.com" },
                        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                        Resource: "*",
                        Condition: fromTheseAlarms,
                    },
                ]),
            },
            { parent: this },
        );
        new aws.sns.TopicPolicy(
            `${this.name}-alarms-policy`,
            {
                arn: this.topic.arn,
                policy: policyJson([
                    {
                        Sid: "CloudWatchAlarmsPublish",
                        Effect: "Allow",
                        Principal: { Service: "cloudwatch.amazonaws.com" },
                        Action: "sns:Publish",
                        Resource: this.topic.arn,
                        Condition: fromTheseAlarms,
                    },
                ]),
            },
            { parent: this },
        );
    }

    private createDashboard(): aws.cloudwatch.Dashboard {
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const api = ["ApiId", this.args.apiId, "Stage", this.args.stageName];
        const fns = this.args.functions.map(({ function: fn }) => fn.name);
        const pool = ["UserPool", this.args.userPoolId, "UserPoolClient", this.args.userPoolClientId];
        const table = ["TableName", this.args.tableName];
        const ops = this.tableOperations();
        let y = 0;
        const row = (widgets: Record<string, unknown>[]) => {
            const width = 24 / widgets.length;
            const placed = widgets.map((widget, i) => ({ ...widget, x: i * width, y, width, height: 6 }));
            y += 6;
            return placed;
        };
        const graph = (title: string, metrics: unknown[], extra: Record<string, unknown> = {}) => ({
            type: "metric",
            properties: { title, region, view: "timeSeries", stacked: false, period: ALARM_PERIOD_SECONDS, metrics, ...extra },
        });
        const body = {
            widgets: [
                ...row([
                    graph("API requests", [["AWS/ApiGateway", "Count", ...api, { stat: "Sum" }]]),
                    graph("API 4xx and 5xx", [
                        ["AWS/ApiGateway", "4xx", ...api, { stat: "Sum" }],
                        ["AWS/ApiGateway", "5xx", ...api, { stat: "Sum" }],
                    ]),
                    graph("API latency (ms)", [
                        ["AWS/ApiGateway", "Latency", ...api, { stat: "p50" }],
                        ["AWS/ApiGateway", "Latency", ...api, { stat: "p99" }],
                        ["AWS/ApiGateway", "IntegrationLatency", ...api, { stat: "p99" }],
                    ]),
                ]),
                ...row([
                    graph("Function errors", fns.map((fn) => ["AWS/Lambda", "Errors", "FunctionName", fn, { stat: "Sum" }])),
                    graph("Function duration p99 (ms)", fns.map((fn) => ["AWS/Lambda", "Duration", "FunctionName", fn, { stat: "p99" }])),
                    graph("Function throttles", fns.map((fn) => ["AWS/Lambda", "Throttles", "FunctionName", fn, { stat: "Sum" }])),
                ]),
                ...row([
                    graph("Handler 5xx (log filter)", [[this.metricNamespace(), HANDLER_ERROR_METRIC, { stat: "Sum" }]]),
                    graph("Table throttled requests and system errors", [
                        ...ops.map((op) => ["AWS/DynamoDB", "ThrottledRequests", ...table, "Operation", op, { stat: "Sum" }]),
                        ...ops.map((op) => ["AWS/DynamoDB", "SystemErrors", ...table, "Operation", op, { stat: "Sum" }]),
                    ]),
                    graph("Table consumed capacity", [
                        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", ...table, { stat: "Sum" }],
                        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", ...table, { stat: "Sum" }],
                    ]),
                ]),
                ...row([
                    graph("Sign-ins and sign-ups", [
                        ["AWS/Cognito", "SignInSuccesses", ...pool, { stat: "Sum" }],
                        ["AWS/Cognito", "SignUpSuccesses", ...pool, { stat: "Sum" }],
                        ["AWS/Cognito", "TokenRefreshSuccesses", ...pool, { stat: "Sum" }],
                    ]),
                    graph("Cognito throttles", COGNITO_THROTTLES.map(({ metric }) => ["AWS/Cognito", metric, ...pool, { stat: "Sum" }])),
                ]),
                ...row([{ type: "alarm", properties: { title: "Alarms", alarms: this.alarms.map((alarm) => alarm.arn), sortBy: "stateUpdatedTimestamp" } }]),
            ],
        };
        return new aws.cloudwatch.Dashboard(
            `${this.name}-dashboard`,
            {
                // Dashboard names allow letters, digits, "-" and "_".
                dashboardName: this.scope().apply((scope) => scope.replace(/[^A-Za-z0-9_-]/g, "-")),
                dashboardBody: pulumi.jsonStringify(body),
            },
            { parent: this },
        );
    }

    /**
     * Saved Logs Insights queries over the functions' log groups. The functions log in JSON, where
     * Lambda's REPORT line is the `platform.report` record (its `initDurationMs` marks a cold start).
     */
    private createSavedQueries(): void {
        const logGroupNames = this.args.functions.map(({ logGroup }) => logGroup.name);
        for (const [role, title, queryString] of SAVED_QUERIES) {
            // A "/" in the name makes a folder in the console: one per instance.
            new aws.cloudwatch.QueryDefinition(`${this.name}-${role}`, { name: pulumi.interpolate`${this.scope()}/${title}`, logGroupNames, queryString }, { parent: this });
        }
    }
}

/** The saved queries: logical-name suffix, title, query. docs/operations.md runs them. */
export const SAVED_QUERIES: readonly [string, string, string][] = [
    [
        "errors-by-route",
        "errors by route",
        'fields @timestamp, route, statusCode, error.name, error.message, requestId\n| filter level = "ERROR" or statusCode >= 500\n| stats count(*) as errors by route, statusCode, error.name\n| sort errors desc',
    ],
    [
        "slowest-requests",
        "slowest requests",
        'fields @timestamp, route, statusCode, durationMs, requestId, apiRequestId\n| filter message = "Request handled"\n| sort durationMs desc\n| limit 25',
    ],
    [
        "cold-starts",
        "cold starts",
        'fields @timestamp, @log, record.requestId, record.metrics.initDurationMs, record.metrics.durationMs\n| filter type = "platform.report" and ispresent(record.metrics.initDurationMs)\n| stats count(*) as coldStarts, avg(record.metrics.initDurationMs) as avgInitMs, max(record.metrics.initDurationMs) as maxInitMs by @log, bin(1h)',
    ],
];
