import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Bundle, bundleHandler, LAMBDA_HANDLER } from "../lib/bundle";
import { policyJson, serviceTrustPolicy } from "../lib/iam";
import { HANDLER_NAMES, routeArnPattern, XRAY_TRACING_ACTIONS } from "./api";
import type { MonitoredFunction } from "./monitoring";

/** The account route: it erases the caller's account and all its data. */
export const ACCOUNT_ROUTE = { handler: "account", method: "DELETE", path: "/account" } as const;

/**
 * Every function the program deploys: the five note routes' (`HANDLER_NAMES`) and the account
 * route's. Tooling (bench, security matrix) imports these names from here.
 */
/**
 * The account function's timeout: the most an HTTP API waits for an integration is 30 s, and each
 * call erases what fits in it, so the longest timeout takes the fewest calls. It only bounds a
 * call; an erasure that needs less ends sooner.
 */
export const ACCOUNT_TIMEOUT_SECONDS = 29;

/** The only DynamoDB actions the account function may perform, on the notes table only: Query the caller's partition, delete its items 25 at a time. */
export const ACCOUNT_TABLE_ACTIONS = ["dynamodb:Query", "dynamodb:BatchWriteItem"] as const;

export const FUNCTION_NAMES = [...HANDLER_NAMES, ACCOUNT_ROUTE.handler] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/**
 * The execute-api ARN of `DELETE /account` on an API: what a signed-in user must be allowed to
 * invoke. A function of the API alone, so the Identity Pool's role can name it before this
 * component exists (the component needs the pools that role belongs to).
 */
export function accountRouteArn(executionArn: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(executionArn).apply((arn) => routeArnPattern(arn, ACCOUNT_ROUTE));
}

export interface NotesAccountArgs {
    /** The notes HTTP API the route is added to. */
    apiId: pulumi.Input<string>;
    /** Its execution ARN, which the invoke permission's `sourceArn` names. */
    apiExecutionArn: pulumi.Input<string>;
    /** Name of the notes table (`TABLE_NAME`). */
    tableName: pulumi.Input<string>;
    /** ARN of the notes table: the function may Query and BatchWriteItem on it only. */
    tableArn: pulumi.Input<string>;
    /** Name of the uploads bucket (`BUCKET_NAME`). */
    bucketName: pulumi.Input<string>;
    /** ARN of the uploads bucket: the function may list and delete under `private/` only. */
    bucketArn: pulumi.Input<string>;
    /** The User Pool whose users the function deletes (`AdminDeleteUser` on it only). */
    userPoolId: pulumi.Input<string>;
    userPoolArn: pulumi.Input<string>;
    /** The pool's provider name, `cognito-idp.<region>.amazonaws.com/<pool id>`: what the caller's `amr` must name. */
    userPoolEndpoint: pulumi.Input<string>;
    /** The Identity Pool whose identities the function deletes (`DeleteIdentities` on it only). */
    identityPoolId: pulumi.Input<string>;
    identityPoolArn: pulumi.Input<string>;
    /** Retention of the function's log group. Fed by `logRetentionDays`. */
    logRetentionDays: number;
    /** Memory of the function in MB. Fed by `lambdaMemorySize`. */
    memorySize: number;
    /** Lambda active tracing (X-Ray), with the two X-Ray actions it needs, as NotesApi's functions. Fed by `tracing`. */
    tracing: boolean;
}

/**
 * `DELETE /account` on the notes API: its own function and its own least-privilege role, which
 * may delete the caller's notes (this table), every version of its files (`private/` of this
 * bucket), its identity (this Identity Pool) and its user (this User Pool), and nothing else.
 */
export class NotesAccount extends pulumi.ComponentResource implements MonitoredFunction {
    readonly function: aws.lambda.Function;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly route: aws.apigatewayv2.Route;
    /** What NotesMonitoring watches: the handler naming its alarms, its route, its table actions. */
    readonly handler = ACCOUNT_ROUTE.handler;
    readonly invokedBy = `${ACCOUNT_ROUTE.method} ${ACCOUNT_ROUTE.path}`;
    readonly answersHttp = true;
    readonly tableActions: readonly string[] = ACCOUNT_TABLE_ACTIONS;

