import { delay, type LocalFaults } from "../faults/faults";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { importJWK, jwtVerify, JWTPayload, type CryptoKey } from "jose";
import { decide } from "../iam/decide";
import { LocalRegistry } from "../registry";
import { answerJsonPreflight, isLoopbackHost, jsonServiceCors, LocalServer, readBody, receive } from "../server";
import { CredentialStore } from "../sts/credentials";

/** AWS JSON 1.1 requests of this service are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

/** An Identity Pool as the program declared it (`aws:cognito/identityPool:IdentityPool`). */
export interface LocalIdentityPool {
    id: string;
    name: string;
    allowUnauthenticatedIdentities: boolean;
    providers: { providerName: string; clientId: string }[];
    /** From `aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment`. */
    roles: { authenticated?: string; unauthenticated?: string };
}

interface IdentityState {
    pools: Record<string, LocalIdentityPool>;
    /** `<pool id>|<provider name>|<user sub>` -> identity id. */
    identities: Record<string, string>;
}

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
}

/**
 * The Cognito Identity Pool service, as much of it as an app with authenticated identities uses:
 * `GetId` and `GetCredentialsForIdentity` over AWS JSON 1.1, as `@aws-sdk/client-cognito-identity`
 * and Amplify speak it. Logins are User Pool id tokens, verified against the local pool's key,
 * issuer, the pool's app client (audience), expiry and `token_use`.
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
        const body = await receive(res, () => readBody(req, MAX_BODY_BYTES), (error) =>
            fail(new CognitoIdentityError(error.status === 413 ? "RequestEntityTooLargeException" : "SerializationException", error.message, error.status)),
        );
        if (!body) return;
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
            switch (operation) {
                case "GetId":
                    reply(200, await this.getId(validated(input, { IdentityPoolId: "string", Logins: "logins", AccountId: "string" })));
                    return;
                case "GetCredentialsForIdentity":
                    reply(200, await this.getCredentialsForIdentity(validated(input, { IdentityId: "string", Logins: "logins", CustomRoleArn: "string" })));
                    return;
                default:
                    throw new CognitoIdentityError("UnknownOperationException", `The local identity service does not implement ${operation}; it emulates GetId and GetCredentialsForIdentity.`);
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
