import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { describeInvokeFailure, findAnswer, InvokeAnswers, InvokeFailure, isProviderError, pureInvoke } from "./invokes";

/** Everything the mock engine saw of one resource registration. */
export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    /** URN of the parent resource (the component, or the stack). */
    parent?: string;
    id: string;
    custom: boolean;
    /** Inputs as the program passed them (what a CrossGuard resource policy sees as `props`). */
    inputs: Record<string, any>;
    /** Outputs the engine answered with (what a stack policy sees as `props`). */
    state: Record<string, any>;
    provider?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    options: { protect: boolean; retainOnDelete: boolean; ignoreChanges: string[] };
    /** A multi-language component (its provider plugin builds the children): offline, its children and outputs are unknown. */
    remote?: boolean;
    /** Inputs the program passed as Pulumi secrets (`providerDetails`, `a.b`), when any: what the state keeps encrypted. */
    secretInputs?: string[];
}

/** What a materializer (the local cloud) may change of the synthesized answer. */
export interface Materialized {
    id?: string;
    state?: Record<string, any>;
}

/** Called for each registration after the state is synthesized; may provision something real. */
export type Materializer = (
    resource: Omit<RecordedResource, "id" | "state">,
    synthesized: { id: string; state: Record<string, any> },
) => Promise<Materialized | undefined> | Materialized | undefined;

export interface MockEnvironment {
    region: string;
    accountId: string;
    /**
     * The stack sets no aws:region (nor AWS_REGION): the first use of the default AWS provider
     * fails with a ConfigError, as the CLI's provider would.
     */
    missingRegion?: { stack: string };
    /** Answers given for invokes that need the cloud (`--invoke-answers`). */
    invokeAnswers?: InvokeAnswers;
}

/** Stack configuration the program needs and does not have; names the key. */
export class ConfigError extends Error {
    constructor(
        readonly key: string,
        message: string,
    ) {
        super(message);
        this.name = "ConfigError";
    }
}

interface RequestMeta {
    urn: string;
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    options: RecordedResource["options"];
    remote?: boolean;
    /** The request's inputs before deserialization, which keeps the places of unknown values. */
    rawInputs?: unknown;
}

/** The engine's sentinel for a value unknown at the time (also the policy SDK's unknown string). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Pulumi's marker key for special values (secrets, assets, resource references) and its secret value. */
const SPECIAL_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The paths of the values a request marked secret. */
export function secretPaths(raw: any, at = ""): string[] {
    if (raw === null || typeof raw !== "object") return [];
    if (raw[SPECIAL_SIG] === SECRET_SIG) return [at];
    const join = (key: string | number) => (at === "" ? String(key) : `${at}.${key}`);
    if (Array.isArray(raw)) return raw.flatMap((item, index) => secretPaths(item, join(index)));
    return Object.entries(raw).flatMap(([key, item]) => secretPaths(item, join(key)));
}

/**
 * Mocks deserialize an unknown input as `undefined` outside preview, so a policy would read it as
 * absent. Put the sentinel back where the request had one, so policies report it as unknown.
 */
export function restoreUnknowns(value: any, raw: any): any {
    if (raw === UNKNOWN_VALUE) return UNKNOWN_VALUE;
    if (raw === null || typeof raw !== "object") return value;
    if (raw[SPECIAL_SIG] !== undefined) return raw[SPECIAL_SIG] === SECRET_SIG ? restoreUnknowns(value, raw.value) : value;
    if (Array.isArray(raw)) return raw.map((item, index) => restoreUnknowns(Array.isArray(value) ? value[index] : undefined, item));
    const out: Record<string, any> = value !== null && typeof value === "object" ? { ...value } : {};
    for (const [key, item] of Object.entries(raw)) out[key] = restoreUnknowns(out[key], item);
    return out;
}

/**
 * Pulumi mocks that answer like AWS would (ARNs, endpoints, ids in AWS's formats, derived from the
 * URN so every run is identical) and record every registration in order.
 */