    constructor(name: string, args: NotesAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notes:account:NotesAccount", name, {}, opts);
        // Children are named like NotesApi's (`<name>-account`, `<name>-account-role`, …).
        name = `${name}-${ACCOUNT_ROUTE.handler}`;
        this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays }, { parent: this });
        const [role, rolePolicy] = this.createRole(name, args);
        this.role = role;
        this.function = this.createFunction(name, args, bundleHandler(ACCOUNT_ROUTE.handler), rolePolicy);
        this.route = this.createRoute(name, args);
        this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
    }

    private createRole(name: string, args: NotesAccountArgs): [aws.iam.Role, aws.iam.RolePolicy] {
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `Notes ${ACCOUNT_ROUTE.method} ${ACCOUNT_ROUTE.path} function: erases the caller's notes, files, identity and user`,
                assumeRolePolicy: serviceTrustPolicy("lambda.amazonaws.com"),
            },
            { parent: this },
        );
        const files = pulumi.interpolate`${args.bucketArn}/private/*`;
        const rolePolicy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: role.id,
                policy: policyJson([
                    { Sid: "EraseNotes", Effect: "Allow", Action: [...ACCOUNT_TABLE_ACTIONS], Resource: args.tableArn },
                    {
                        Sid: "ListFileVersions",
                        Effect: "Allow",
                        Action: "s3:ListBucketVersions",
                        Resource: args.bucketArn,
                        Condition: { StringLike: { "s3:prefix": "private/*" } },
                    },
                    // DeleteObjects is authorized per key: DeleteObjectVersion for a version id
                    // (every call names one), DeleteObject for a key alone.
                    { Sid: "EraseFileVersions", Effect: "Allow", Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: files },
                    {
                        // DeleteIdentities has no resource type ("Actions, resources, and condition
                        // keys for Amazon Cognito Identity": Resource must be "*"); the pool is
                        // named by its condition key instead.
                        Sid: "EraseIdentity",
                        Effect: "Allow",
                        Action: "cognito-identity:DeleteIdentities",
                        Resource: "*",
                        Condition: { StringEquals: { "cognito-identity:IdentityPoolArn": args.identityPoolArn } },
                    },
                    { Sid: "EraseUser", Effect: "Allow", Action: "cognito-idp:AdminDeleteUser", Resource: args.userPoolArn },
                    // X-Ray defines no resource types: these two actions take "*" only.
                    ...(args.tracing ? [{ Sid: "XRayTracing", Effect: "Allow" as const, Action: XRAY_TRACING_ACTIONS, Resource: "*" }] : []),
                    {
                        Sid: "OwnLogGroup",
                        Effect: "Allow",
                        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                        Resource: pulumi.interpolate`${this.logGroup.arn}:*`,
                    },
                ]),
            },
            { parent: this },
        );
        return [role, rolePolicy];
    }

    private createFunction(name: string, args: NotesAccountArgs, bundle: Bundle, rolePolicy: aws.iam.RolePolicy): aws.lambda.Function {
        return new aws.lambda.Function(
            name,
            {
                description: `Notes API ${ACCOUNT_ROUTE.method} ${ACCOUNT_ROUTE.path}`,
                runtime: aws.lambda.Runtime.NodeJS22dX,
                architectures: ["arm64"],
                handler: LAMBDA_HANDLER,
                code: new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(bundle.files).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]))),
                role: this.role.arn,
                memorySize: args.memorySize,
                timeout: ACCOUNT_TIMEOUT_SECONDS,
                environment: {
                    variables: {
                        TABLE_NAME: args.tableName,
                        BUCKET_NAME: args.bucketName,
                        USER_POOL_ID: args.userPoolId,
                        USER_POOL_PROVIDER_NAME: args.userPoolEndpoint,
                        IDENTITY_POOL_ID: args.identityPoolId,
                    },
                },
                loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "INFO" },
                tracingConfig: { mode: args.tracing ? "Active" : "PassThrough" },
            },
            { parent: this, dependsOn: [rolePolicy] },
        );
    }

    private createRoute(name: string, args: NotesAccountArgs): aws.apigatewayv2.Route {
        const integration = new aws.apigatewayv2.Integration(
            `${name}-integration`,
            { apiId: args.apiId, integrationType: "AWS_PROXY", integrationMethod: "POST", integrationUri: this.function.arn, payloadFormatVersion: "2.0" },
            { parent: this },
        );
        new aws.lambda.Permission(
            `${name}-invoke`,
            { action: "lambda:InvokeFunction", function: this.function.name, principal: "apigateway.amazonaws.com", sourceArn: accountRouteArn(args.apiExecutionArn) },
            { parent: this },
        );
        return new aws.apigatewayv2.Route(
            `${name}-route`,
            {
                apiId: args.apiId,
                routeKey: `${ACCOUNT_ROUTE.method} ${ACCOUNT_ROUTE.path}`,
                target: pulumi.interpolate`integrations/${integration.id}`,
                authorizationType: "AWS_IAM",
            },
            { parent: this },
        );
    }
}
