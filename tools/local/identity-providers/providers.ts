import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import * as path from "node:path";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";
import { closeServer, isLoopbackHost, listenOn, readBody, safeServer } from "../server";

/**
 * Stand-ins for Google, Apple, Facebook, Amazon and OIDC providers: one real OIDC issuer per
 * provider the stack configures, at `http://127.0.0.1:<port>/<slug>`, with discovery, a JWKS, its
 * own RS256 key in `<data-dir>/identity-providers/<slug>.jwk.json`, an authorization endpoint whose
 * page signs in as whatever email is typed, and a token endpoint for the authorization code grant.
 */

/** How long an issued code stays good (seconds). */
const CODE_SECONDS = 300;
const TOKEN_SECONDS = 3600;
const MAX_FORM_BYTES = 16 * 1024;
const EMAIL = /^[^\s@"<>\\]{1,64}@[^\s@"<>\\]{1,255}$/;

export interface StandInRegistration {
    /** The provider's name in the User Pool (`Google`, `Corp`). */
    providerName: string;
    /** The client the User Pool is registered as (`client_id` of the provider details). */
    clientId: string;
    clientSecret: string;
    /** Where the provider may send people back: the managed login's `/oauth2/idpresponse`. */
    redirectUris: string[];
}

interface StandIn extends StandInRegistration {
    slug: string;
    privateKey: CryptoKey;
    publicJwk: JWK;
    kid: string;
}

interface IssuedCode {
    slug: string;
    clientId: string;
    redirectUri: string;
    nonce?: string;
    email: string;
    emailVerified: boolean;
    expires: number;
}

const html = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The provider's stable subject for an email: the same person signs in as the same user every time. */
export function subjectFor(slug: string, email: string): string {
    const digest = createHash("sha256").update(`${slug}\n${email.toLowerCase()}`).digest();
    return BigInt(`0x${digest.subarray(0, 9).toString("hex")}`).toString().padStart(21, "1");
}

function secretEquals(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
}

export class LocalIdentityProviders {
    private server?: Server;
    private base = "";
    private readonly providers = new Map<string, StandIn>();
    private readonly codes = new Map<string, IssuedCode>();

    constructor(private readonly dataDir: string) {}

    async listen(port = 0): Promise<number> {
        this.server = safeServer((req, res) => this.handle(req, res), {
            onError: (res, error) => {
                process.stderr.write(`[identity-providers] ${String((error as Error)?.stack ?? error)}\n`);
                this.json(res, 500, { error: "server_error" });
            },
        });
        const bound = await listenOn(this.server, port);
        this.base = `http://127.0.0.1:${bound}`;
        return bound;
    }

    /** The issuer URL of a provider (`http://127.0.0.1:<port>/<slug>`). */
    issuer(providerName: string): string {
        return `${this.base}/${slug(providerName)}`;
    }

