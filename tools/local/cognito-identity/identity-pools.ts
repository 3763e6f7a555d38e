import { delay, type LocalFaults } from "../faults/faults";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { importJWK, jwtVerify, JWTPayload, type CryptoKey } from "jose";
import { decide } from "../iam/decide";
import { LocalRegistry } from "../registry";
import type { AdminCredentials } from "../keys";
import { answerJsonPreflight, isLoopbackHost, jsonServiceCors, LocalServer, ReceivedRequest, readRequest, receive } from "../server";
import { CredentialStore, SessionCredentials } from "../sts/credentials";
import { jsonSignatureError, SigningKey, verifySigV4 } from "../sts/sigv4";

/** AWS JSON 1.1 requests of this service are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

/** An Identity Pool as the program declared it (`aws:cognito/identityPool:IdentityPool`). */
export interface LocalIdentityPool {
    id: string;
    name: string;
    allowUnauthenticatedIdentities: boolean;
    providers: { providerName: string; clientId: string; serverSideTokenCheck?: boolean }[];
    /** From `aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment`. */
    roles: { authenticated?: string; unauthenticated?: string };
}

interface IdentityState {
    pools: Record<string, LocalIdentityPool>;
    /** `<pool id>|<provider name>|<user sub>` -> identity id. */
    identities: Record<string, string>;
    /** Identity id -> creation and last use (epoch seconds), for DescribeIdentity and ListIdentities. */
    dates?: Record<string, { created: number; modified: number }>;
}

/**
 * The operations AWS serves without credentials (`smithy.api#noAuth` in the service model): what an
 * app does with its users' logins. Every other action needs a SigV4 signature: the local admin key
 * may call every one, an issued session what its role's policies allow.
 */
const UNAUTHENTICATED_OPERATIONS = new Set(["GetId", "GetCredentialsForIdentity", "GetOpenIdToken", "UnlinkIdentity"]);
/** The IAM-authorized operations emulated here. */
const ADMIN_OPERATIONS = new Set(["DeleteIdentities", "DescribeIdentity", "ListIdentities"]);
/**
 * Actions the Service Authorization Reference lists without a resource type: a policy grants them
 * only with `"Resource": "*"`, so they are decided on `*` (ListIdentities is decided on the pool's ARN).
 */
const NO_RESOURCE_TYPE = new Set(["DeleteIdentities", "DescribeIdentity"]);

/**
 * Checks the members of a request against their types, as the service's JSON protocol does
 * (`SerializationException` for a wrong type); `logins` is a map of strings.
 */
function validated<T>(input: object, shape: Record<string, "string" | "logins">): T {
    for (const [name, value] of Object.entries(input)) {
        const type = shape[name];
        if (type === undefined || value === null) continue;
        const ok = type === "string" ? typeof value === "string" : typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
        if (!ok) throw new CognitoIdentityError("SerializationException", `${name} is not a ${type === "string" ? "string" : "map of strings"}.`);
    }
    return input as T;
}

/** A Cognito error as the AWS JSON 1.1 protocol carries it (`__type` + `message`, HTTP 400). */
export class CognitoIdentityError extends Error {
    constructor(
        readonly type: string,
        message: string,
        readonly status = 400,
    ) {
        super(message);
    }
}

export interface IdentityServiceOptions {
    region: string;
    accountId: string;
    store: CredentialStore;
    registry: LocalRegistry;
    /** Token issuer prefix of the local User Pools (`http://127.0.0.1:<port>`). */
    userPoolIssuer: string;
    /** Public JWK the local User Pools sign with (`<data-dir>/signing-key.json`, see `tools/local/keys.ts`). */
    signingKey: Record<string, unknown>;
    /** State file (pools and identity ids survive restarts). */
    file?: string;
    /** `cognito-identity` rules of `<data-dir>/faults.json`. */
    faults?: LocalFaults;
    /** The local admin's key: requests signed with it may call every action. */
    admin?: AdminCredentials;
    /**
     * Whether a verified id token's sign-in session is still good (the User Pools' `sessionActive`),
     * asked for a provider with `serverSideTokenCheck`: after a global sign-out or the user's
     * deletion, its tokens get no identity and no credentials.
     */
    sessionActive?: (claims: Record<string, unknown>) => Promise<boolean>;
}