export class ProgramMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    /** Set by the monitor wrapper just before it calls `newResource` for the same request. */
    pending?: RequestMeta;
    /** The first missing configuration the program ran into (see `MockEnvironment.missingRegion`). */
    configProblem?: ConfigError;
    /** Invokes that got no answer or were rejected: each leaves the run incomplete. */
    readonly invokeFailures: InvokeFailure[] = [];

    constructor(
        readonly env: MockEnvironment,
        private readonly materialize?: Materializer,
    ) {}

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
        const meta = this.pending;
        this.pending = undefined;
        const urn = meta?.urn ?? `urn:pulumi:unknown::unknown::${args.type}::${args.name}`;
        this.requireRegion(args.type, args.provider, args.custom ?? true);
        const rawInputs = meta?.rawInputs;
        const inputs = rawInputs !== undefined && JSON.stringify(rawInputs).includes(UNKNOWN_VALUE) ? restoreUnknowns(args.inputs ?? {}, rawInputs) : (args.inputs ?? {});
        const secretInputs = secretPaths(rawInputs);
        const base = {
            type: args.type,
            name: args.name,
            urn,
            parent: meta?.parent,
            custom: args.custom ?? true,
            inputs,
            provider: args.provider,
            dependencies: meta?.dependencies ?? [],
            propertyDependencies: meta?.propertyDependencies ?? {},
            options: meta?.options ?? { protect: false, retainOnDelete: false, ignoreChanges: [] },
            ...(meta?.remote ? { remote: true } : {}),
            ...(secretInputs.length > 0 ? { secretInputs } : {}),
        };
        const synthesized = base.custom ? synthesize(args.type, args.name, base.inputs, urn, this.env) : { id: "", state: {} };
        const extra = this.materialize ? await this.materialize(base, synthesized) : undefined;
        const id = extra?.id ?? synthesized.id;
        const state = { ...synthesized.state, ...(extra?.state ?? {}) };
        this.resources.push({ ...base, id, state });
        return { id: base.custom ? id : undefined, state };
    }

    /** AWS resources and invokes on the default provider need aws:region, as under the CLI. */
    private requireRegion(token: string, provider: string | undefined, custom: boolean): void {
        if (!this.env.missingRegion || !custom || !token.startsWith("aws:") || provider) return;
        const { stack } = this.env.missingRegion;
        this.configProblem ??= new ConfigError(
            "aws:region",
            `Stack ${stack} is missing required configuration key aws:region (the AWS provider needs a region for ${token}): set it with \`pulumi config set aws:region <region> --stack ${stack}\` or the AWS_REGION environment variable.`,
        );
        throw this.configProblem;
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        this.requireRegion(args.token, args.provider, true);
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        let answer: Record<string, unknown> | undefined;
        try {
            answer = pureInvoke(args.token, inputs, this.env) ?? findAnswer(this.env.invokeAnswers, args.token, inputs);
        } catch (error) {
            if (!isProviderError(error)) throw error;
            // The provider refuses these inputs: the invoke is rejected, as under the CLI.
            this.invokeFailures.push({ token: args.token, inputs, kind: "rejected", message: error.message });
            throw error;
        }
        if (answer !== undefined) return answer;
        const failure: InvokeFailure = { token: args.token, inputs, kind: "unanswered", message: "" };
        failure.message = describeInvokeFailure(failure);
        this.invokeFailures.push(failure);
        throw new Error(failure.message);
    }
}

/** Deterministic lowercase alphanumerics derived from a seed (stable ids across runs). */
function token(seed: string, length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"): string {
    const bytes = createHash("sha256").update(seed).digest();
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[bytes[i % bytes.length] % alphabet.length];
    return out;
}

