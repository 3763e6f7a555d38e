import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { localhostCertificate } from "../../../../tools/local/cognito-idp/oauth/certificate";
import { ManagedLogin, type PoolUsers } from "../../../../tools/local/cognito-idp/oauth/managed-login";
import { FederationState } from "../../../../tools/local/cognito-idp/oauth/state";
import { LocalRegistry } from "../../../../tools/local/registry";
import { location, oauthHttp, pkce } from "../../../support/oauth";

const REDIRECT = "http://localhost:5173/";

/**
 * A provider that misbehaves in one chosen way: it signs its ID token with a key of its own while
 * publishing another's (`foreignKey`), or echoes a wrong nonce (`wrongNonce`), or behaves.
 */
async function rogueProvider(mode: "foreignKey" | "wrongNonce" | "honest"): Promise<{ issuer: string; server: Server }> {
    const signing = await generateKeyPair("RS256");
    const published = mode === "foreignKey" ? (await generateKeyPair("RS256")).publicKey : signing.publicKey;
    const jwk = { ...(await exportJWK(published)), kid: "k1", alg: "RS256", use: "sig" };
    const nonces = new Map<string, string>();
    let issuer = "";
    const server = createServer(async (req, res) => {
        const url = new URL(req.url ?? "/", issuer);
        if (url.pathname === "/.well-known/openid-configuration") {
            res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks.json` }));
        } else if (url.pathname === "/jwks.json") {
            res.end(JSON.stringify({ keys: [jwk] }));
        } else if (url.pathname === "/authorize") {
            nonces.set("code-1", url.searchParams.get("nonce")!);
            const back = new URL(url.searchParams.get("redirect_uri")!);
            back.searchParams.set("code", "code-1");
            back.searchParams.set("state", url.searchParams.get("state")!);
            res.writeHead(302, { location: back.toString() }).end();
        } else if (url.pathname === "/token") {
            const nonce = mode === "wrongNonce" ? "another-nonce" : nonces.get("code-1");
            const idToken = await new SignJWT({ sub: "4242", email: "eve@example.com", email_verified: true, nonce })
                .setProtectedHeader({ alg: "RS256", kid: "k1" })
                .setIssuer(issuer)
                .setAudience("rogue-client")
                .setIssuedAt()
                .setExpirationTime("5m")
                .sign(signing.privateKey);
            res.end(JSON.stringify({ id_token: idToken, token_type: "Bearer" }));
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { issuer, server };
}

describe("local managed login: what it takes from a provider", function () {
    this.timeout(20_000);
    let dataDir: string;

    before(() => {
        dataDir = mkdtempSync(path.join(tmpdir(), "managed-login-"));
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    async function signInThrough(mode: "foreignKey" | "wrongNonce" | "honest"): Promise<{ back: URL; saved: string[] }> {
        const { issuer, server } = await rogueProvider(mode);
        const state = new FederationState();
        state.clients.set("client-1", {
            clientId: "client-1",
            userPoolId: "local_pool",
            flows: ["code"],
            scopes: ["openid", "email"],
            callbackUrls: [REDIRECT],
            logoutUrls: [REDIRECT],
            providers: ["COGNITO", "Rogue"],
        });
        state.providers.set("local_pool|Rogue", {
            userPoolId: "local_pool",
            providerName: "Rogue",
            providerType: "OIDC",
            details: { client_id: "rogue-client", client_secret: "s", authorize_scopes: "openid email" },
            attributeMapping: { email: "email", email_verified: "email_verified", username: "sub" },
            issuer,
        });
        const saved: string[] = [];
        const users: PoolUsers = {
            endpoint: "http://127.0.0.1:1",
            get: async () => null,
            save: async (_pool, user) => void saved.push(String(user.Username)),
            issue: async () => ({ AccessToken: "a", IdToken: "i", RefreshToken: "r" }),
        };
        const login = new ManagedLogin({ state, users, registry: new LocalRegistry("us-east-1", "123456789012"), tls: localhostCertificate(dataDir) });
        await login.listen();
        try {
            const send = oauthHttp(dataDir);
            const authorize = new URL(`https://${login.domain}/oauth2/authorize`);
            authorize.search = new URLSearchParams({ response_type: "code", client_id: "client-1", redirect_uri: REDIRECT, state: "s1", identity_provider: "Rogue", scope: "openid email", code_challenge: pkce().challenge, code_challenge_method: "S256" }).toString();
            const toProvider = location(await send(authorize.toString()));
            assert.ok(toProvider.startsWith(`${issuer}/authorize?`), toProvider);
            const toLogin = location(await send(toProvider));
            const back = new URL(location(await send(toLogin)));
            return { back, saved };
        } finally {
            await login.close();
            server.close();
        }
    }

    it("signs in through a provider whose ID token checks out (the control case)", async () => {
        const { back, saved } = await signInThrough("honest");
        assert.equal(back.searchParams.get("error"), null, back.toString());
        assert.ok(back.searchParams.get("code"));
        assert.deepEqual(saved, ["Rogue_4242"]);
    });

    it("refuses an ID token signed by a key other than the provider's published one", async () => {
        const { back, saved } = await signInThrough("foreignKey");
        assert.equal(back.searchParams.get("error"), "invalid_request");
        assert.equal(back.searchParams.get("error_description"), "Bad id_token from Rogue");
        assert.equal(back.searchParams.get("code"), null);
        assert.deepEqual(saved, []);
    });

    it("refuses an ID token whose nonce is not the one the managed login sent", async () => {
        const { back, saved } = await signInThrough("wrongNonce");
        assert.equal(back.searchParams.get("error_description"), "Bad id_token from Rogue");
        assert.deepEqual(saved, []);
    });
});
