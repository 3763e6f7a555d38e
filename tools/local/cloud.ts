import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Materialized, Materializer, RecordedResource } from "../engine/mocks";
import { MOCK_ACCOUNT_ID, ProgramRun, readStackConfig, runProgram, toPlain } from "../engine/program";
import { LocalUserPools, startUserPools } from "./cognito-idp/user-pools";
import { CredentialStore } from "./sts/credentials";
import { LocalDynalite, LocalDynamoFront } from "./dynamodb/front";
import { LocalFunction } from "./lambda/functions";
import { LocalGateway } from "./apigateway/gateway";
import { LocalIdentityService } from "./cognito-identity/identity-pools";
import { adminCredentials, signingKey, SigningKeyPair } from "./keys";
import { acquireLock, LOCK_FILE, releaseLock } from "./lock";
import { LocalApi, LocalRegistry } from "./registry";
import { LocalS3 } from "./s3/front";
import { STACK_OUTPUT_NAMES, type StackOutputs } from "../../outputs";

/** Where SDK clients reach the local services (`endpoints` in `outputs.json`). */
export interface LocalEndpoints {
    cognitoIdp: string;
    cognitoIdentity: string;
    s3: string;
    /** dynalite for operators: unauthenticated, loopback only. */
    dynamodb: string;
}

/** `<data-dir>/outputs.json`: the stack outputs plus endpoints for SDK clients. */
export interface LocalOutputs extends StackOutputs {
    endpoints: LocalEndpoints;
}

export interface LocalCloudOptions {
    /** Data directory (default `.local`). */
    dataDir: string;
    stack?: string;
    /** Base port: gateway, then S3, identity, user pools, DynamoDB, the functions' DynamoDB front. Free ports when unset. */
    basePort?: number;
    /** Wipe the data directory first. */
    reset?: boolean;
    /** Console lines (start banner, confirmation codes, function logs go to stdout directly). */
    print?: (line: string) => void;
    /** Structured request logs (gateway, S3). */
    log?: (line: Record<string, unknown>) => void;
}

/** A registered resource the local cloud records but does not reproduce, with the reason. */
export interface NotEmulated {
    type: string;
    name: string;
    reason: string;
}

/** Settings the local cloud overrides in the stack's configuration, and why. */
export const LOCAL_CONFIG_OVERRIDES: Record<string, { value: string; why: string }> = {
    "notes-infra:allowUserPasswordAuth": {
        value: "true",
        why: "cognito-local has no SRP, so the local app client also allows USER_PASSWORD_AUTH",
    },
};

/** Types that are recorded without a local counterpart: nothing they control is reachable locally. */
const ACCEPTED_WITHOUT_EFFECT: Record<string, string> = {
    "aws:cloudwatch/logGroup:LogGroup": "function logs print to this console",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "the local S3 answers no unsigned request (only CORS preflights)",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "ACLs are not emulated; the bucket owns every object",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "no encryption at rest on this machine",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "lifecycle rules do not run locally",
    "aws:s3/bucketVersioning:BucketVersioning": "the local S3 keeps one version per key",
};

/** Type prefixes whose unknown members could change who may do what: never skipped. */
const SECURITY_RELEVANT = /^aws:(iam|cognito|kms|sts|secretsmanager|wafv2|apigateway|apigatewayv2|lambda|s3\/bucket(Policy|Acl))/;

interface ResourceState {
    /** URN -> local id, so a restart reuses the same pool, client and identity pool. */
    ids: Record<string, string>;
}

export class LocalCloud {
    readonly registry: LocalRegistry;
    readonly notEmulated: NotEmulated[] = [];
    readonly gateways = new Map<string, { gateway: LocalGateway; port: number }>();
    outputs?: LocalOutputs;
    run?: ProgramRun;
    private store!: CredentialStore;
    private userPools?: LocalUserPools;
    private identity?: LocalIdentityService;
    private s3?: LocalS3;
    private dynamo?: LocalDynalite;
    private dynamoFront?: LocalDynamoFront;
    private key?: SigningKeyPair;
    /** dynalite for operators: unauthenticated, for creating tables and inspecting data. */
    private dynamoEndpoint = "";
    /** What the functions call: signature and IAM check, then dynalite. */
    private dynamoFrontEndpoint = "";
    private s3Endpoint = "";
    private identityEndpoint = "";
    private readonly state: ResourceState = { ids: {} };
    private readonly stateFile: string;
    private readonly print: (line: string) => void;
    private nextGatewayPort?: number;
    private emulators?: Promise<void>;
    private locked?: string;

