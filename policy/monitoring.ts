import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { stackPolicy } from "./define";
import { isUnknownValueError, items } from "./util";

export const TYPES = {
    alarm: ["aws:cloudwatch/metricAlarm:MetricAlarm"],
    topic: ["aws:sns/topic:Topic"],
} as const;

/** A value that may be unknown at preview; undefined then (the check runs at `pulumi up`). */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (isUnknownValueError(error)) return undefined;
        throw error;
    }
}

/** The metrics an alarm reads: its own, and each metric query's. */
function alarmMetrics(props: Record<string, any>): { namespace: string; metricName: string; dimensions: Record<string, string> }[] {
    const metrics: { namespace: string; metricName: string; dimensions: Record<string, string> }[] = [];
    if (typeof props.namespace === "string") metrics.push({ namespace: props.namespace, metricName: String(props.metricName ?? ""), dimensions: props.dimensions ?? {} });
    for (const query of items<Record<string, any>>(props.metricQueries)) {
        if (query?.metric && typeof query.metric.namespace === "string") {
            metrics.push({ namespace: query.metric.namespace, metricName: String(query.metric.metricName ?? ""), dimensions: query.metric.dimensions ?? {} });
        }
    }
    return metrics;
}

/** The identifiers a dimension may name, read from the stack's resources of some types (known values only). */
function valuesOf(resources: PolicyResource[], types: string[], read: (props: Record<string, any>) => unknown[]): Set<string> {
    const values = new Set<string>();
    for (const resource of resources) {
        if (!types.includes(resource.type)) continue;
        for (const value of known(() => read(resource.props)) ?? []) if (typeof value === "string" && value !== "") values.add(value);
    }
    return values;
}

/** The last segment of an ARN after `marker` (`…/apis/<id>`, `…:userpool/<id>`). */
const after = (marker: string) => (arn: unknown) => (typeof arn === "string" && arn.includes(marker) ? arn.slice(arn.lastIndexOf(marker) + marker.length) : undefined);

/**
 * What each AWS namespace is published under, per the services' CloudWatch documentation: the
 * dimension, the stack resources whose outputs it must name, and dimensions that never carry data.
 */
interface NamespaceRule {
    dimension: string;
    types: string[];
    read: (props: Record<string, any>) => unknown[];
    what: string;
}

const RULES: Record<string, NamespaceRule[]> = {
    "AWS/ApiGateway": [{ dimension: "ApiId", types: ["aws:apigatewayv2/api:Api"], read: (p) => [p.id, after("/apis/")(p.arn)], what: "HTTP or WebSocket API id" }],
    "AWS/Lambda": [{ dimension: "FunctionName", types: ["aws:lambda/function:Function"], read: (p) => [p.name], what: "function name" }],
    "AWS/DynamoDB": [{ dimension: "TableName", types: ["aws:dynamodb/table:Table"], read: (p) => [p.name], what: "table name" }],
    "AWS/Cognito": [
        { dimension: "UserPool", types: ["aws:cognito/userPool:UserPool"], read: (p) => [p.id, after("userpool/")(p.arn)], what: "User Pool id" },
        { dimension: "UserPoolClient", types: ["aws:cognito/userPoolClient:UserPoolClient"], read: (p) => [p.id], what: "app client id" },
    ],
};

/** DynamoDB publishes these per `TableName` and `Operation` only ("DynamoDB metrics and dimensions"). */
const PER_OPERATION = new Set(["ThrottledRequests", "SystemErrors", "SuccessfulRequestLatency", "ReturnedItemCount"]);

export const alarmWatchesStackResources: StackValidationPolicy = stackPolicy({
    name: "cloudwatch-alarm-dimensions",
    description:
        "Checks that every CloudWatch alarm on an API Gateway, Lambda, DynamoDB or Cognito metric names, in the dimensions AWS publishes that metric under, a resource of this stack (an alarm on a misspelled or wrong dimension deploys and never fires).",
    validate: (resources, ctx) => {
        const httpApis = resources.some((r) => r.type === "aws:apigatewayv2/api:Api");
        for (const alarm of resources) {
            if (!(TYPES.alarm as readonly string[]).includes(alarm.type)) continue;
            ctx.check("its metrics", alarm, () => {
                for (const { namespace, metricName, dimensions } of alarmMetrics(alarm.props)) {
                    const where = `Alarm ${alarm.name} (${namespace} ${metricName})`;
                    if (namespace === "AWS/ApiGateway" && "ApiName" in dimensions && httpApis && !("ApiId" in dimensions)) {
                        ctx.report(`${where} must use the ApiId dimension for an HTTP API, found ApiName: HTTP APIs publish no ApiName metrics.`, alarm.urn);
                    }
                    if (namespace === "AWS/DynamoDB" && PER_OPERATION.has(metricName) && !("Operation" in dimensions)) {
                        ctx.report(`${where} must name an Operation dimension: DynamoDB publishes ${metricName} per TableName and Operation, never per table alone.`, alarm.urn);
                    }
                    for (const rule of RULES[namespace] ?? []) {
                        const value = dimensions[rule.dimension];
                        if (value === undefined) continue;
                        const stack = valuesOf(resources, rule.types, rule.read);
                        // A stack without such a resource watches one deployed elsewhere: nothing to compare.
                        if (stack.size === 0 || typeof value !== "string") continue;
                        if (!stack.has(value)) {
                            ctx.report(`${where} must name a ${rule.what} of this stack in ${rule.dimension}, found "${value}" (the stack has ${[...stack].map((v) => `"${v}"`).join(", ")}).`, alarm.urn);
                        }
                    }
                }
            });
        }
    },
});

/** `alias/aws/sns` or an ARN ending in it: the AWS-managed key SNS uses by default. */
function awsManagedSnsKey(key: unknown): boolean {
    return typeof key === "string" && /(^|:)alias\/aws\/sns$/.test(key);
}

export const alarmTopicCustomerKey: StackValidationPolicy = stackPolicy({
    name: "cloudwatch-alarm-topic-customer-key",
    description:
        "Checks that no SNS topic an alarm notifies is encrypted with the AWS-managed aws/sns key, which CloudWatch cannot use (SNS: compatibility between event sources from AWS services and encrypted topics); such alarms deploy and deliver nothing.",
    validate: (resources, ctx) => {
        const notified = new Set<string>();
        for (const alarm of resources) {
            if (!(TYPES.alarm as readonly string[]).includes(alarm.type)) continue;
            for (const key of ["alarmActions", "okActions", "insufficientDataActions"]) {
                for (const arn of items(known(() => alarm.props[key]))) if (typeof arn === "string") notified.add(arn);
            }
        }
        for (const topic of resources) {
            if (!(TYPES.topic as readonly string[]).includes(topic.type)) continue;
            ctx.check("its key", topic, () => {
                if (!notified.has(topic.props.arn) || !awsManagedSnsKey(topic.props.kmsMasterKeyId)) return;
                ctx.report(
                    `Topic ${topic.name} must be encrypted with a customer-managed KMS key whose policy lets cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*), found ${topic.props.kmsMasterKeyId}: alarms notify it and CloudWatch cannot use that key.`,
                    topic.urn,
                );
            });
        }
    },
});

export const monitoringPolicies: StackValidationPolicy[] = [alarmWatchesStackResources, alarmTopicCustomerKey];
