import * as pulumi from "@pulumi/pulumi";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { STACK_OUTPUT_NAMES, type StackOutputs } from "../../outputs";
import type { Materializer } from "../engine/mocks";
import { MOCK_ACCOUNT_ID, ProgramRun, readStackConfig, runProgram } from "../engine/program";
import * as apigateway from "./apigateway/provision";
import type { LocalGateway } from "./apigateway/gateway";
import * as cognitoIdentity from "./cognito-identity/provision";
import { LocalIdentityService } from "./cognito-identity/identity-pools";
import * as cognitoIdp from "./cognito-idp/provision";
import { LocalUserPools, startUserPools } from "./cognito-idp/user-pools";
import * as dynamodb from "./dynamodb/provision";
import { LocalDynalite, LocalDynamoFront } from "./dynamodb/front";
import * as iam from "./iam/provision";
import { AdminCredentials, adminCredentials, signingKey, SigningKeyPair } from "./keys";
import * as lambda from "./lambda/provision";
import { acquireLock, LOCK_FILE, releaseLock } from "./lock";
import { type LocalOutputs, OUTPUTS_FILE } from "./outputs";
import type { DeclaredResource, LocalServices, Provisioner } from "./provisioner";
import { LocalRegistry } from "./registry";
import { LocalS3 } from "./s3/front";
import * as s3 from "./s3/provision";
import { CredentialStore } from "./sts/credentials";

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

/**
 * Settings the local cloud overrides in the stack's configuration, and why. None: the local User
 * Pools run the same sign-in as Cognito (SRP, TOTP), so the app client keeps the program's auth flows.
 */
export const LOCAL_CONFIG_OVERRIDES: Record<string, { value: string; why: string }> = {};

/** Resource type -> the service that turns it into local state (`tools/local/<service>/provision.ts`). */
const PROVISIONERS: Readonly<Record<string, Provisioner>> = {
    "aws:apigatewayv2/api:Api": apigateway.api,
    "aws:apigatewayv2/stage:Stage": apigateway.stage,
    "aws:apigatewayv2/integration:Integration": apigateway.integration,
    "aws:apigatewayv2/route:Route": apigateway.route,
    "aws:lambda/function:Function": lambda.fn,
    "aws:lambda/permission:Permission": lambda.permission,
    "aws:s3/bucket:Bucket": s3.bucket,
    "aws:s3/bucketV2:BucketV2": s3.bucket,
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": s3.bucketCors,
    "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2": s3.bucketCors,
    "aws:s3/bucketPolicy:BucketPolicy": s3.bucketPolicy,
    "aws:s3/bucketVersioning:BucketVersioning": s3.bucketVersioning,
    "aws:s3/bucketVersioningV2:BucketVersioningV2": s3.bucketVersioning,
    "aws:dynamodb/table:Table": dynamodb.table,
    "aws:cognito/userPool:UserPool": cognitoIdp.userPool,
    "aws:cognito/userPoolClient:UserPoolClient": cognitoIdp.userPoolClient,
    "aws:cognito/identityPool:IdentityPool": cognitoIdentity.identityPool,
    "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment": cognitoIdentity.roleAttachment,
    "aws:iam/role:Role": iam.role,
    "aws:iam/rolePolicy:RolePolicy": iam.rolePolicy,
    "aws:iam/policy:Policy": iam.policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": iam.rolePolicyAttachment,
};

/** Types that are recorded without a local counterpart: nothing they control is reachable locally. */
const ACCEPTED_WITHOUT_EFFECT: Record<string, string> = {
    "aws:cloudwatch/logGroup:LogGroup": "function logs print to this console",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "the local S3 answers no unsigned request (only CORS preflights)",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "ACLs are not emulated; the bucket owns every object",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "no encryption at rest on this machine",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "lifecycle rules do not run locally",
};

/** Type prefixes whose unknown members could change who may do what: never skipped. */
const SECURITY_RELEVANT = /^aws:(iam|cognito|kms|sts|secretsmanager|wafv2|apigateway|apigatewayv2|lambda|s3\/bucket(Policy|Acl))/;

/**
 * Port offsets from the base port (`--port <n>`), in the order `npm start` documents. A second
 * HTTP API gets the gateway's port plus GATEWAY_PORT_STEP, and so on.
 */
const PORTS = { apigateway: 0, s3: 1, cognitoIdentity: 2, cognitoIdp: 3, dynamodb: 4, dynamodbFront: 5 } as const;
const GATEWAY_PORT_STEP = 5;

interface ResourceState {
    /** URN -> local id, so a restart reuses the same pool, client and identity pool. */
    ids: Record<string, string>;
}