    constructor(private readonly options: LocalCloudOptions) {
        this.stateFile = path.join(options.dataDir, "resources.json");
        this.print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
        const { config } = readStackConfig(options.stack ?? "dev");
        this.registry = new LocalRegistry(config["aws:region"] ?? "us-east-1", MOCK_ACCOUNT_ID);
    }

    private port(offset: number): number {
        return this.options.basePort === undefined ? 0 : this.options.basePort + offset;
    }

    /** Starts the emulators and runs the program against them; returns the outputs. */
    async start(): Promise<LocalOutputs> {
        const { dataDir } = this.options;
        // Owner-only when the local cloud creates it: it holds the signing key, the admin key, issued
        // credentials and cognito-local's user records.
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        // One local cloud per data directory: a second one would find the databases locked, and
        // `--reset` would wipe the first one's data from under it.
        this.locked = acquireLock(dataDir);
        if (this.options.reset) {
            for (const entry of readdirSync(dataDir)) if (entry !== LOCK_FILE) rmSync(path.join(dataDir, entry), { recursive: true, force: true });
        }
        // Made on the thread pool on a first start, while the program loads.
        const key = signingKey(dataDir).then((key) => (this.key = key));
        const admin = adminCredentials(dataDir);
        // Whoever waits for outputs.json must not pick up the previous run's ports.
        rmSync(path.join(dataDir, "outputs.json"), { force: true });
        if (existsSync(this.stateFile)) Object.assign(this.state, JSON.parse(readFileSync(this.stateFile, "utf8")));
        this.store = new CredentialStore(path.join(dataDir, "credentials.json"));
        this.nextGatewayPort = this.options.basePort;

        // The emulators start while the program loads (it bundles the handlers first); each
        // resource waits for them before it is provisioned.
        this.emulators = Promise.all([
            this.startDynamo(),
            key.then((signingKey) =>
                startUserPools({
                    dataDir,
                    port: this.port(3),
                    region: this.registry.region,
                    accountId: this.registry.accountId,
                    signingKey,
                    admin,
                    store: this.store,
                    registry: this.registry,
                    onCode: this.print,
                    log: this.options.log,
                }),
            ),
            (this.s3 = new LocalS3({ dataDir, registry: this.registry, store: this.store, log: this.options.log })).listen(this.port(1)),
        ]).then(async ([dynamoPort, userPools, s3Port]) => {
            this.userPools = userPools;
            this.dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
            this.s3Endpoint = `http://127.0.0.1:${s3Port}`;
            this.dynamoFront = new LocalDynamoFront({ backend: this.dynamo!.backend, registry: this.registry, store: this.store, log: this.options.log });
            this.dynamoFrontEndpoint = `http://127.0.0.1:${await this.dynamoFront.listen(this.port(5))}`;
        });
        const configOverrides = Object.fromEntries(Object.entries(LOCAL_CONFIG_OVERRIDES).map(([key, { value }]) => [key, value]));
        const [run] = await Promise.all([runProgram({ stack: this.options.stack ?? "dev", configOverrides, materialize: this.materialize }), this.emulators]);
        this.run = run;
        if (run.region !== this.registry.region || run.accountId !== this.registry.accountId) {
            throw new Error(`The program ran for ${run.region}/${run.accountId}, the local cloud was set up for ${this.registry.region}/${this.registry.accountId}.`);
        }
        for (const fn of this.registry.functions.values()) fn.warm();

        const out = await resolveOutputs(run.outputs);
        const missing = STACK_OUTPUT_NAMES.filter((key) => typeof out[key] !== "string");
        if (missing.length > 0) throw new Error(`The program does not export ${missing.join(", ")}; the local cloud needs every stack output.`);
        this.outputs = {
            ...(Object.fromEntries(STACK_OUTPUT_NAMES.map((key) => [key, out[key]])) as StackOutputs),
            endpoints: { cognitoIdp: this.userPools!.endpoint, cognitoIdentity: this.identityEndpoint, s3: this.s3Endpoint, dynamodb: this.dynamoEndpoint },
        };
        this.saveState();
        return this.outputs;
    }