    /** Adds (or updates) the stand-in for a provider; its key is made once and kept in the data directory. */
    async register(registration: StandInRegistration): Promise<string> {
        const id = slug(registration.providerName);
        const dir = path.join(this.dataDir, "identity-providers");
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = path.join(dir, `${id}.jwk.json`);
        let privateJwk: JWK;
        if (existsSync(file)) {
            privateJwk = JSON.parse(readFileSync(file, "utf8"));
        } else {
            const { privateKey } = await generateKeyPair("RS256", { extractable: true });
            privateJwk = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString("hex"), alg: "RS256", use: "sig" };
            writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
        }
        const { d, p, q, dp, dq, qi, ...publicJwk } = privateJwk;
        this.providers.set(id, {
            ...registration,
            slug: id,
            privateKey: (await importJWK(privateJwk, "RS256")) as CryptoKey,
            publicJwk,
            kid: privateJwk.kid!,
        });
        return this.issuer(registration.providerName);
    }

    close(): Promise<void> {
        return closeServer(this.server);
    }

    private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers, "content-length": String(Buffer.byteLength(text)) });
        res.end(text);
    }

    private page(res: ServerResponse, status: number, title: string, body: string): void {
        const text = html(title, body);
        res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY", "content-length": String(Buffer.byteLength(text)) });
        res.end(text);
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        if (!isLoopbackHost(req.headers.host)) {
            req.resume();
            this.page(res, 403, "Forbidden", "<p>The local identity providers answer loopback names only.</p>");
            return;
        }
        const url = new URL(req.url ?? "/", this.base);
        const [, id, ...rest] = url.pathname.split("/");
        const provider = this.providers.get(id);
        if (!provider) {
            req.resume();
            this.json(res, 404, { error: "not_found", error_description: "No such local identity provider." });
            return;
        }
        const route = `${req.method} /${rest.join("/")}`;
        const issuer = `${this.base}/${id}`;
        switch (route) {
            case "GET /.well-known/openid-configuration":
                this.json(res, 200, {
                    issuer,
                    authorization_endpoint: `${issuer}/authorize`,
                    token_endpoint: `${issuer}/token`,
                    jwks_uri: `${issuer}/jwks.json`,
                    response_types_supported: ["code"],
                    subject_types_supported: ["public"],
                    id_token_signing_alg_values_supported: ["RS256"],
                    scopes_supported: ["openid", "email", "profile"],
                    token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
                    claims_supported: ["sub", "email", "email_verified", "name"],
                });
                return;
            case "GET /jwks.json":
                this.json(res, 200, { keys: [provider.publicJwk] });
                return;
            case "GET /authorize":
                return this.authorizePage(res, provider, url.searchParams);
            case "POST /authorize":
                return this.signIn(res, provider, new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString("utf8")));
            case "POST /token":
                return this.token(req, res, provider, issuer, new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString("utf8")));
            default:
                req.resume();
                this.json(res, 404, { error: "not_found", error_description: `No ${route} at this provider.` });
        }
    }

    /** The request's client and redirect URI, checked as a provider checks them before it shows anything. */
    private authorizationProblem(provider: StandIn, params: URLSearchParams): string | undefined {
        if (params.get("client_id") !== provider.clientId) return "unknown client_id";
        if (!provider.redirectUris.includes(params.get("redirect_uri") ?? "")) return "redirect_uri is not registered for this client";
        if (params.get("response_type") !== "code") return "response_type must be code";
        return undefined;
    }

    private authorizePage(res: ServerResponse, provider: StandIn, params: URLSearchParams): void {
        const problem = this.authorizationProblem(provider, params);
        if (problem) {
            this.page(res, 400, `${provider.providerName} (local): invalid request`, `<p>${escapeHtml(problem)}</p>`);
            return;
        }
        const hidden = ["client_id", "redirect_uri", "response_type", "state", "nonce", "scope"]
            .filter((name) => params.has(name))
            .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name)!)}">`)
            .join("");
        this.page(
            res,
            200,
            `Sign in with ${provider.providerName} (local stand-in)`,
            `<form method="post" action="authorize">${hidden}
<p><label>Email <input name="email" type="email" required autofocus></label></p>
<p><label><input name="email_verified" type="checkbox" value="true" checked> The provider asserts this email is verified</label></p>
<p><button type="submit">Sign in</button></p></form>
<p>Any email signs in as that ${escapeHtml(provider.providerName)} user, on this machine only.</p>`,
        );
    }

    private signIn(res: ServerResponse, provider: StandIn, form: URLSearchParams): void {
        const problem = this.authorizationProblem(provider, form);
        const email = (form.get("email") ?? "").trim();
        if (problem || !EMAIL.test(email)) {
            this.page(res, 400, `${provider.providerName} (local): invalid request`, `<p>${escapeHtml(problem ?? "Type an email address.")}</p>`);
            return;
        }
        const code = randomBytes(24).toString("base64url");
        this.codes.set(code, {
            slug: provider.slug,
            clientId: provider.clientId,
            redirectUri: form.get("redirect_uri")!,
            nonce: form.get("nonce") ?? undefined,
            email,
            emailVerified: form.get("email_verified") === "true",
            expires: Date.now() + CODE_SECONDS * 1000,
        });
        const back = new URL(form.get("redirect_uri")!);
        back.searchParams.set("code", code);
        if (form.has("state")) back.searchParams.set("state", form.get("state")!);
        res.writeHead(302, { location: back.toString(), "cache-control": "no-store" });
        res.end();
    }

    private async token(req: IncomingMessage, res: ServerResponse, provider: StandIn, issuer: string, form: URLSearchParams): Promise<void> {
        let clientId = form.get("client_id") ?? "";
        let clientSecret = form.get("client_secret") ?? "";
        const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(String(req.headers.authorization ?? ""));
        if (basic) {
            const decoded = Buffer.from(basic[1], "base64").toString("utf8");
            const split = decoded.indexOf(":");
            clientId = decodeURIComponent(decoded.slice(0, split));
            clientSecret = decodeURIComponent(decoded.slice(split + 1));
        }
        if (clientId !== provider.clientId || !secretEquals(clientSecret, provider.clientSecret)) {
            this.json(res, 401, { error: "invalid_client" });
            return;
        }
        if (form.get("grant_type") !== "authorization_code") {
            this.json(res, 400, { error: "unsupported_grant_type" });
            return;
        }
        const code = form.get("code") ?? "";
        const issued = this.codes.get(code);
        this.codes.delete(code);
        if (!issued || issued.slug !== provider.slug || issued.expires < Date.now() || issued.redirectUri !== form.get("redirect_uri")) {
            this.json(res, 400, { error: "invalid_grant" });
            return;
        }
        const sub = subjectFor(provider.slug, issued.email);
        const name = issued.email.slice(0, issued.email.indexOf("@"));
        // `id` and `user_id` are how Facebook and Login with Amazon name their user id.
        const claims = { sub, id: sub, user_id: sub, email: issued.email, email_verified: issued.emailVerified, name, ...(issued.nonce ? { nonce: issued.nonce } : {}) };
        const idToken = await new SignJWT(claims)
            .setProtectedHeader({ alg: "RS256", kid: provider.kid })
            .setIssuer(issuer)
            .setAudience(provider.clientId)
            .setIssuedAt()
            .setExpirationTime(`${TOKEN_SECONDS}s`)
            .sign(provider.privateKey);
        this.json(res, 200, { id_token: idToken, access_token: randomBytes(24).toString("base64url"), token_type: "Bearer", expires_in: TOKEN_SECONDS });
    }
}

/** A provider's path segment: its name, lowercased, URL-safe. */
export function slug(providerName: string): string {
    return providerName.toLowerCase().replace(/[^a-z0-9.-]/g, "-");
}
