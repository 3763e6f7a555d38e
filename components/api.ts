import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Bundle, bundleHandlers, LAMBDA_HANDLER } from "../lib/bundle";
import { policyJson, serviceTrustPolicy } from "../lib/iam";
import type { MonitoredFunction } from "./monitoring";

/**
 * The five functions, one per route, in the order of `NOTES_ROUTES`. Tooling (bench, security
 * matrix, tests) imports these names from here.
 */
export const HANDLER_NAMES = ["create", "list", "get", "update", "delete"] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

export interface NotesRoute {
    handler: HandlerName;
    method: "GET" | "POST" | "PUT" | "DELETE";
    path: "/notes" | "/notes/{id}";
    /** The only DynamoDB actions this route's function may perform, on the notes table only. */
    tableActions: string[];
    /** The function removes the note's attachment from the caller's prefix in the bucket. */
    deletesAttachments?: boolean;
}

/** Every route of the API; nothing else is routed (no `$default`, no catch-all). */
export const NOTES_ROUTES: readonly NotesRoute[] = [
    { handler: "create", method: "POST", path: "/notes", tableActions: ["dynamodb:PutItem"] },
    { handler: "list", method: "GET", path: "/notes", tableActions: ["dynamodb:Query"] },
    { handler: "get", method: "GET", path: "/notes/{id}", tableActions: ["dynamodb:GetItem"] },
    // Update and delete read the note after a failed conditional write, to answer 412 (stale
    // If-Match) rather than 404 (no such note).
    { handler: "update", method: "PUT", path: "/notes/{id}", tableActions: ["dynamodb:UpdateItem", "dynamodb:GetItem"] },
    {
        handler: "delete",
        method: "DELETE",
        path: "/notes/{id}",
        tableActions: ["dynamodb:DeleteItem", "dynamodb:GetItem"],
        deletesAttachments: true,
    },
];

/** Headers a browser sends on a SigV4-signed call; `*` would not cover `authorization`. */
export const API_CORS_ALLOW_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-user-agent",
    "if-match",
];

/** Response headers browser code may read: `ETag` for If-Match, `Retry-After` on 503 answers. */
const API_CORS_EXPOSE_HEADERS = ["etag", "retry-after"];

/**
 * The execute-api ARN of a route. The stage segment is `*`: routes belong to the API, not to a
 * stage, so every stage of this API serves the same five routes, and the ARN does not depend on
 * how the `$default` stage is spelled. Path parameters become `*` because IAM matches the
 * request path (`/notes/01J…`), not the route template.
 */
export function routeArnPattern(executionArn: string, route: { method: string; path: string }): string {
    return `${executionArn}/*/${route.method}${route.path.replace(/\{[^}]+\}/g, "*")}`;
}

/** Where the stage's access log group lives: CloudWatch Logs' prefix for vended logs. */
const ACCESS_LOG_GROUP_PREFIX = "/aws/vendedlogs/apis/";

