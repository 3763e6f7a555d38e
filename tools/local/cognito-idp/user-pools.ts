import { mkdirSync } from "node:fs";
import { IncomingMessage, Server, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { decodeJwt, importJWK, jwtVerify, SignJWT, type CryptoKey } from "jose";
import { decide, isKnownAction } from "../iam/decide";
import type { AdminCredentials, SigningKeyPair } from "../keys";
import type { LocalRegistry } from "../registry";
import { answerJsonPreflight, closeServer, isLoopbackHost, jsonServiceCors, listenOn, readRequest, ReceivedRequest, receive, safeServer, stdoutLog } from "../server";
import type { CredentialStore, SessionCredentials } from "../sts/credentials";
import { jsonSignatureError, SigningKey, verifySigV4 } from "../sts/sigv4";
import { accountCodes, codeLine, PURPOSE_OF_SOURCE } from "./account-codes";
import { CognitoIdpError, userPoolRules } from "./rules";
import { signIn } from "./sign-in";
import { TokenSessions } from "./token-sessions";

/** cognito-local's building blocks (what its `createDefaultServer` wires), loaded on first use. */
function cognitoLocal() {
    // cognito-local bundles AWS SDK v2, which prints an end-of-support notice when loaded.
    process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
    return {
        loadConfig: require("cognito-local/lib/server/config").loadConfig,
        Router: require("cognito-local/lib/server/Router").Router,
        services: require("cognito-local/lib/services"),
        errors: require("cognito-local/lib/errors"),
        CognitoServiceFactoryImpl: require("cognito-local/lib/services/cognitoService").CognitoServiceFactoryImpl,
        CryptoService: require("cognito-local/lib/services/crypto").CryptoService,
        StormDBDataStoreFactory: require("cognito-local/lib/services/dataStore/stormDb").StormDBDataStoreFactory,
        selectAppropriateDeliveryMethod: require("cognito-local/lib/services/messageDelivery/deliveryMethod").selectAppropriateDeliveryMethod,
        otp: require("cognito-local/lib/services/otp").otp,
        JwtTokenGenerator: require("cognito-local/lib/services/tokenGenerator").JwtTokenGenerator,
        UserPoolServiceFactoryImpl: require("cognito-local/lib/services/userPoolService").UserPoolServiceFactoryImpl,
    };
}

/**
 * The operations AWS serves without IAM credentials (the service model's `smithy.api#noAuth`
 * operations in `@aws-sdk/client-cognito-identity-provider`): sign-up, sign-in and what a user does
 * with their own tokens. Every other action (every `Admin*` action, `ListUsers`, `CreateUserPool` …)
 * needs a SigV4 signature; the local cloud accepts the local admin's and decides a session's with IAM.
 */
export const UNAUTHENTICATED_OPERATIONS = new Set([
    "AssociateSoftwareToken", "ChangePassword", "CompleteWebAuthnRegistration", "ConfirmDevice", "ConfirmForgotPassword", "ConfirmSignUp",
    "DeleteUser", "DeleteUserAttributes", "DeleteWebAuthnCredential", "ForgetDevice", "ForgotPassword", "GetDevice", "GetTokensFromRefreshToken",
    "GetUser", "GetUserAttributeVerificationCode", "GetUserAuthFactors", "GlobalSignOut", "InitiateAuth", "ListDevices", "ListUserSessions",
    "ListWebAuthnCredentials", "ResendConfirmationCode", "RespondToAuthChallenge", "RevokeToken", "RevokeUserSession", "SetUserMFAPreference",
    "SetUserSettings", "SignUp", "StartWebAuthnRegistration", "UpdateAuthEventFeedback", "UpdateDeviceStatus", "UpdateUserAttributes",
    "VerifySoftwareToken", "VerifyUserAttribute",
]);

/** Request members these operations require, and their JSON types (what AWS validates before anything runs). */
const REQUIRED: Record<string, string[]> = {
    SignUp: ["ClientId", "Username", "Password"],
    ConfirmSignUp: ["ClientId", "Username", "ConfirmationCode"],
    ResendConfirmationCode: ["ClientId", "Username"],
    ForgotPassword: ["ClientId", "Username"],
    ConfirmForgotPassword: ["ClientId", "Username", "ConfirmationCode", "Password"],
    InitiateAuth: ["AuthFlow", "ClientId"],
    RespondToAuthChallenge: ["ClientId", "ChallengeName"],
    RevokeToken: ["Token", "ClientId"],
    ChangePassword: ["AccessToken", "ProposedPassword"],
    UpdateUserAttributes: ["AccessToken", "UserAttributes"],
    DeleteUserAttributes: ["AccessToken", "UserAttributeNames"],
    GetUserAttributeVerificationCode: ["AccessToken", "AttributeName"],
    VerifyUserAttribute: ["AccessToken", "AttributeName", "Code"],
    VerifySoftwareToken: ["UserCode"],
    GetUser: ["AccessToken"],
    DeleteUser: ["AccessToken"],
    GlobalSignOut: ["AccessToken"],
    SetUserMFAPreference: ["AccessToken"],
};
const MEMBER_TYPES: Record<string, "string" | "stringMap" | "attributes" | "strings" | "boolean" | "number" | "mfaSettings"> = {
    ClientId: "string", Username: "string", Password: "string", ConfirmationCode: "string", AuthFlow: "string", ChallengeName: "string",
    Session: "string", SecretHash: "string", AccessToken: "string", PreviousPassword: "string", ProposedPassword: "string", Token: "string",
    ClientSecret: "string", UserCode: "string", AttributeName: "string", Code: "string", FriendlyDeviceName: "string", UserPoolId: "string",
    AuthParameters: "stringMap", ChallengeResponses: "stringMap", ClientMetadata: "stringMap",
    UserAttributes: "attributes", ValidationData: "attributes", UserAttributeNames: "strings", ForceAliasCreation: "boolean",
    SoftwareTokenMfaSettings: "mfaSettings", SMSMfaSettings: "mfaSettings", EmailMfaSettings: "mfaSettings",
};

function memberOk(type: (typeof MEMBER_TYPES)[string], value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "boolean":
            return typeof value === "boolean";
        case "number":
            return typeof value === "number";
        case "strings":
            return Array.isArray(value) && value.every((v) => typeof v === "string");
        case "stringMap":
            return value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
        case "attributes":
            return Array.isArray(value) && value.every((a) => a !== null && typeof a === "object" && typeof a.Name === "string" && (a.Value === undefined || typeof a.Value === "string"));
        case "mfaSettings":
            return value !== null && typeof value === "object" && !Array.isArray(value) && ["Enabled", "PreferredMfa"].every((key) => (value as any)[key] === undefined || typeof (value as any)[key] === "boolean");
    }
}


