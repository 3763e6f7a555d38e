import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { escapeHtml } from "../../identity-providers/providers";
import type { LocalRegistry } from "../../registry";
import { wildcardMatch } from "../../registry";
import { closeServer, isLoopbackHost, jsonServiceCors, readBody } from "../../server";
import type { FederatedProvider, FederationState, OAuthClient } from "./state";

/** Cognito's authorization codes are good for 5 minutes, once. */
const CODE_SECONDS = 300;
/** A sign-in started at /oauth2/authorize must come back from the provider within this time. */
const TRANSACTION_SECONDS = 600;
const MAX_FORM_BYTES = 16 * 1024;

/** What the managed login needs of the User Pools: users, and tokens as a sign-in issues them. */
export interface PoolUsers {
    /** `http://127.0.0.1:<port>` of the User Pools (refresh and GetUser go through it). */
    endpoint: string;
    get(userPoolId: string, username: string): Promise<any | null>;
    save(userPoolId: string, user: Record<string, unknown>): Promise<void>;
    /** Tokens of a new sign-in session for this user and client; the id token carries `nonce` when given. */
    issue(userPoolId: string, clientId: string, username: string, nonce?: string): Promise<{ AccessToken: string; IdToken: string; RefreshToken: string }>;
}

interface Transaction {
    client: OAuthClient;
    redirectUri: string;
    appState?: string;
    appNonce?: string;
    codeChallenge?: string;
    scopes: string[];
    providerName: string;
    idpNonce: string;
    expires: number;
}

interface AppCode {
    client: OAuthClient;
    redirectUri: string;
    codeChallenge?: string;
    username: string;
    appNonce?: string;
    expires: number;
}

/** An OAuth error answered to the client (a redirect to its callback, or JSON from the token endpoint). */
class OAuthError extends Error {
    constructor(
        readonly error: string,
        description: string,
        readonly status = 400,
    ) {
        super(description);
    }
}

export interface ManagedLoginOptions {
    state: FederationState;
    users: PoolUsers;
    registry: LocalRegistry;
    tls: { cert: Buffer; key: Buffer };
    log?: (line: Record<string, unknown>) => void;
}

/**
 * The User Pool's managed login and OAuth 2.0 endpoints, as Cognito serves them on its domain:
 * `/oauth2/authorize`, `/oauth2/idpresponse`, `/oauth2/token` (authorization code with PKCE S256,
 * refresh token), `/oauth2/userInfo` and `/logout`, over TLS on a loopback port. Sign-in goes
 * through the configured providers' local stand-ins (tools/local/identity-providers); the page
 * Cognito shows for a password is not emulated (the app signs in with a password through the API).
 */
export class ManagedLogin {
    private server?: Server;
    private origin = "";
    private readonly transactions = new Map<string, Transaction>();
    private readonly codes = new Map<string, AppCode>();

    constructor(private readonly options: ManagedLoginOptions) {}

    /** `localhost:<port>`: what Amplify's `oauth.domain` is locally. */
    get domain(): string {
        return this.origin.slice("https://".length);
    }

    /** Where providers send people back (`https://localhost:<port>/oauth2/idpresponse`). */
    get idpResponseUrl(): string {
        return `${this.origin}/oauth2/idpresponse`;
    }