    /** Writes `<data-dir>/outputs.json` (after the ready line: readers may act on it at once). */
    writeOutputs(): string {
        const file = path.join(this.options.dataDir, "outputs.json");
        writeFileSync(`${file}.tmp`, `${JSON.stringify(this.outputs, null, 2)}\n`);
        renameSync(`${file}.tmp`, file);
        return file;
    }

    private async startDynamo(): Promise<number> {
        const dir = path.join(this.options.dataDir, "dynamodb");
        mkdirSync(dir, { recursive: true });
        this.dynamo = new LocalDynalite(dir, this.options.log);
        return this.dynamo.listen(this.port(4));
    }

    private async identityService(): Promise<LocalIdentityService> {
        if (!this.identity) {
            this.identity = new LocalIdentityService({
                region: this.registry.region,
                accountId: this.registry.accountId,
                store: this.store,
                registry: this.registry,
                userPoolIssuer: this.userPools!.endpoint,
                signingKey: this.key!.publicJwk,
                file: path.join(this.options.dataDir, "identity.json"),
            });
            this.identityEndpoint = `http://127.0.0.1:${await this.identity.listen(this.port(2))}`;
        }
        return this.identity;
    }

    private saveState(): void {
        writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(this.state, null, 2));
        renameSync(`${this.stateFile}.tmp`, this.stateFile);
    }

    private api(apiId: string): LocalApi {
        const api = this.registry.apis.get(apiId);
        if (!api) throw new Error(`A resource names HTTP API ${apiId}, which the program has not registered.`);
        return api;
    }

    /** The Materializer handed to the mock engine: provisions each resource as it registers. */
    readonly materialize: Materializer = async (resource, synthesized) => {
        if (!resource.custom || resource.type.startsWith("pulumi:providers:")) return undefined;
        await this.emulators;
        return this.provision(resource, synthesized);
    };

    private async provision(resource: Omit<RecordedResource, "id" | "state">, synthesized: { id: string; state: Record<string, any> }): Promise<Materialized | undefined> {
        const { inputs, type, name, urn } = resource;
        const region = this.registry.region;
        switch (type) {
            case "aws:dynamodb/table:Table":
                await this.createTable(synthesized.id, inputs);
                return undefined;
            case "aws:s3/bucket:Bucket":
            case "aws:s3/bucketV2:BucketV2":
                await this.s3!.createBucket(synthesized.id);
                return undefined;
            case "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration":
            case "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2":
                await this.s3!.putCors(inputs.bucket, inputs.corsRules ?? []);
                return undefined;
            case "aws:s3/bucketPolicy:BucketPolicy":
                this.registry.bucketPolicies.set(inputs.bucket, typeof inputs.policy === "string" ? inputs.policy : JSON.stringify(inputs.policy));
                return undefined;
            case "aws:iam/role:Role":
                this.registry.roles.set(synthesized.state.name, {
                    name: synthesized.state.name,
                    arn: synthesized.state.arn,
                    assumeRolePolicy: typeof inputs.assumeRolePolicy === "string" ? inputs.assumeRolePolicy : JSON.stringify(inputs.assumeRolePolicy),
                    uniqueId: synthesized.state.uniqueId,
                });
                return undefined;
            case "aws:iam/rolePolicy:RolePolicy": {
                const role = String(inputs.role).replace(/^arn:.*\//, "");
                const policies = this.registry.inlinePolicies.get(role) ?? new Map<string, string>();
                policies.set(synthesized.state.name ?? name, typeof inputs.policy === "string" ? inputs.policy : JSON.stringify(inputs.policy));
                this.registry.inlinePolicies.set(role, policies);
                return undefined;
            }
            case "aws:iam/policy:Policy":
                this.registry.managedPolicies.set(synthesized.state.arn ?? `arn:aws:iam::${this.registry.accountId}:policy/${synthesized.id}`, typeof inputs.policy === "string" ? inputs.policy : JSON.stringify(inputs.policy));
                return { state: { arn: `arn:aws:iam::${this.registry.accountId}:policy/${synthesized.id}` } };
            case "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
                const role = String(inputs.role).replace(/^arn:.*\//, "");
                if (String(inputs.policyArn).startsWith("arn:aws:iam::aws:policy/")) {
                    this.notEmulated.push({ type, name, reason: `AWS-managed ${inputs.policyArn} is not known locally; the role gets nothing from it` });
                }
                const set = this.registry.attachments.get(role) ?? new Set<string>();
                set.add(String(inputs.policyArn));
                this.registry.attachments.set(role, set);
                return undefined;
            }
            case "aws:lambda/function:Function":
                await this.createFunction(name, synthesized, inputs);
                return undefined;
            case "aws:lambda/permission:Permission":
                this.registry.permissions.push({ action: inputs.action, functionRef: String(inputs.function), principal: inputs.principal, sourceArn: inputs.sourceArn });
                return undefined;
            case "aws:apigatewayv2/api:Api": {
                if (inputs.protocolType !== "HTTP") throw new Error(`HTTP API ${name}: the local gateway emulates protocolType HTTP only, got ${inputs.protocolType}.`);
                const api: LocalApi = { id: synthesized.id, name, cors: inputs.corsConfiguration, routes: new Map(), integrations: new Map(), stages: new Set() };
                this.registry.apis.set(api.id, api);
                const gateway = new LocalGateway({ api, registry: this.registry, store: this.store, log: this.options.log });
                const port = await gateway.listen(this.nextGatewayPort ?? 0);
                if (this.nextGatewayPort !== undefined) this.nextGatewayPort += 5;
                this.gateways.set(api.id, { gateway, port });
                return undefined;
            }
            case "aws:apigatewayv2/stage:Stage": {
                const api = this.api(inputs.apiId);
                api.stages.add(inputs.name);
                if (inputs.name !== "$default") {
                    this.notEmulated.push({ type, name, reason: `only the $default stage is served locally, not ${inputs.name}` });
                    return undefined;
                }
                if (inputs.defaultRouteSettings || inputs.accessLogSettings) {
                    this.notEmulated.push({ type, name, reason: "throttling and access logs are not emulated (requests are logged to this console)" });
                }
                return { state: { invokeUrl: `http://127.0.0.1:${this.gateways.get(api.id)!.port}/` } };
            }
            case "aws:apigatewayv2/integration:Integration": {
                const api = this.api(inputs.apiId);
                const uri = String(inputs.integrationUri ?? "");
                const functionArn = /functions\/(arn:aws:lambda:[^/]+)\/invocations$/.exec(uri)?.[1] ?? uri;
                api.integrations.set(synthesized.id, { functionArn, payloadFormatVersion: inputs.payloadFormatVersion ?? "1.0", type: inputs.integrationType });
                if ((inputs.payloadFormatVersion ?? "1.0") !== "2.0") throw new Error(`Integration ${name}: the local gateway speaks payload format 2.0 only.`);
                return undefined;
            }
            case "aws:apigatewayv2/route:Route":
                this.api(inputs.apiId).routes.set(inputs.routeKey, { routeKey: inputs.routeKey, authorizationType: inputs.authorizationType ?? "NONE", target: inputs.target });
                if (inputs.authorizationType !== "AWS_IAM") this.print(`! route ${inputs.routeKey} uses authorization ${inputs.authorizationType ?? "NONE"}`);
                return undefined;
            case "aws:cognito/userPool:UserPool": {
                if (inputs.emailConfiguration?.emailSendingAccount === "DEVELOPER") {
                    this.notEmulated.push({ type, name, reason: `email through SES (${inputs.emailConfiguration.sourceArn}) is not sent: codes print to this console` });
                }
                let id: string | undefined = this.state.ids[urn];
                if (!id || !(await this.userPools!.describePool(id))) {
                    const pool = await this.userPools!.call("CreateUserPool", {
                        PoolName: inputs.name ?? synthesized.state.name,
                        UsernameAttributes: inputs.usernameAttributes,
                        AliasAttributes: inputs.aliasAttributes,
                        AutoVerifiedAttributes: inputs.autoVerifiedAttributes,
                        UsernameConfiguration: inputs.usernameConfiguration ? { CaseSensitive: inputs.usernameConfiguration.caseSensitive } : undefined,
                        Policies: inputs.passwordPolicy
                            ? {
                                  PasswordPolicy: {
                                      MinimumLength: inputs.passwordPolicy.minimumLength,
                                      RequireLowercase: inputs.passwordPolicy.requireLowercase,
                                      RequireUppercase: inputs.passwordPolicy.requireUppercase,
                                      RequireNumbers: inputs.passwordPolicy.requireNumbers,
                                      RequireSymbols: inputs.passwordPolicy.requireSymbols,
                                      TemporaryPasswordValidityDays: inputs.passwordPolicy.temporaryPasswordValidityDays,
                                  },
                              }
                            : undefined,
                    });
                    id = pool.UserPool.Id as string;
                    this.state.ids[urn] = id;
                    this.saveState();
                }
                return {
                    id,
                    state: { arn: `arn:aws:cognito-idp:${region}:${this.registry.accountId}:userpool/${id}`, endpoint: `cognito-idp.${region}.amazonaws.com/${id}` },
                };
            }
            case "aws:cognito/userPoolClient:UserPoolClient": {
                let id: string | undefined = this.state.ids[urn];
                const existing = id ? await this.userPools!.call("DescribeUserPoolClient", { UserPoolId: inputs.userPoolId, ClientId: id }).catch(() => undefined) : undefined;
                const settings = { ExplicitAuthFlows: inputs.explicitAuthFlows, PreventUserExistenceErrors: inputs.preventUserExistenceErrors ?? "LEGACY" };
                if (existing) {
                    // As an update would: the client keeps its id and takes the program's settings.
                    await this.userPools!.call("UpdateUserPoolClient", { UserPoolId: inputs.userPoolId, ClientId: id, ...settings });
                } else {
                    if (inputs.generateSecret) throw new Error(`UserPoolClient ${name}: clients with a secret are not emulated locally.`);
                    const client = await this.userPools!.call("CreateUserPoolClient", { UserPoolId: inputs.userPoolId, ClientName: inputs.name ?? name, ...settings });
                    id = client.UserPoolClient.ClientId as string;
                    this.state.ids[urn] = id;
                    this.saveState();
                }
                return { id };
            }
            case "aws:cognito/identityPool:IdentityPool": {
                const identity = await this.identityService();
                const id = this.state.ids[urn] ?? `${region}:${randomUUID()}`;
                this.state.ids[urn] = id;
                this.saveState();
                identity.putPool({
                    id,
                    name: inputs.identityPoolName ?? name,
                    allowUnauthenticatedIdentities: Boolean(inputs.allowUnauthenticatedIdentities),
                    providers: (inputs.cognitoIdentityProviders ?? []).map((p: any) => ({ providerName: p.providerName, clientId: p.clientId })),
                    roles: {},
                });
                if (inputs.allowUnauthenticatedIdentities) this.notEmulated.push({ type, name, reason: "unauthenticated identities are not issued locally" });
                if (inputs.supportedLoginProviders || inputs.openIdConnectProviderArns?.length || inputs.samlProviderArns?.length || inputs.developerProviderName) {
                    this.notEmulated.push({ type, name, reason: "only Cognito User Pool logins are verified locally; other providers are refused" });
                }
                return { id, state: { arn: `arn:aws:cognito-identity:${region}:${this.registry.accountId}:identitypool/${id}` } };
            }
            case "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment": {
                const identity = await this.identityService();
                if (inputs.roleMappings?.length) throw new Error(`IdentityPoolRoleAttachment ${name}: role mappings (rules/token roles) are not emulated locally.`);
                identity.setRoles(inputs.identityPoolId, { authenticated: inputs.roles?.authenticated, unauthenticated: inputs.roles?.unauthenticated });
                return undefined;
            }
            default:
                if (type in ACCEPTED_WITHOUT_EFFECT) {
                    this.notEmulated.push({ type, name, reason: ACCEPTED_WITHOUT_EFFECT[type] });
                    return undefined;
                }
                if (SECURITY_RELEVANT.test(type)) {
                    throw new Error(`The local cloud cannot materialize ${type} (${name}), and it can change who may do what; refusing to start without it. Teach tools/local/cloud.ts this type.`);
                }
                this.notEmulated.push({ type, name, reason: "no local counterpart" });
                return undefined;
        }
    }

    private async createTable(tableName: string, inputs: Record<string, any>): Promise<void> {
        const client = new DynamoDBClient({ endpoint: this.dynamoEndpoint, region: this.registry.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
        try {
            await client.send(new DescribeTableCommand({ TableName: tableName }));
            return;
        } catch (error) {
            if (!(error instanceof ResourceNotFoundException) && (error as { name?: string }).name !== "ResourceNotFoundException") throw error;
        }
        const keySchema = (hash: string, range?: string) => [
            { AttributeName: hash, KeyType: "HASH" as const },
            ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
        ];
        const payPerRequest = (inputs.billingMode ?? "PROVISIONED") === "PAY_PER_REQUEST";
        const throughput = payPerRequest ? undefined : { ReadCapacityUnits: inputs.readCapacity ?? 1, WriteCapacityUnits: inputs.writeCapacity ?? 1 };
        await client.send(
            new CreateTableCommand({
                TableName: tableName,
                AttributeDefinitions: (inputs.attributes ?? []).map((a: any) => ({ AttributeName: a.name, AttributeType: a.type })),
                KeySchema: keySchema(inputs.hashKey, inputs.rangeKey),
                BillingMode: payPerRequest ? "PAY_PER_REQUEST" : "PROVISIONED",
                ProvisionedThroughput: throughput,
                GlobalSecondaryIndexes: inputs.globalSecondaryIndexes?.length
                    ? inputs.globalSecondaryIndexes.map((index: any) => ({
                          IndexName: index.name,
                          KeySchema: keySchema(index.hashKey, index.rangeKey),
                          Projection: { ProjectionType: index.projectionType, NonKeyAttributes: index.nonKeyAttributes },
                          ProvisionedThroughput: throughput,
                      }))
                    : undefined,
            }),
        );
        client.destroy();
    }

    private async createFunction(name: string, synthesized: { id: string; state: Record<string, any> }, inputs: Record<string, any>): Promise<void> {
        const code = await toPlain(inputs.code);
        if (code?.$archive !== "assets") throw new Error(`Function ${name}: the local runtime runs AssetArchive code of StringAssets, got ${JSON.stringify(code).slice(0, 80)}.`);
        const files: Record<string, string> = {};
        for (const [file, asset] of Object.entries<any>(code.assets)) {
            if (asset.$asset !== "string") throw new Error(`Function ${name}: ${file} is not a StringAsset.`);
            files[file] = asset.text;
        }
        const fnName: string = synthesized.state.name;
        const roleArn = String(inputs.role);
        const region = this.registry.region;
        const fn = new LocalFunction(
            {
                name: fnName,
                arn: synthesized.state.arn,
                files,
                handler: inputs.handler ?? "index.handler",
                environment: inputs.environment?.variables ?? {},
                timeoutSeconds: inputs.timeout ?? 3,
                roleArn,
            },
            path.join(this.options.dataDir, "functions", name),
            () => {
                // What the Lambda runtime puts in the environment: region, the execution role's
                // session, function metadata; plus the SDK's standard endpoint variables.
                const session = this.store.mint({ roleArn, sessionName: fnName, ttlSeconds: 12 * 3600 });
                return {
                    AWS_REGION: region,
                    AWS_DEFAULT_REGION: region,
                    AWS_ACCESS_KEY_ID: session.accessKeyId,
                    AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
                    AWS_SESSION_TOKEN: session.sessionToken,
                    AWS_LAMBDA_FUNCTION_NAME: fnName,
                    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
                    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(inputs.memorySize ?? 128),
                    AWS_EXECUTION_ENV: `AWS_Lambda_${inputs.runtime ?? "nodejs22.x"}`,
                    LAMBDA_TASK_ROOT: path.join(this.options.dataDir, "functions", name),
                    TZ: ":UTC",
                    AWS_ENDPOINT_URL_DYNAMODB: this.dynamoFrontEndpoint,
                    AWS_ENDPOINT_URL_S3: this.s3Endpoint,
                    // Lambda runs nodejs22.x; the SDK's "Node 20 support ends" notice is about this machine.
                    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
                };
            },
        );
        this.registry.functions.set(fnName, fn);
    }

    /** Stops every server and worker; data is on disk already (LevelDB, object store, JSON state). */
    async stop(): Promise<void> {
        await Promise.all([...this.registry.functions.values()].map((fn) => fn.stop()));
        await Promise.all([...this.gateways.values()].map(({ gateway }) => gateway.close()));
        await Promise.all([this.identity?.close(), this.s3?.close(), this.userPools?.close(), this.dynamoFront?.close()]);
        await this.dynamo?.close();
        this.dynamo = undefined;
        this.store?.save();
        if (this.locked) releaseLock(this.locked);
        this.locked = undefined;
    }
}

/** The program's exports are Outputs: wait for their values. */
async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, any>> {
    const resolved: Record<string, any> = {};
    for (const [key, value] of Object.entries(outputs)) {
        resolved[key] = pulumi.Output.isInstance(value) ? await new Promise((resolve) => (value as pulumi.Output<unknown>).apply((v) => resolve(v))) : value;
    }
    return resolved;
}