const MAX_BODY_BYTES = 1024 * 1024;

export interface LocalUserPools {
    /** `http://127.0.0.1:<port>`: the endpoint for SDK clients and the token issuer prefix. */
    endpoint: string;
    /** Calls one Cognito Identity Provider action in-process (provisioning; no HTTP, no authorization). */
    call<T = any>(action: string, request: Record<string, unknown>): Promise<T>;
    /** The pool's record (with `UserAttributeUpdateSettings` and `SoftwareTokenMfaConfiguration`), or undefined when it does not exist. */
    describePool(userPoolId: string): Promise<any | undefined>;
    /**
     * Whether a verified token's sign-in session is still good: the user exists and is enabled, and
     * neither a global sign-out nor a revocation ended the session (`origin_jti`). The Identity
     * service asks this for an Identity Pool provider with `ServerSideTokenCheck`.
     */
    sessionActive(claims: Record<string, unknown>): Promise<boolean>;
    /** Sets pool settings in-process that cognito-local's UpdateUserPool does not take (provisioning). */
    updatePool(userPoolId: string, options: Record<string, unknown>): Promise<void>;
    close(): Promise<void>;
}

export interface UserPoolsOptions {
    dataDir: string;
    port?: number;
    region: string;
    accountId: string;
    /** The data directory's key (`tools/local/keys.ts`): tokens are signed with it, the JWKS serves its public half. */
    signingKey: SigningKeyPair;
    /** The local admin's key: requests signed with it may call every action. */
    admin: AdminCredentials;
    /** Sessions the local cloud issued: requests signed with them are decided with their role's policies. */
    store?: CredentialStore;
    /** The stack (for CORS origins and role policies). */
    registry: LocalRegistry;
    /** Where codes go: one line per code, `[cognito] <purpose> code for <username> (<destination>): <code>`. */
    onCode?: (line: string) => void;
    log?: (line: Record<string, unknown>) => void;
}