    async listen(port = 0): Promise<number> {
        const server = createServer({ cert: this.options.tls.cert, key: this.options.tls.key }, (req, res) => {
            req.on("error", () => undefined);
            res.on("error", () => undefined);
            this.handle(req, res).catch((error) => {
                (this.options.log ?? (() => undefined))({ level: "error", source: "managed-login", message: String((error as Error)?.stack ?? error) });
                if (res.headersSent) res.destroy();
                else this.page(res, 500, "Something went wrong", "<p>Internal error.</p>");
            });
        });
        server.requestTimeout = 120_000;
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, "127.0.0.1", () => resolve());
        });
        this.server = server;
        const bound = (server.address() as AddressInfo).port;
        this.origin = `https://localhost:${bound}`;
        return bound;
    }

    close(): Promise<void> {
        return closeServer(this.server as unknown as import("node:http").Server);
    }

    private page(res: ServerResponse, status: number, title: string, body: string): void {
        const text = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
        res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY", "content-length": String(Buffer.byteLength(text)) });
        res.end(text);
    }

    private redirect(res: ServerResponse, location: string): void {
        res.writeHead(302, { location, "cache-control": "no-store" });
        res.end();
    }

    private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json;charset=UTF-8", "cache-control": "no-store", ...headers, "content-length": String(Buffer.byteLength(text)) });
        res.end(text);
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        if (!isLoopbackHost(req.headers.host)) {
            req.resume();
            this.page(res, 403, "Forbidden", "<p>The local managed login answers loopback names only.</p>");
            return;
        }
        const url = new URL(req.url ?? "/", this.origin);
        const cors = jsonServiceCors(this.options.registry.stackOrigins(), req.headers.origin, "");
        const route = `${req.method} ${url.pathname}`;
        switch (route) {
            case "GET /oauth2/authorize":
                return this.authorize(res, url.searchParams);
            case "GET /oauth2/idpresponse":
                return this.idpResponse(res, url.searchParams);
            case "POST /oauth2/token":
                return this.token(req, res, cors);
            case "GET /oauth2/userInfo":
            case "POST /oauth2/userInfo":
                req.resume();
                return this.userInfo(req, res, cors);
            case "GET /logout":
                return this.logout(res, url.searchParams);
            case "GET /error":
                this.page(res, 400, "An error was encountered with the requested page.", `<p>error=${escapeHtml(url.searchParams.get("error") ?? "unknown")}</p>`);
                return;
            case "OPTIONS /oauth2/token":
            case "OPTIONS /oauth2/userInfo":
                // Amplify adds x-amz-user-agent to its token request; the stack's origins may send what they ask for.
                res.writeHead(
                    204,
                    cors["access-control-allow-origin"]
                        ? { ...cors, "access-control-allow-methods": "GET,POST", "access-control-allow-headers": String(req.headers["access-control-request-headers"] ?? "authorization,content-type"), "access-control-max-age": "600" }
                        : {},
                );
                res.end();
                return;
            default:
                req.resume();
                this.page(res, 404, "Not found", `<p>No ${escapeHtml(route.slice(0, 100))} on the local managed login.</p>`);
        }
    }

    private errorPage(res: ServerResponse, error: string): void {
        this.redirect(res, `${this.origin}/error?error=${encodeURIComponent(error)}`);
    }

    /** Back to the app's callback with an OAuth error (only once the callback is known to be the client's). */
    private redirectError(res: ServerResponse, redirectUri: string, error: string, description: string, state?: string): void {
        const back = new URL(redirectUri);
        back.searchParams.set("error_description", description);
        back.searchParams.set("error", error);
        if (state !== undefined) back.searchParams.set("state", state);
        this.redirect(res, back.toString());
    }

    private authorize(res: ServerResponse, params: URLSearchParams): void {
        const client = this.options.state.clients.get(params.get("client_id") ?? "");
        if (!client) return this.errorPage(res, "invalid_request");
        const redirectUri = params.get("redirect_uri") ?? "";
        // Exactly one of the client's callback URLs, character for character.
        if (!client.callbackUrls.includes(redirectUri)) return this.errorPage(res, "redirect_mismatch");
        const state = params.get("state") ?? undefined;
        const fail = (error: string, description: string) => this.redirectError(res, redirectUri, error, description, state);
        const responseType = params.get("response_type");
        if (responseType !== "code") return fail("unsupported_response_type", "response_type must be code");
        if (!client.flows.includes("code")) return fail("unauthorized_client", "the client does not allow the authorization code flow");
        const scopes = (params.get("scope") ?? client.scopes.join(" ")).split(" ").filter(Boolean);
        if (scopes.some((scope) => !client.scopes.includes(scope))) return fail("invalid_scope", "a requested scope is not allowed for the client");
        const challenge = params.get("code_challenge") ?? undefined;
        const method = params.get("code_challenge_method") ?? undefined;
        if (challenge !== undefined && method !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
        if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail("invalid_request", "code_challenge is not an S256 challenge");
        const providers = client.providers.filter((name) => name !== "COGNITO");
        const chosen = params.get("identity_provider");
        if (!chosen) {
            const links = providers
                .map((name) => {
                    const again = new URLSearchParams(params);
                    again.set("identity_provider", name);
                    return `<li><a href="/oauth2/authorize?${escapeHtml(again.toString())}">Continue with ${escapeHtml(name)}</a></li>`;
                })
                .join("");
            this.page(res, 200, "Sign in", `<ul>${links}</ul><p>Password sign-in happens in the app; this page offers the providers.</p>`);
            return;
        }
        const provider = providers.includes(chosen) ? this.options.state.provider(client.userPoolId, chosen) : undefined;
        if (!provider) return fail("invalid_request", `identity_provider ${chosen.slice(0, 64)} is not enabled for the client`);
        const idpState = randomBytes(24).toString("base64url");
        const idpNonce = randomBytes(24).toString("base64url");
        this.transactions.set(idpState, {
            client,
            redirectUri,
            appState: state,
            appNonce: params.get("nonce") ?? undefined,
            codeChallenge: challenge,
            scopes,
            providerName: provider.providerName,
            idpNonce,
            expires: Date.now() + TRANSACTION_SECONDS * 1000,
        });
        const to = new URL(`${provider.issuer}/authorize`);
        to.searchParams.set("client_id", provider.details.client_id);
        to.searchParams.set("redirect_uri", this.idpResponseUrl);
        to.searchParams.set("response_type", "code");
        to.searchParams.set("scope", provider.details.authorize_scopes ?? "openid email");
        to.searchParams.set("state", idpState);
        to.searchParams.set("nonce", idpNonce);
        this.redirect(res, to.toString());
    }

    private async idpResponse(res: ServerResponse, params: URLSearchParams): Promise<void> {
        const idpState = params.get("state") ?? "";
        const txn = this.transactions.get(idpState);
        this.transactions.delete(idpState);
        // A state the managed login did not issue (or issued and already used): nobody to send back to.
        if (!txn || txn.expires < Date.now()) return this.errorPage(res, "invalid_state");
        const fail = (error: string, description: string) => this.redirectError(res, txn.redirectUri, error, description, txn.appState);
        const provider = this.options.state.provider(txn.client.userPoolId, txn.providerName)!;
        if (params.has("error") || !params.get("code")) return fail("invalid_request", `${provider.providerName} did not sign the user in`);
        let claims: Record<string, unknown>;
        try {
            claims = await this.exchange(provider, params.get("code")!, txn.idpNonce);
        } catch (error) {
            this.options.log?.({ level: "info", source: "managed-login", provider: provider.providerName, refused: (error as Error).message });
            return fail("invalid_request", `Bad id_token from ${provider.providerName}`);
        }
        const attributes: Record<string, string> = {};
        let providerUserId: string | undefined;
        for (const [attribute, claim] of Object.entries(provider.attributeMapping)) {
            const value = claims[claim];
            if (value === undefined || value === null) continue;
            if (attribute === "username") providerUserId = String(value);
            else attributes[attribute] = typeof value === "boolean" ? String(value) : String(value);
        }
        if (!providerUserId) return fail("invalid_request", `${provider.providerName} sent no user id`);
        let username: string;
        try {
            username = await this.federatedUser(txn.client, provider, providerUserId, attributes);
        } catch (error) {
            return fail("invalid_request", `PreSignUp failed with error ${String((error as Error).message).split("\n")[0].replace(/^Error: /, "")}`);
        }
        const code = randomUUID();
        this.codes.set(code, { client: txn.client, redirectUri: txn.redirectUri, codeChallenge: txn.codeChallenge, username, appNonce: txn.appNonce, expires: Date.now() + CODE_SECONDS * 1000 });
        const back = new URL(txn.redirectUri);
        back.searchParams.set("code", code);
        if (txn.appState !== undefined) back.searchParams.set("state", txn.appState);
        this.redirect(res, back.toString());
    }

    /** The provider's code for its verified ID token: its own key (from its JWKS), issuer, audience, expiry and our nonce. */
    private async exchange(provider: FederatedProvider, code: string, nonce: string): Promise<Record<string, unknown>> {
        const discovery = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string; jwks_uri: string; issuer: string };
        const body = new URLSearchParams({
            grant_type: "authorization_code",
            code,
            redirect_uri: this.idpResponseUrl,
            client_id: provider.details.client_id,
            client_secret: provider.details.client_secret ?? provider.details.private_key ?? "",
        });
        const answer = await fetch(discovery.token_endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
        const tokens = (await answer.json()) as { id_token?: string; error?: string };
        if (!answer.ok || typeof tokens.id_token !== "string") throw new Error(`token endpoint answered ${answer.status} ${tokens.error ?? ""}`);
        const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
            issuer: provider.issuer,
            audience: provider.details.client_id,
            algorithms: ["RS256"],
        });
        if (payload.nonce !== nonce) throw new Error("nonce mismatch");
        return payload as Record<string, unknown>;
    }

    /**
     * The User Pool user a provider identity signs in as, as Cognito decides it: the user it is
     * linked to; else its own `<Provider>_<id>` user (attributes refreshed); else, after the pre
     * sign-up trigger (which may link it), a new `EXTERNAL_PROVIDER` user.
     */
    private async federatedUser(client: OAuthClient, provider: FederatedProvider, providerUserId: string, attributes: Record<string, string>): Promise<string> {
        const { state, users } = this.options;
        const poolId = client.userPoolId;
        const linked = state.linkedUser(poolId, provider.providerName, providerUserId);
        if (linked) return linked;
        const username = `${provider.providerName}_${providerUserId}`;
        const now = new Date();
        const existing = await users.get(poolId, username);
        if (existing && existing.Username === username) {
            const kept = (existing.Attributes as { Name: string; Value: string }[]).filter((a) => !(a.Name in attributes));
            await users.save(poolId, { ...existing, Attributes: [...kept, ...Object.entries(attributes).map(([Name, Value]) => ({ Name, Value }))], UserLastModifiedDate: now });
            return username;
        }
        await this.preSignUp(client, username, attributes);
        const nowLinked = state.linkedUser(poolId, provider.providerName, providerUserId);
        if (nowLinked) return nowLinked;
        const identities = [{ userId: providerUserId, providerName: provider.providerName, providerType: provider.providerType, issuer: null, primary: true, dateCreated: now.getTime() }];
        await users.save(poolId, {
            Username: username,
            UserStatus: "EXTERNAL_PROVIDER",
            Enabled: true,
            Attributes: [{ Name: "sub", Value: randomUUID() }, ...Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })), { Name: "identities", Value: JSON.stringify(identities) }],
            UserCreateDate: now,
            UserLastModifiedDate: now,
            RefreshTokens: [],
        });
        return username;
    }

    /** Runs the pool's pre sign-up trigger, as Cognito invokes it for a first federated sign-in. */
    private async preSignUp(client: OAuthClient, username: string, attributes: Record<string, string>): Promise<void> {
        const { state, registry } = this.options;
        const arn = state.preSignUp.get(client.userPoolId);
        if (!arn) return;
        const fn = registry.functionByRef(arn);
        const poolArn = `arn:aws:cognito-idp:${registry.region}:${registry.accountId}:userpool/${client.userPoolId}`;
        const allowed =
            fn !== undefined &&
            registry.permissions.some(
                (p) =>
                    registry.functionByRef(p.functionRef) === fn &&
                    (p.action === "lambda:InvokeFunction" || p.action === "lambda:*") &&
                    p.principal === "cognito-idp.amazonaws.com" &&
                    (p.sourceArn === undefined || wildcardMatch(p.sourceArn, poolArn)),
            );
        if (!fn || !allowed) throw new Error(`Cognito may not invoke the pre sign-up function ${arn}`);
        await fn.invoke(
            {
                version: "1",
                region: registry.region,
                userPoolId: client.userPoolId,
                userName: username,
                triggerSource: "PreSignUp_ExternalProvider",
                callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: client.clientId },
                request: { userAttributes: attributes, validationData: {} },
                response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
            },
            randomUUID(),
        );
    }

    private async token(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): Promise<void> {
        const form = new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString("utf8"));
        try {
            const client = this.options.state.clients.get(form.get("client_id") ?? "");
            if (!client) throw new OAuthError("invalid_client", "unknown client_id");
            const grant = form.get("grant_type");
            if (grant === "authorization_code") {
                this.json(res, 200, await this.codeGrant(client, form), cors);
            } else if (grant === "refresh_token") {
                this.json(res, 200, await this.refreshGrant(client, form.get("refresh_token") ?? ""), cors);
            } else {
                throw new OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
            }
        } catch (error) {
            if (!(error instanceof OAuthError)) throw error;
            this.options.log?.({ level: "info", source: "managed-login", status: error.status, error: error.error, detail: error.message });
            this.json(res, error.status, { error: error.error }, cors);
        }
    }

    private async codeGrant(client: OAuthClient, form: URLSearchParams) {
        const code = form.get("code") ?? "";
        const issued = this.codes.get(code);
        // Single use: a code is gone at its first presentation, whatever the outcome.
        this.codes.delete(code);
        if (!issued || issued.expires < Date.now() || issued.client.clientId !== client.clientId) throw new OAuthError("invalid_grant", "unknown, used or expired code");
        if (form.get("redirect_uri") !== issued.redirectUri) throw new OAuthError("invalid_grant", "redirect_uri differs from the authorization request's");
        if (issued.codeChallenge !== undefined) {
            const verifier = form.get("code_verifier") ?? "";
            const computed = createHash("sha256").update(verifier).digest("base64url");
            if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || computed !== issued.codeChallenge) throw new OAuthError("invalid_grant", "code_verifier does not match the code_challenge");
        }
        const tokens = await this.options.users.issue(client.userPoolId, client.clientId, issued.username, issued.appNonce);
        return { id_token: tokens.IdToken, access_token: tokens.AccessToken, refresh_token: tokens.RefreshToken, expires_in: 3600, token_type: "Bearer" };
    }

    /** Through the User Pools' own refresh (InitiateAuth REFRESH_TOKEN_AUTH), so revocation applies. */
    private async refreshGrant(client: OAuthClient, refreshToken: string) {
        const answer = await fetch(this.options.users.endpoint, {
            method: "POST",
            headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth" },
            body: JSON.stringify({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: client.clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }),
        });
        const result = (await answer.json()) as { AuthenticationResult?: { IdToken: string; AccessToken: string; ExpiresIn?: number } };
        if (!answer.ok || !result.AuthenticationResult) throw new OAuthError("invalid_grant", "refresh token refused");
        return { id_token: result.AuthenticationResult.IdToken, access_token: result.AuthenticationResult.AccessToken, expires_in: result.AuthenticationResult.ExpiresIn ?? 3600, token_type: "Bearer" };
    }

    private async userInfo(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): Promise<void> {
        const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""));
        const refuse = () => this.json(res, 401, { error: "invalid_token", error_description: "Access token is missing, expired or revoked" }, { ...cors, "www-authenticate": 'Bearer error="invalid_token"' });
        if (!bearer) return refuse();
        const answer = await fetch(this.options.users.endpoint, {
            method: "POST",
            headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.GetUser" },
            body: JSON.stringify({ AccessToken: bearer[1] }),
        });
        if (!answer.ok) return refuse();
        const user = (await answer.json()) as { Username: string; UserAttributes: { Name: string; Value: string }[] };
        const info: Record<string, string> = { username: user.Username };
        for (const { Name, Value } of user.UserAttributes) if (["sub", "email", "email_verified", "name", "identities"].includes(Name)) info[Name] = Value;
        this.json(res, 200, info, cors);
    }

    private logout(res: ServerResponse, params: URLSearchParams): void {
        const client = this.options.state.clients.get(params.get("client_id") ?? "");
        if (!client) return this.errorPage(res, "invalid_request");
        const logoutUri = params.get("logout_uri");
        if (logoutUri === null || !client.logoutUrls.includes(logoutUri)) return this.errorPage(res, "redirect_mismatch");
        // No managed-login session is kept locally, so there is nothing else to end.
        this.redirect(res, logoutUri);
    }
}