/**
 * The Cognito Identity Pool service, as much of it as an app with authenticated identities uses:
 * `GetId` and `GetCredentialsForIdentity` over AWS JSON 1.1, as `@aws-sdk/client-cognito-identity`
 * and Amplify speak it. Logins are User Pool id tokens, verified against the local pool's key,
 * issuer, the pool's app client (audience), expiry and `token_use`, and, for a provider with
 * `serverSideTokenCheck`, against the User Pool's live sessions. `DeleteIdentities`,
 * `DescribeIdentity` and `ListIdentities` need a SigV4 signature (the admin key, or a session whose
 * role allows the action on the identity pool).
 */
export class LocalIdentityService extends LocalServer {
    private readonly state: IdentityState = { pools: {}, identities: {} };
    private key?: CryptoKey | Uint8Array;

    constructor(private readonly options: IdentityServiceOptions) {
        super();
        if (options.file && existsSync(options.file)) Object.assign(this.state, JSON.parse(readFileSync(options.file, "utf8")));
    }

    /** Creates the pool, or updates it when an earlier run created it with this id. */
    putPool(pool: LocalIdentityPool): void {
        const existing = this.state.pools[pool.id];
        this.state.pools[pool.id] = { ...pool, roles: { ...(existing?.roles ?? {}), ...pool.roles } };
        this.save();
    }

    pool(id: string): LocalIdentityPool | undefined {
        return this.state.pools[id];
    }

    setRoles(poolId: string, roles: LocalIdentityPool["roles"]): void {
        const pool = this.state.pools[poolId];
        if (!pool) throw new Error(`IdentityPoolRoleAttachment names identity pool ${poolId}, which the local cloud has not created.`);
        pool.roles = { ...roles };
        this.save();
    }

    private save(): void {
        if (!this.options.file) return;
        writeFileSync(`${this.options.file}.tmp`, JSON.stringify(this.state, null, 2));
        renameSync(`${this.options.file}.tmp`, this.options.file);
    }

    async listen(port = 0, host = "127.0.0.1"): Promise<number> {
        this.key = await importJWK(this.options.signingKey as Parameters<typeof importJWK>[0], "RS256");
        return super.listen(port, host);
    }

    protected internalError(res: ServerResponse, error: unknown): void {
        process.stderr.write(`[identity] ${String((error as Error)?.stack ?? error)}\n`);
        this.reply(res, 500, { __type: "InternalErrorException", message: "Internal error" }, { "x-amzn-errortype": "InternalErrorException" });
    }