function quietLogger(): any {
    const pino = require("pino");
    return pino({ level: process.env.COGNITO_LOCAL_LOG_LEVEL ?? "silent" });
}

/** cognito-local's Date values travel as epoch seconds, as in AWS's JSON protocol. */
function serialize(value: unknown): string {
    return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
        return this[key] instanceof Date ? Math.floor((this[key] as Date).getTime() / 1000) : v;
    });
}

/**
 * Starts the local User Pools on 127.0.0.1: cognito-local's services (users, pools, clients,
 * codes; data under `<dataDir>/cognito`) behind a front of our own, which
 * - refuses a `Host` that is not loopback and answers CORS for the stack's origins only;
 * - signs every token with the data directory's key, not the key published in cognito-local's
 *   package, and serves that key's public half at `/<poolId>/.well-known/jwks.json`;
 * - verifies the signature, issuer, expiry and `token_use` of an access token before an operation
 *   that takes one runs (cognito-local only decodes it);
 * - requires a SigV4 signature for every operation AWS authorizes with IAM: the local admin key
 *   may do everything, an issued session what its role's policies allow;
 * - validates request members' types and answers every failure in the service's JSON error format.
 */
export async function startUserPools(options: UserPoolsOptions): Promise<LocalUserPools> {
    const { loadConfig, Router, services, errors, CognitoServiceFactoryImpl, CryptoService, StormDBDataStoreFactory, selectAppropriateDeliveryMethod, otp, JwtTokenGenerator, UserPoolServiceFactoryImpl } =
        cognitoLocal();
    const log = options.log ?? stdoutLog;
    const dir = path.join(options.dataDir, "cognito");
    mkdirSync(path.join(dir, "db"), { recursive: true });
    let handler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
    const server: Server = safeServer((req, res) => handler!(req, res), {
        onError: (res, error) => {
            log({ level: "error", source: "cognito-idp", message: String((error as Error)?.stack ?? error) });
            reply(res, 500, { __type: "InternalErrorException", message: "Internal error" }, { "x-amzn-errortype": "InternalErrorException" });
        },
    });
    const endpoint = `http://127.0.0.1:${await listenOn(server, options.port ?? 0)}`;

    const logger = quietLogger();
    const ctx = { logger };
    const config = await loadConfig(ctx, new StormDBDataStoreFactory(dir));
    config.TokenConfig = { ...config.TokenConfig, IssuerDomain: endpoint };
    const clock = new services.DateClock();
    const dataStoreFactory = new StormDBDataStoreFactory(path.join(dir, "db"));
    const cognito = await new CognitoServiceFactoryImpl(path.join(dir, "db"), dataStoreFactory, new UserPoolServiceFactoryImpl(clock, dataStoreFactory)).create(ctx, config.UserPoolDefaults);
    const onCode = options.onCode ?? ((line: string) => process.stdout.write(`${line}\n`));
    const sendCode = (purpose: Parameters<typeof codeLine>[0], username: string, destination: string, code: string) => onCode(codeLine(purpose, username, destination, code));
    // Lambda triggers are not configured by this program; cognito-local's Lambda client is never called.
    const triggers = new services.TriggersService(clock, cognito, new services.LambdaService({}, undefined), new CryptoService(config.KMSConfig));

    // cognito-local signs with the key shipped in its package, which anyone can read. Its
    // generator still decides the claims; every token is re-signed with this data directory's key.
    const privateKey = (await importJWK(options.signingKey.privateJwk as Parameters<typeof importJWK>[0], "RS256")) as CryptoKey;
    const publicKey = (await importJWK(options.signingKey.publicJwk as Parameters<typeof importJWK>[0], "RS256")) as CryptoKey;
    const resign = (token: string, claims: Record<string, unknown>) => new SignJWT({ ...decodeJwt(token), ...claims }).setProtectedHeader({ alg: "RS256", kid: options.signingKey.kid }).sign(privateKey);
    const packaged = new JwtTokenGenerator(clock, triggers, config.TokenConfig);
    const sessions = new TokenSessions(path.join(dir, "sessions.json"));
    /** A session's tokens: cognito-local's claims, the session's `origin_jti`, this data directory's key. */
    async function mint(user: any, client: any, originJti: string, source: string) {
        const pool = await cognito.getUserPool(ctx, client.UserPoolId);
        const tokens = await packaged.generate(ctx, user, await pool.listUserGroupMembership(ctx, user), client, undefined, source);
        const session = { origin_jti: originJti };
        return {
            AccessToken: await resign(tokens.AccessToken, session),
            IdToken: await resign(tokens.IdToken, session),
            RefreshToken: await resign(tokens.RefreshToken, { ...session, client_id: client.ClientId }),
        };
    }
    // What cognito-local's own flows mint (AdminInitiateAuth) starts a session like any sign-in.
    const tokenGenerator = {
        async generate(_ctx: unknown, user: any, _groups: unknown, client: any, _metadata: unknown, source: string) {
            const originJti = randomUUID();
            const tokens = await mint(user, client, originJti, source);
            sessions.add(client.UserPoolId, user.Username, originJti);
            return tokens;
        },
    };
    const messages = {
        deliver(_ctx: unknown, source: string, _clientId: unknown, _poolId: unknown, user: any, code: string, _metadata: unknown, delivery: { Destination: string }) {
            sendCode(PURPOSE_OF_SOURCE[source] ?? "confirmation", user.Username, delivery.Destination, code);
            return Promise.resolve();
        },
    };
    const router = Router({ clock, cognito, config, messages, otp, tokenGenerator, triggers });
    const rules = userPoolRules({ cognito, messages, otp, clock, selectAppropriateDeliveryMethod }, ctx);
    const verifyRefreshToken = async (token: string) => {
        try {
            const { payload } = await jwtVerify(token, publicKey, { algorithms: ["RS256"] });
            return typeof payload.iss === "string" && payload.iss.startsWith(`${endpoint}/`) && payload.token_use === undefined && typeof payload.origin_jti === "string" ? (payload as Record<string, unknown>) : undefined;
        } catch {
            return undefined;
        }
    };
    const flows = signIn({ cognito, clock, mint, verifyRefreshToken, sessions }, ctx);
    const codes = accountCodes({ cognito, clock, otp, send: sendCode }, ctx);

    async function sessionActive(claims: Record<string, unknown>): Promise<boolean> {
        if (typeof claims.iss !== "string" || !claims.iss.startsWith(`${endpoint}/`)) return false;
        const poolId = claims.iss.slice(endpoint.length + 1);
        const username = claims.token_use === "access" ? claims.username : claims["cognito:username"];
        if (typeof username !== "string") return false;
        try {
            const pool = await cognito.getUserPool(ctx, poolId);
            const user = await pool.getUserByUsername(ctx, username);
            return Boolean(user) && user.Enabled !== false && user.Username === username && sessions.has(poolId, username, claims.origin_jti);
        } catch {
            return false;
        }
    }

    const adminKey: SigningKey = { secretAccessKey: options.admin.secretAccessKey };
    const keys = {
        get: (accessKeyId: string): (SigningKey & Partial<SessionCredentials>) | undefined => (accessKeyId === options.admin.accessKeyId ? adminKey : options.store?.get(accessKeyId)),
    };

    function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
        const text = typeof body === "string" ? body : serialize(body);
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID(), ...headers, "content-length": String(Buffer.byteLength(text)) });
        res.end(text);
    }

    async function describePool(userPoolId: string): Promise<any | undefined> {
        try {
            const described = (await router("DescribeUserPool")(ctx, { UserPoolId: userPoolId })).UserPool;
            // What cognito-local's answer leaves out and the local User Pools act on.
            const { UserAttributeUpdateSettings, SoftwareTokenMfaConfiguration } = (await cognito.getUserPool(ctx, userPoolId)).options;
            return { ...described, UserAttributeUpdateSettings, SoftwareTokenMfaConfiguration };
        } catch {
            return undefined;
        }
    }

    /** Verifies an access token as Cognito would: this machine's key, one of its pools, not expired, `token_use: access`. */
    async function checkAccessToken(token: string): Promise<void> {
        let revoked = false;
        try {
            const { payload } = await jwtVerify(token, publicKey, { algorithms: ["RS256"] });
            if (payload.token_use !== "access" || typeof payload.iss !== "string" || !payload.iss.startsWith(`${endpoint}/`)) throw new Error("not an access token of these pools");
            if (!(await sessionActive(payload as Record<string, unknown>))) revoked = true;
        } catch (error) {
            const expired = (error as { code?: string }).code === "ERR_JWT_EXPIRED";
            throw new CognitoIdpError("NotAuthorizedException", expired ? "Access Token has expired" : "Invalid Access Token");
        }
        if (revoked) throw new CognitoIdpError("NotAuthorizedException", "Access Token has been revoked");
    }

    /** A SigV4-signed request for an IAM-authorized action: the admin key, or a session its policies allow. */
    async function authorizeIam(request: ReceivedRequest, operation: string, input: Record<string, unknown>): Promise<void> {
        const verified = await verifySigV4(request, { service: "cognito-idp", region: options.region, store: keys });
        if (!verified.ok) {
            const [type, message] = jsonSignatureError(verified.failure, "cognito-idp", "Missing Authentication Token");
            log({ level: "info", source: "cognito-idp", status: 400, type, operation, detail: verified.detail });
            throw new CognitoIdpError(type, message);
        }
        const session = verified.session;
        if (session === adminKey) return;
        const poolId = typeof input.UserPoolId === "string" ? input.UserPoolId : "*";
        const resource = `arn:aws:cognito-idp:${options.region}:${options.accountId}:userpool/${poolId}`;
        const action = `cognito-idp:${operation}`;
        const decision = await decide({ policies: options.registry.policiesOf(session.roleArn!), action, resource, principal: session.principalArn, accountId: options.accountId }).catch(() => "ImplicitDeny" as const);
        if (decision !== "Allow") {
            log({ level: "info", source: "cognito-idp", status: 400, decision, action, resource, principal: session.principalArn });
            throw new CognitoIdpError("AccessDeniedException", `User: ${session.principalArn} is not authorized to perform: ${action} on resource: ${resource}`);
        }
    }

    handler = async (req, res) => {
        const origin = req.headers.origin;
        const cors = jsonServiceCors(options.registry.stackOrigins(), origin, "x-amzn-requestid,x-amzn-errortype,x-amzn-errormessage,date");
        // DNS rebinding: a page re-pointed at 127.0.0.1 still sends its own host name.
        if (!isLoopbackHost(req.headers.host)) {
            req.resume();
            reply(res, 403, { __type: "AccessDeniedException", message: `The local User Pools answer only requests addressed to a loopback name; Host '${req.headers.host ?? ""}' is not one.` }, { "x-amzn-errortype": "AccessDeniedException" });
            return;
        }
        const fail = (error: CognitoIdpError) => reply(res, error.status, { __type: error.type, message: error.message }, { ...cors, "x-amzn-errortype": error.type });
        const request = await receive(res, () => readRequest(req, { maxBodyBytes: MAX_BODY_BYTES }), (error) =>
            fail(new CognitoIdpError(error.status === 413 ? "RequestEntityTooLargeException" : "SerializationException", error.message, error.status)),
        );
        if (!request) return;
        try {
            if (request.method === "OPTIONS") {
                answerJsonPreflight(res, cors, request.headers["access-control-request-headers"]);
                return;
            }
            const wellKnown = /^\/([\w-]{1,55}_[0-9a-zA-Z]{1,40})\/\.well-known\/(jwks\.json|openid-configuration)$/.exec(request.path);
            if (request.method === "GET" && wellKnown) {
                if (!(await describePool(wellKnown[1]))) throw new CognitoIdpError("ResourceNotFoundException", `User pool ${wellKnown[1]} does not exist.`, 404);
                const issuer = `${endpoint}/${wellKnown[1]}`;
                const document =
                    wellKnown[2] === "jwks.json"
                        ? { keys: [options.signingKey.publicJwk] }
                        : { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ["RS256"], subject_types_supported: ["public"], response_types_supported: ["code", "token"] };
                reply(res, 200, document, { ...cors, "content-type": "application/json" });
                return;
            }
            if (request.method !== "POST" || request.path !== "/") throw new CognitoIdpError("UnknownOperationException", `The local User Pools serve POST / (and GET /<poolId>/.well-known/jwks.json), not ${request.method} ${request.path.slice(0, 100)}.`, request.method === "POST" ? 404 : 405);
            const [prefix, operation = ""] = String(request.headers["x-amz-target"] ?? "").split(".");
            if (prefix !== "AWSCognitoIdentityProviderService" || !(await isKnownAction("cognito-idp", operation))) {
                throw new CognitoIdpError("UnknownOperationException", `Unknown operation ${String(request.headers["x-amz-target"] ?? "").slice(0, 100)}`);
            }
            let input: unknown;
            try {
                input = JSON.parse(request.body.toString("utf8") || "{}");
            } catch {
                throw new CognitoIdpError("SerializationException", "Request body is not valid JSON");
            }
            if (input === null || typeof input !== "object" || Array.isArray(input)) throw new CognitoIdpError("SerializationException", "Start of structure or map found where not expected.");
            const members = input as Record<string, unknown>;
            for (const [name, value] of Object.entries(members)) {
                const type = MEMBER_TYPES[name];
                if (type && value !== null && !memberOk(type, value)) throw new CognitoIdpError("SerializationException", `${name} is not of the expected type.`);
            }
            if (UNAUTHENTICATED_OPERATIONS.has(operation)) {
                const missing = (REQUIRED[operation] ?? []).filter((name) => members[name] === undefined || members[name] === null);
                if (missing.length) throw new CognitoIdpError("InvalidParameterException", `${missing.length} validation error${missing.length > 1 ? "s" : ""} detected: ${missing.map((m) => `Value at '${m.charAt(0).toLowerCase()}${m.slice(1)}' failed to satisfy constraint: Member must not be null`).join("; ")}`);
                if (typeof members.AccessToken === "string") await checkAccessToken(members.AccessToken);
            } else {
                await authorizeIam(request, operation, members);
            }
            let output: unknown;
            try {
                const fallback = () => router(operation)(ctx, members);
                const answered = (await rules.before(operation, members)) ?? (await flows.run(operation, members, fallback)) ?? (await codes.run(operation, members, fallback));
                output = answered ? answered.output : await fallback();
            } catch (error) {
                if (error instanceof CognitoIdpError) throw error;
                if (error instanceof errors.UnsupportedError) throw new CognitoIdpError("UnsupportedOperationException", `The local User Pools (cognito-local) do not support ${operation}.`);
                if (error instanceof errors.CognitoError) throw rules.translate(operation, error as unknown as { code: string; message: string });
                throw error;
            }
            reply(res, 200, output ?? {}, cors);
        } catch (error) {
            if (!(error instanceof CognitoIdpError)) throw error;
            fail(error);
        }
    };

    return {
        endpoint,
        async call(action, request) {
            return router(action)(ctx, request);
        },
        describePool,
        sessionActive,
        async updatePool(userPoolId, settings) {
            const pool = await cognito.getUserPool(ctx, userPoolId);
            await pool.updateOptions(ctx, { ...pool.options, ...settings });
        },
        close() {
            return closeServer(server);
        },
    };
}