function uuid(seed: string): string {
    const hex = createHash("sha256").update(seed).digest("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Physical names as the provider would auto-name them: `<logical name>-<7 random chars>`. */
function physicalName(explicit: unknown, name: string, urn: string): string {
    return typeof explicit === "string" && explicit.length > 0 ? explicit : `${name}-${token(urn, 7)}`;
}

function synthesize(
    type: string,
    name: string,
    inputs: Record<string, any>,
    urn: string,
    { region, accountId }: MockEnvironment,
): { id: string; state: Record<string, any> } {
    const state: Record<string, any> = { ...inputs };
    switch (type) {
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2": {
            const bucket = physicalName(inputs.bucket, name, urn);
            Object.assign(state, {
                bucket,
                arn: `arn:aws:s3:::${bucket}`,
                bucketDomainName: `${bucket}.s3.amazonaws.com`,
                bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
                region,
            });
            return { id: bucket, state };
        }
        case "aws:dynamodb/table:Table": {
            const tableName = physicalName(inputs.name, name, urn);
            Object.assign(state, { name: tableName, arn: `arn:aws:dynamodb:${region}:${accountId}:table/${tableName}` });
            return { id: tableName, state };
        }
        case "aws:iam/role:Role": {
            const roleName = physicalName(inputs.name, name, urn);
            Object.assign(state, { name: roleName, arn: `arn:aws:iam::${accountId}:role/${roleName}`, uniqueId: `AROA${token(urn, 17).toUpperCase()}` });
            return { id: roleName, state };
        }
        case "aws:iam/rolePolicy:RolePolicy": {
            const policyName = physicalName(inputs.name, name, urn);
            Object.assign(state, { name: policyName });
            return { id: `${inputs.role}:${policyName}`, state };
        }
        case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            return { id: `${inputs.role}-${token(urn, 8)}`, state };
        case "aws:cloudwatch/logGroup:LogGroup": {
            const groupName = physicalName(inputs.name, name, urn);
            Object.assign(state, { name: groupName, arn: `arn:aws:logs:${region}:${accountId}:log-group:${groupName}` });
            return { id: groupName, state };
        }
        case "aws:lambda/function:Function": {
            const functionName = physicalName(inputs.name, name, urn);
            const arn = `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
            Object.assign(state, {
                name: functionName,
                arn,
                qualifiedArn: `${arn}:$LATEST`,
                invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
                version: "$LATEST",
            });
            return { id: functionName, state };
        }
        case "aws:lambda/functionUrl:FunctionUrl": {
            const urlId = token(urn, 32);
            Object.assign(state, { functionUrl: `https://${urlId}.lambda-url.${region}.on.aws/`, urlId });
            return { id: String(inputs.functionName ?? name), state };
        }
        case "aws:apigatewayv2/api:Api": {
            const apiId = token(urn, 10);
            Object.assign(state, {
                apiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com`,
                executionArn: `arn:aws:execute-api:${region}:${accountId}:${apiId}`,
                arn: `arn:aws:apigateway:${region}::/apis/${apiId}`,
            });
            return { id: apiId, state };
        }
        case "aws:apigatewayv2/stage:Stage": {
            const stageName = String(inputs.name);
            const stagePath = stageName === "$default" ? "" : stageName;
            Object.assign(state, {
                invokeUrl: `https://${inputs.apiId}.execute-api.${region}.amazonaws.com/${stagePath}`,
                executionArn: `arn:aws:execute-api:${region}:${accountId}:${inputs.apiId}/${stageName}`,
                arn: `arn:aws:apigateway:${region}::/apis/${inputs.apiId}/stages/${stageName}`,
            });
            return { id: stageName, state };
        }
        case "aws:cognito/userPool:UserPool": {
            const poolId = `${region}_${token(urn, 9, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")}`;
            Object.assign(state, {
                arn: `arn:aws:cognito-idp:${region}:${accountId}:userpool/${poolId}`,
                endpoint: `cognito-idp.${region}.amazonaws.com/${poolId}`,
                name: inputs.name ?? physicalName(undefined, name, urn),
            });
            return { id: poolId, state };
        }
        case "aws:s3/accessPoint:AccessPoint": {
            const apName = physicalName(inputs.name, name, urn);
            const vpc = Array.isArray(inputs.vpcConfiguration) ? inputs.vpcConfiguration[0] : inputs.vpcConfiguration;
            Object.assign(state, {
                name: apName,
                arn: `arn:aws:s3:${region}:${accountId}:accesspoint/${apName}`,
                networkOrigin: vpc?.vpcId ? "VPC" : "Internet",
            });
            return { id: `${accountId}:${apName}`, state };
        }
        case "aws:cognito/userPoolClient:UserPoolClient":
            return { id: token(urn, 26), state };
        case "aws:cognito/identityPool:IdentityPool": {
            const poolId = `${region}:${uuid(urn)}`;
            Object.assign(state, { arn: `arn:aws:cognito-identity:${region}:${accountId}:identitypool/${poolId}` });
            return { id: poolId, state };
        }
        case "aws:cloudfront/distribution:Distribution": {
            const distributionId = `E${token(urn, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`;
            Object.assign(state, {
                arn: `arn:aws:cloudfront::${accountId}:distribution/${distributionId}`,
                domainName: `d${token(`${urn}/domain`, 13)}.cloudfront.net`,
                // CloudFront's one hosted zone for alias records.
                hostedZoneId: "Z2FDTNDATAQYW2",
                status: "Deployed",
                etag: `E${token(`${urn}/etag`, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`,
            });
            return { id: distributionId, state };
        }
        case "aws:cloudfront/originAccessControl:OriginAccessControl":
            return { id: `E${token(urn, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`, state: { ...state, name: physicalName(inputs.name, name, urn) } };
        case "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy":
            return { id: uuid(urn), state: { ...state, name: physicalName(inputs.name, name, urn) } };
        case "aws:acm/certificate:Certificate": {
            const certificateId = uuid(urn);
            const domain = String(inputs.domainName);
            const record = token(`${urn}/validation`, 32, "0123456789abcdef");
            Object.assign(state, {
                arn: `arn:aws:acm:${region}:${accountId}:certificate/${certificateId}`,
                domainValidationOptions: [
                    { domainName: domain, resourceRecordName: `_${record}.${domain}.`, resourceRecordType: "CNAME", resourceRecordValue: `_${token(`${urn}/value`, 32, "0123456789abcdef")}.acm-validations.aws.` },
                ],
                status: "ISSUED",
            });
            return { id: state.arn, state };
        }
        case "aws:acm/certificateValidation:CertificateValidation":
            return { id: String(inputs.certificateArn), state };
        case "aws:route53/record:Record":
            return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: { ...state, fqdn: String(inputs.name).replace(/\.$/, "") } };
        case "aws:kms/key:Key": {
            const keyId = uuid(urn);
            Object.assign(state, { keyId, arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}` });
            return { id: keyId, state };
        }
        case "aws:sns/topic:Topic": {
            const topicName = physicalName(inputs.name, name, urn);
            const arn = `arn:aws:sns:${region}:${accountId}:${topicName}`;
            Object.assign(state, { name: topicName, arn });
            return { id: arn, state };
        }
        case "aws:sns/topicSubscription:TopicSubscription": {
            const arn = `${inputs.topic}:${uuid(urn)}`;
            Object.assign(state, { arn, pendingConfirmation: inputs.protocol === "email" });
            return { id: arn, state };
        }
        case "aws:cloudwatch/metricAlarm:MetricAlarm": {
            const alarmName = physicalName(inputs.name, name, urn);
            Object.assign(state, { name: alarmName, arn: `arn:aws:cloudwatch:${region}:${accountId}:alarm:${alarmName}` });
            return { id: alarmName, state };
        }
        case "aws:cloudwatch/dashboard:Dashboard": {
            Object.assign(state, { dashboardArn: `arn:aws:cloudwatch::${accountId}:dashboard/${inputs.dashboardName}` });
            return { id: String(inputs.dashboardName), state };
        }
        case "aws:cloudwatch/queryDefinition:QueryDefinition": {
            const queryDefinitionId = uuid(urn);
            Object.assign(state, { queryDefinitionId });
            return { id: queryDefinitionId, state };
        }
        default:
            return { id: `${name}-${token(urn, 8)}`, state };
    }
}