/**
 * The local cloud's core: starts every service, runs the program with a materializer that hands
 * each registered resource to its service's provisioner (PROVISIONERS), and owns what the services
 * share: ports, the data directory's lock, resource ids across restarts, and the outputs.
 */
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
    private admin?: AdminCredentials;
    /** dynalite for operators: unauthenticated, for creating tables and inspecting data. */
    private dynamoEndpoint = "";
    /** What the functions call: signature and IAM check, then dynalite. */
    private dynamoFrontEndpoint = "";
    private s3Endpoint = "";
    private identityEndpoint = "";
    private readonly state: ResourceState = { ids: {} };
    private readonly stateFile: string;
    private readonly print: (line: string) => void;
    private gatewayPort?: number;
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
        const admin = (this.admin = adminCredentials(dataDir));
        // Whoever waits for outputs.json must not pick up the previous run's ports.
        rmSync(path.join(dataDir, OUTPUTS_FILE), { force: true });
        if (existsSync(this.stateFile)) Object.assign(this.state, JSON.parse(readFileSync(this.stateFile, "utf8")));
        this.store = new CredentialStore(path.join(dataDir, "credentials.json"));
        this.gatewayPort = this.options.basePort === undefined ? undefined : this.port(PORTS.apigateway);

        // The emulators start while the program loads (it bundles the handlers first); each
        // resource waits for them before it is provisioned.
        this.emulators = Promise.all([
            this.startDynamo(),
            key.then((signingKey) =>
                startUserPools({
                    dataDir,
                    port: this.port(PORTS.cognitoIdp),
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
            (this.s3 = new LocalS3({ dataDir, registry: this.registry, store: this.store, admin, log: this.options.log })).listen(this.port(PORTS.s3)),
        ]).then(async ([dynamoPort, userPools, s3Port]) => {
            this.userPools = userPools;
            this.dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
            this.s3Endpoint = `http://127.0.0.1:${s3Port}`;
            this.dynamoFront = new LocalDynamoFront({ backend: this.dynamo!.backend, registry: this.registry, store: this.store, admin, log: this.options.log });
            this.dynamoFrontEndpoint = `http://127.0.0.1:${await this.dynamoFront.listen(this.port(PORTS.dynamodbFront))}`;
            // Before any function is provisioned: a function's environment points its SDK at it.
            await this.identityService();
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
        const file = path.join(this.options.dataDir, OUTPUTS_FILE);
        writeFileSync(`${file}.tmp`, `${JSON.stringify(this.outputs, null, 2)}\n`);
        renameSync(`${file}.tmp`, file);
        return file;
    }

    private async startDynamo(): Promise<number> {
        const dir = path.join(this.options.dataDir, "dynamodb");
        mkdirSync(dir, { recursive: true });
        this.dynamo = new LocalDynalite(dir, this.options.log);
        return this.dynamo.listen(this.port(PORTS.dynamodb));
    }

    /** Started with the emulators: it verifies the User Pools' tokens with the data directory's key. */
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
                admin: this.admin,
                sessionActive: (claims) => this.userPools!.sessionActive(claims),
            });
            this.identityEndpoint = `http://127.0.0.1:${await this.identity.listen(this.port(PORTS.cognitoIdentity))}`;
        }
        return this.identity;
    }

    private saveState(): void {
        writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(this.state, null, 2));
        renameSync(`${this.stateFile}.tmp`, this.stateFile);
    }

    /** What the provisioners may use; the emulators have started when a provisioner runs. */
    private services(): LocalServices {
        return {
            registry: this.registry,
            store: this.store,
            dataDir: this.options.dataDir,
            s3: this.s3!,
            userPools: this.userPools!,
            identity: () => this.identityService(),
            endpoints: { dynamodb: this.dynamoEndpoint, dynamodbFront: this.dynamoFrontEndpoint, s3: this.s3Endpoint, cognitoIdp: this.userPools?.endpoint ?? "", cognitoIdentity: this.identityEndpoint },
            gateways: this.gateways,
            nextGatewayPort: () => {
                const port = this.gatewayPort ?? 0;
                if (this.gatewayPort !== undefined) this.gatewayPort += GATEWAY_PORT_STEP;
                return port;
            },
            ids: {
                get: (urn) => this.state.ids[urn],
                set: (urn, id) => {
                    this.state.ids[urn] = id;
                    this.saveState();
                },
            },
            notEmulated: ({ type, name }, reason) => this.notEmulated.push({ type, name, reason }),
            print: this.print,
            log: this.options.log,
        };
    }

    /** The Materializer handed to the mock engine: provisions each resource as it registers. */
    readonly materialize: Materializer = async (resource, synthesized) => {
        if (!resource.custom || resource.type.startsWith("pulumi:providers:")) return undefined;
        await this.emulators;
        const { type, name } = resource;
        const provision = PROVISIONERS[type];
        if (provision) {
            const declared: DeclaredResource = { type, name, urn: resource.urn, inputs: resource.inputs, id: synthesized.id, state: synthesized.state };
            return provision(declared, this.services());
        }
        if (type in ACCEPTED_WITHOUT_EFFECT) {
            this.notEmulated.push({ type, name, reason: ACCEPTED_WITHOUT_EFFECT[type] });
            return undefined;
        }
        if (SECURITY_RELEVANT.test(type)) {
            throw new Error(
                `The local cloud cannot materialize ${type} (${name}), and it can change who may do what; refusing to start without it. Teach the local cloud this type: a provisioner in tools/local/<service>/provision.ts and its row in PROVISIONERS (tools/local/cloud.ts).`,
            );
        }
        this.notEmulated.push({ type, name, reason: "no local counterpart" });
        return undefined;
    };

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