    private reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID(), ...headers, "content-length": String(Buffer.byteLength(text)) });
        res.end(text);
    }

    /** CORS for the stack's own origins only (Cognito answers any origin; a local service need not). */
    private cors(origin: string | undefined): Record<string, string> {
        return jsonServiceCors(this.options.registry.stackOrigins(), origin, "x-amzn-requestid,x-amzn-errortype,date");
    }

    protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const cors = this.cors(req.headers.origin);
        // DNS rebinding: a page re-pointed at 127.0.0.1 still sends its own host name.
        if (!isLoopbackHost(req.headers.host)) {
            req.resume();
            this.reply(res, 403, { __type: "AccessDeniedException", message: `The local identity service answers only requests addressed to a loopback name; Host '${req.headers.host ?? ""}' is not one.` }, { "x-amzn-errortype": "AccessDeniedException" });
            return;
        }
        if (req.method === "OPTIONS") {
            req.resume();
            answerJsonPreflight(res, cors, req.headers["access-control-request-headers"]);
            return;
        }
        const reply = (status: number, body: unknown, extra: Record<string, string> = {}) => this.reply(res, status, body, { ...cors, ...extra });
        const fail = (error: CognitoIdentityError) => reply(error.status, { __type: error.type, message: error.message }, { "x-amzn-errortype": error.type });
        const request = await receive(res, () => readRequest(req, { maxBodyBytes: MAX_BODY_BYTES }), (error) =>
            fail(new CognitoIdentityError(error.status === 413 ? "RequestEntityTooLargeException" : "SerializationException", error.message, error.status)),
        );
        if (!request) return;
        const body = request.body;
        try {
            if (req.method !== "POST") throw new CognitoIdentityError("UnknownOperationException", `The local identity service answers POST requests, not ${req.method}.`);
            const target = String(req.headers["x-amz-target"] ?? "");
            const [prefix, operation] = target.split(".");
            if (prefix !== "AWSCognitoIdentityService") throw new CognitoIdentityError("UnknownOperationException", `Unknown operation ${target}`);
            let input: unknown;
            try {
                input = JSON.parse(body.toString("utf8") || "{}");
            } catch {
                throw new CognitoIdentityError("SerializationException", "Request body is not valid JSON");
            }
            if (input === null || typeof input !== "object" || Array.isArray(input)) throw new CognitoIdentityError("SerializationException", "Start of structure or map found where not expected.");
            const fault = this.options.faults?.match("cognito-identity", operation);
            if (fault) {
                await delay(fault.latencyMs);
                if (fault.error) throw new CognitoIdentityError(fault.error.code, `Injected fault (${this.options.faults!.file})`, fault.error.statusCode);
            }
            if (ADMIN_OPERATIONS.has(operation)) {
                reply(200, await this.admin(request, operation, input as Record<string, unknown>));
                return;
            }
            switch (operation) {
                case "GetId":
                    reply(200, await this.getId(validated(input, { IdentityPoolId: "string", Logins: "logins", AccountId: "string" })));
                    return;
                case "GetCredentialsForIdentity":
                    reply(200, await this.getCredentialsForIdentity(validated(input, { IdentityId: "string", Logins: "logins", CustomRoleArn: "string" })));
                    return;
                default:
                    if (!UNAUTHENTICATED_OPERATIONS.has(operation)) await this.authorize(request, operation, []);
                    throw new CognitoIdentityError("UnknownOperationException", `The local identity service does not implement ${operation}; it emulates GetId, GetCredentialsForIdentity, DeleteIdentities, DescribeIdentity and ListIdentities.`);
            }
        } catch (error) {
            if (!(error instanceof CognitoIdentityError)) throw error;
            fail(error);
        }
    }

    private requirePool(id: unknown): LocalIdentityPool {
        if (typeof id !== "string" || !/^[\w-]+:[0-9a-f-]+$/.test(id)) {
            throw new CognitoIdentityError("ValidationException", `1 validation error detected: Value '${String(id)}' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+`);
        }
        const pool = this.state.pools[id];
        if (!pool) throw new CognitoIdentityError("ResourceNotFoundException", `IdentityPool '${id}' not found.`);
        return pool;
    }

    /**
     * Verifies every login against the pool's providers; returns the (provider, sub) pairs, each
     * under the provider's name as the pool declares it.
     *
     * A login key is accepted when it names a provider of the pool and is the verified token's
     * issuer without its scheme, as on AWS (`cognito-idp.<region>.amazonaws.com/<poolId>`, which
     * Amplify derives from `iss`). Locally the User Pool's issuer is `http://127.0.0.1:<port>/<poolId>`,
     * so `127.0.0.1:<port>/<poolId>` is accepted, and so is the provider's name itself, which stands
     * for that issuer here as it does on AWS.
     */
    private async verifyLogins(pool: LocalIdentityPool, logins: unknown): Promise<{ providerName: string; sub: string }[]> {
        if (logins === undefined || logins === null || typeof logins !== "object" || Object.keys(logins).length === 0) {
            if (!pool.allowUnauthenticatedIdentities) throw new CognitoIdentityError("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.");
            throw new CognitoIdentityError("NotAuthorizedException", "The local cloud does not issue unauthenticated identities.");
        }
        const verified: { providerName: string; sub: string }[] = [];
        for (const [loginKey, token] of Object.entries(logins as Record<string, unknown>)) {
            const provider = pool.providers.find((p) => loginKey === p.providerName || loginKey === this.userPoolIssuer(p.providerName).replace(/^[a-z]+:\/\//, ""));
            if (!provider) throw new CognitoIdentityError("NotAuthorizedException", "Invalid login token. Token is not from a supported provider of this identity pool.");
            const providerName = provider.providerName;
            let payload: JWTPayload;
            try {
                ({ payload } = await jwtVerify(String(token), this.key!, {
                    algorithms: ["RS256"],
                    issuer: this.userPoolIssuer(providerName),
                    audience: provider.clientId,
                }));
            } catch (error) {
                const code = (error as { code?: string }).code;
                const reason =
                    code === "ERR_JWT_EXPIRED"
                        ? "Token expired"
                        : code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && (error as { claim?: string }).claim === "iss"
                          ? "Issuer doesn't match providerName"
                          : code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && (error as { claim?: string }).claim === "aud"
                            ? "Invalid audience: the token was issued to another app client"
                            : "Couldn't verify signed token";
                throw new CognitoIdentityError("NotAuthorizedException", `Invalid login token. ${reason}.`);
            }
            if (payload.token_use !== "id") throw new CognitoIdentityError("NotAuthorizedException", "Invalid login token. Not a valid OpenId Connect identity token.");
            if (typeof payload.sub !== "string") throw new CognitoIdentityError("NotAuthorizedException", "Invalid login token. Missing sub.");
            if (provider.serverSideTokenCheck && this.options.sessionActive && !(await this.options.sessionActive(payload as Record<string, unknown>))) {
                throw new CognitoIdentityError("NotAuthorizedException", "Invalid login token. Token has been revoked.");
            }
            verified.push({ providerName, sub: payload.sub });
        }
        return verified;
    }

    /** The `iss` of the local pool behind a provider name `cognito-idp.<region>.amazonaws.com/<poolId>`. */
    private userPoolIssuer(providerName: string): string {
        return `${this.options.userPoolIssuer}/${providerName.slice(providerName.indexOf("/") + 1)}`;
    }

    async getId(input: { IdentityPoolId?: string; Logins?: Record<string, string>; AccountId?: string }) {
        const pool = this.requirePool(input.IdentityPoolId);
        const logins = await this.verifyLogins(pool, input.Logins);
        const keys = logins.map(({ providerName, sub }) => `${pool.id}|${providerName}|${sub}`);
        let identityId = keys.map((key) => this.state.identities[key]).find(Boolean);
        if (!identityId) {
            identityId = `${this.options.region}:${randomUUID()}`;
        }
        for (const key of keys) this.state.identities[key] = identityId;
        this.touch(identityId);
        this.save();
        return { IdentityId: identityId };
    }

    async getCredentialsForIdentity(input: { IdentityId?: string; Logins?: Record<string, string>; CustomRoleArn?: string }) {
        const identityId = input.IdentityId;
        const entry = Object.entries(this.state.identities).find(([, id]) => id === identityId);
        if (!identityId || !entry) throw new CognitoIdentityError("ResourceNotFoundException", `Identity '${identityId}' not found.`);
        const pool = this.requirePool(entry[0].split("|")[0]);
        const logins = await this.verifyLogins(pool, input.Logins);
        for (const { providerName, sub } of logins) {
            if (this.state.identities[`${pool.id}|${providerName}|${sub}`] !== identityId) {
                throw new CognitoIdentityError("NotAuthorizedException", "Invalid login token. The login does not belong to this identity.");
            }
        }
        if (input.CustomRoleArn) throw new CognitoIdentityError("InvalidParameterException", "CustomRoleArn is only honoured with role-based access control, which this identity pool does not configure.");
        const roleArn = pool.roles.authenticated;
        if (!roleArn) throw new CognitoIdentityError("InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool.");
        const role = this.options.registry.role(roleArn);
        if (!role) throw new CognitoIdentityError("InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool.");
        const amr = ["authenticated", ...logins.map((l) => l.providerName), ...logins.map((l) => `${l.providerName}:CognitoSignIn:${l.sub}`)];
        await this.checkTrust(role.assumeRolePolicy, role.arn, pool.id, identityId, amr);
        const session = this.options.store.mint({
            roleArn: role.arn,
            sessionName: "CognitoIdentityCredentials",
            identityId,
            identityPoolId: pool.id,
            amr,
        });
        return {
            IdentityId: identityId,
            Credentials: {
                AccessKeyId: session.accessKeyId,
                SecretKey: session.secretAccessKey,
                SessionToken: session.sessionToken,
                Expiration: Math.floor(session.expiration / 1000),
            },
        };
    }

    private touch(identityId: string): void {
        const now = Math.floor(Date.now() / 1000);
        this.state.dates ??= {};
        this.state.dates[identityId] = { created: this.state.dates[identityId]?.created ?? now, modified: now };
    }

    /** The identity's pool and the provider names of its logins; undefined when it does not exist. */
    private identity(identityId: unknown): { poolId: string; logins: string[] } | undefined {
        const keys = Object.entries(this.state.identities).filter(([, id]) => id === identityId).map(([key]) => key.split("|"));
        if (keys.length === 0) return undefined;
        return { poolId: keys[0][0], logins: [...new Set(keys.map(([, provider]) => provider))] };
    }

    private describe(identityId: string, logins: string[]) {
        const dates = this.state.dates?.[identityId];
        return { IdentityId: identityId, Logins: logins, ...(dates ? { CreationDate: dates.created, LastModifiedDate: dates.modified } : {}) };
    }

    /** A signed request for an IAM-authorized action: the admin key, or a session its policies allow (on each identity pool named, where the action has a resource type). */
    private async authorize(request: ReceivedRequest, operation: string, poolIds: string[]): Promise<void> {
        const admin = this.options.admin;
        const adminKey: SigningKey | undefined = admin ? { secretAccessKey: admin.secretAccessKey } : undefined;
        const keys = { get: (accessKeyId: string): (SigningKey & Partial<SessionCredentials>) | undefined => (admin && accessKeyId === admin.accessKeyId ? adminKey : this.options.store.get(accessKeyId)) };
        const verified = await verifySigV4(request, { service: "cognito-identity", region: this.options.region, store: keys });
        if (!verified.ok) {
            const [type, message] = jsonSignatureError(verified.failure, "cognito-identity", "Missing Authentication Token");
            throw new CognitoIdentityError(type, message);
        }
        const session = verified.session;
        if (session === adminKey) return;
        const action = `cognito-identity:${operation}`;
        const poolArns = [...new Set(poolIds)].map((id) => `arn:aws:cognito-identity:${this.options.region}:${this.options.accountId}:identitypool/${id}`);
        // Without a resource type, IAM names the pool in the condition key cognito-identity:IdentityPoolArn
        // ("Actions, resources, and condition keys for Amazon Cognito Identity"). Deleting identities
        // that no longer exist names no pool and changes nothing: there is nothing to decide.
        if (operation === "DeleteIdentities" && poolArns.length === 0) return;
        const checks = NO_RESOURCE_TYPE.has(operation)
            ? poolArns.length > 0
                ? poolArns.map((arn) => ({ resource: "*", context: { "cognito-identity:IdentityPoolArn": arn } }))
                : [{ resource: "*", context: undefined }]
            : (poolArns.length > 0 ? poolArns : ["*"]).map((resource) => ({ resource, context: undefined }));
        for (const { resource, context } of checks) {
            const decision = await decide({ policies: this.options.registry.policiesOf(session.roleArn!), action, resource, context, principal: session.principalArn, accountId: this.options.accountId }).catch(() => "ImplicitDeny" as const);
            if (decision !== "Allow") throw new CognitoIdentityError("AccessDeniedException", `User: ${session.principalArn} is not authorized to perform: ${action} on resource: ${resource}`);
        }
    }

    /** DeleteIdentities, DescribeIdentity, ListIdentities. */
    private async admin(request: ReceivedRequest, operation: string, input: Record<string, unknown>): Promise<unknown> {
        switch (operation) {
            case "DescribeIdentity": {
                const { IdentityId } = validated<{ IdentityId?: string }>(input, { IdentityId: "string" });
                const found = this.identity(IdentityId);
                await this.authorize(request, operation, found ? [found.poolId] : []);
                if (!IdentityId || !found) throw new CognitoIdentityError("ResourceNotFoundException", `Identity '${String(IdentityId)}' not found.`);
                return this.describe(IdentityId, found.logins);
            }
            case "ListIdentities": {
                const { IdentityPoolId, NextToken } = validated<{ IdentityPoolId?: string; NextToken?: string }>(input, { IdentityPoolId: "string", NextToken: "string" });
                const max = input.MaxResults;
                if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 60) {
                    throw new CognitoIdentityError("ValidationException", `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60`);
                }
                await this.authorize(request, operation, [String(IdentityPoolId)]);
                const pool = this.requirePool(IdentityPoolId);
                const ids = [...new Set(Object.entries(this.state.identities).filter(([key]) => key.split("|")[0] === pool.id).map(([, id]) => id))].sort();
                const after = NextToken ? Buffer.from(NextToken, "base64url").toString("utf8") : "";
                const page = ids.filter((id) => id > after).slice(0, max);
                const more = ids.filter((id) => id > after).length > page.length;
                return {
                    IdentityPoolId: pool.id,
                    Identities: page.map((id) => this.describe(id, this.identity(id)!.logins)),
                    ...(more ? { NextToken: Buffer.from(page[page.length - 1], "utf8").toString("base64url") } : {}),
                };
            }
            case "DeleteIdentities": {
                const ids = input.IdentityIdsToDelete;
                if (!Array.isArray(ids) || ids.length < 1 || ids.length > 60 || ids.some((id) => typeof id !== "string")) {
                    throw new CognitoIdentityError("ValidationException", "1 validation error detected: Value at 'identityIdsToDelete' failed to satisfy constraint: Member must have length between 1 and 60");
                }
                // Only identities that exist are authorized: deleting one that is gone already changes nothing.
                const existing = (ids as string[]).map((id) => [id, this.identity(id)] as const).filter(([, found]) => found);
                await this.authorize(request, operation, existing.map(([, found]) => found!.poolId));
                for (const [id] of existing) {
                    for (const [key, value] of Object.entries(this.state.identities)) if (value === id) delete this.state.identities[key];
                    delete this.state.dates?.[id];
                }
                this.save();
                return { UnprocessedIdentityIds: [] };
            }
        }
        throw new CognitoIdentityError("UnknownOperationException", `Unknown operation ${operation}`);
    }

    /**
     * STS refuses AssumeRoleWithWebIdentity unless the role's trust policy admits the Identity
     * Pool (aud) and the authentication method (amr); the enhanced flow does the same check.
     */
    private async checkTrust(trustPolicy: string, roleArn: string, poolId: string, identityId: string, amr: string[]): Promise<void> {
        const decision = await decide({
            policies: [],
            resourcePolicy: trustPolicy,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: roleArn,
            principal: "cognito-identity.amazonaws.com",
            accountId: this.options.accountId,
            context: {
                "cognito-identity.amazonaws.com:aud": poolId,
                "cognito-identity.amazonaws.com:amr": amr,
                "cognito-identity.amazonaws.com:sub": identityId,
            },
        });
        if (decision !== "Allow") {
            throw new CognitoIdentityError("InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool.");
        }
    }
}