/** Log group names allow letters, digits and `_-/.#`; anything else in a component name becomes `-`. */
function logGroupSafe(name: string): string {
    return name.replace(/[^\w\-/.#]/g, "-");
}

function routeArn(executionArn: pulumi.Input<string>, route: NotesRoute): pulumi.Output<string> {
    return pulumi.output(executionArn).apply((arn) => routeArnPattern(arn, route));
}

export interface NotesApiArgs {
    /** Name of the notes table, passed to every function as `TABLE_NAME`. */
    tableName: pulumi.Input<string>;
    /** ARN of the notes table, the only table any function may touch. */
    tableArn: pulumi.Input<string>;
    /** Name of the uploads bucket, passed to every function as `BUCKET_NAME`. */
    bucketName: pulumi.Input<string>;
    /** ARN of the uploads bucket; only the delete function may remove attachments under `private/`. */
    bucketArn: pulumi.Input<string>;
    /** Browser origins allowed by the API's CORS. Fed by `corsAllowedOrigins`. */
    corsAllowedOrigins: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Retention of the access log and of each function's log group. Fed by `logRetentionDays`
     * (default in Pulumi.yaml, like every setting below).
     */
    logRetentionDays: number;
    /** Stage-wide burst limit. Fed by `throttlingBurstLimit`. */
    throttlingBurstLimit: number;
    /** Stage-wide steady-state request rate per second. Fed by `throttlingRateLimit`. */
    throttlingRateLimit: number;
    /** Memory of each function in MB. Fed by `lambdaMemorySize`. */
    memorySize: number;
    /** Timeout of each function in seconds. Fed by `lambdaTimeoutSeconds`. */
    timeoutSeconds: number;
    /**
     * Lambda active tracing (X-Ray), with the two X-Ray actions it needs. Fed by `tracing`. The
     * HTTP API itself has no X-Ray tracing (API Gateway offers it for REST APIs only).
     */
    tracing: boolean;
}

/**
 * What active tracing needs: the Lambda service sends the segments with the function's role
 * (AWSXRayDaemonWriteAccess minus sampling rules, which only the X-Ray SDK reads). X-Ray defines no
 * resource types, so these actions take `*` and nothing narrower.
 */
export const XRAY_TRACING_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

/** One handler's deployed pieces; what NotesMonitoring watches of it. */
export interface NotesFunction extends MonitoredFunction {
    route: NotesRoute;
    function: aws.lambda.Function;
    role: aws.iam.Role;
    logGroup: aws.cloudwatch.LogGroup;
}

/**
 * The notes HTTP API: five IAM-authorized routes, each backed by its own Lambda function and its
 * own least-privilege role, with CORS answered by the gateway and JSON access logs.
 */
export class NotesApi extends pulumi.ComponentResource {
    readonly api: aws.apigatewayv2.Api;
    readonly stage: aws.apigatewayv2.Stage;
    readonly functions: NotesFunction[];
    readonly apiId: pulumi.Output<string>;
    readonly executionArn: pulumi.Output<string>;
    /** Base URL clients call (`https://<id>.execute-api.<region>.amazonaws.com/`). */
    readonly url: pulumi.Output<string>;
    /** execute-api ARNs of the routes, one per route: what a caller must be allowed to invoke. */
    readonly routeArns: pulumi.Output<string>[];

    constructor(name: string, args: NotesApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notes:api:NotesApi", name, {}, opts);
        const { logRetentionDays } = args;

        this.api = new aws.apigatewayv2.Api(
            `${name}-http`,
            {
                protocolType: "HTTP",
                description: "Notes API: every route requires SigV4 (AWS_IAM) from Cognito identity credentials",
                corsConfiguration: {
                    allowOrigins: args.corsAllowedOrigins,
                    allowMethods: ["GET", "POST", "PUT", "DELETE"],
                    allowHeaders: API_CORS_ALLOW_HEADERS,
                    exposeHeaders: API_CORS_EXPOSE_HEADERS,
                    maxAge: 600,
                },
            },
            { parent: this },
        );
        this.stage = this.createStage(name, args, logRetentionDays);
        const bundles = bundleHandlers(NOTES_ROUTES.map((route) => route.handler));
        this.functions = NOTES_ROUTES.map((route) => this.createRoute(name, route, bundles.get(route.handler)!, args, logRetentionDays));

        this.apiId = this.api.id;
        this.executionArn = this.api.executionArn;
        this.url = this.stage.invokeUrl;
        this.routeArns = NOTES_ROUTES.map((route) => routeArn(this.api.executionArn, route));
        this.registerOutputs({ apiId: this.apiId, url: this.url, executionArn: this.executionArn });
    }

    private createStage(name: string, args: NotesApiArgs, retentionInDays: number): aws.apigatewayv2.Stage {
        // Under /aws/vendedlogs/ the stage's log delivery does not add this group to the account's
        // CloudWatch Logs resource policy (5,120 characters), which full accounts fail to grow. The
        // API id makes the name unique per account and Region, and no stack rename changes it.
        const accessLogs = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            { name: pulumi.interpolate`${ACCESS_LOG_GROUP_PREFIX}${logGroupSafe(name)}-${this.api.id}`, retentionInDays },
            { parent: this },
        );
        return new aws.apigatewayv2.Stage(
            `${name}-stage`,
            {
                apiId: this.api.id,
                name: "$default",
                autoDeploy: true,
                accessLogSettings: {
                    destinationArn: accessLogs.arn,
                    format: JSON.stringify({
                        requestId: "$context.requestId",
                        requestTime: "$context.requestTime",
                        sourceIp: "$context.identity.sourceIp",
                        cognitoIdentityId: "$context.identity.cognitoIdentityId",
                        routeKey: "$context.routeKey",
                        status: "$context.status",
                        responseLength: "$context.responseLength",
                        integrationError: "$context.integrationErrorMessage",
                    }),
                },
                defaultRouteSettings: {
                    throttlingBurstLimit: args.throttlingBurstLimit,
                    throttlingRateLimit: args.throttlingRateLimit,
                },
            },
            { parent: this },
        );
    }

    private createRoute(name: string, route: NotesRoute, bundle: Bundle, args: NotesApiArgs, retentionInDays: number): NotesFunction {
        const prefix = `${name}-${route.handler}`;
        const logGroup = new aws.cloudwatch.LogGroup(`${prefix}-logs`, { retentionInDays }, { parent: this });
        const role = new aws.iam.Role(
            `${prefix}-role`,
            {
                description: `Notes ${route.method} ${route.path} function: ${route.tableActions.join(", ")} on the notes table`,
                assumeRolePolicy: serviceTrustPolicy("lambda.amazonaws.com"),
            },
            { parent: this },
        );
        const rolePolicy = new aws.iam.RolePolicy(
            `${prefix}-policy`,
            { role: role.id, policy: this.functionPolicy(route, args, logGroup) },
            { parent: this },
        );

        const fn = new aws.lambda.Function(
            prefix,
            {
                description: `Notes API ${route.method} ${route.path}`,
                runtime: aws.lambda.Runtime.NodeJS22dX,
                architectures: ["arm64"],
                handler: LAMBDA_HANDLER,
                code: new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(bundle.files).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]))),
                role: role.arn,
                memorySize: args.memorySize,
                timeout: args.timeoutSeconds,
                environment: {
                    variables: {
                        TABLE_NAME: args.tableName,
                        BUCKET_NAME: args.bucketName,
                    },
                },
                // INFO keeps Lambda's START and REPORT lines (REPORT carries Init Duration); WARN drops them.
                loggingConfig: { logFormat: "JSON", logGroup: logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "INFO" },
                tracingConfig: { mode: args.tracing ? "Active" : "PassThrough" },
            },
            { parent: this, dependsOn: [rolePolicy] },
        );

        const integration = new aws.apigatewayv2.Integration(
            `${prefix}-integration`,
            {
                apiId: this.api.id,
                integrationType: "AWS_PROXY",
                integrationMethod: "POST",
                integrationUri: fn.arn,
                payloadFormatVersion: "2.0",
            },
            { parent: this },
        );
        new aws.apigatewayv2.Route(
            `${prefix}-route`,
            {
                apiId: this.api.id,
                routeKey: `${route.method} ${route.path}`,
                target: pulumi.interpolate`integrations/${integration.id}`,
                authorizationType: "AWS_IAM",
            },
            { parent: this },
        );
        new aws.lambda.Permission(
            `${prefix}-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: fn.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: routeArn(this.api.executionArn, route),
            },
            { parent: this },
        );
        return { route, function: fn, role, logGroup, handler: route.handler, invokedBy: `${route.method} ${route.path}`, answersHttp: true, tableActions: route.tableActions };
    }

    private functionPolicy(route: NotesRoute, args: NotesApiArgs, logGroup: aws.cloudwatch.LogGroup): pulumi.Output<string> {
        const statements: pulumi.Input<aws.iam.PolicyStatement>[] = [
            { Sid: "NotesTable", Effect: "Allow", Action: route.tableActions, Resource: args.tableArn },
            {
                Sid: "OwnLogGroup",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: pulumi.interpolate`${logGroup.arn}:*`,
            },
        ];
        if (args.tracing) {
            statements.push({ Sid: "XRayTracing", Effect: "Allow", Action: XRAY_TRACING_ACTIONS, Resource: "*" });
        }
        if (route.deletesAttachments) {
            statements.push({
                Sid: "AttachmentCleanup",
                Effect: "Allow",
                Action: "s3:DeleteObject",
                Resource: pulumi.interpolate`${args.bucketArn}/private/*`,
            });
        }
        return policyJson(statements);
    }
}
