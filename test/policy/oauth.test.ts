import { strict as assert } from "node:assert";
import { runResourcePolicy, UNKNOWN } from "../../policy/evaluate";
import { httpsCallbacks, neededScopesOnly, noImplicitFlow } from "../../policy/oauth";

const CLIENT = "aws:cognito/userPoolClient:UserPoolClient";

/** The app client the program writes when sign-in providers are configured. */
const client = (change: Record<string, any> = {}) => ({
    userPoolId: "us-east-1_AbCdEfGhI",
    generateSecret: false,
    allowedOauthFlowsUserPoolClient: true,
    allowedOauthFlows: ["code"],
    allowedOauthScopes: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
    callbackUrls: ["https://notes.example.com/", "http://localhost:5173/"],
    logoutUrls: ["https://notes.example.com/", "http://localhost:5173/"],
    supportedIdentityProviders: ["COGNITO", "Google"],
    ...change,
});

const messages = async (policy: typeof noImplicitFlow, props: Record<string, any>, config?: object) =>
    (await runResourcePolicy(policy, CLIENT, props, { name: "notes-auth-web-client", config })).reported.map((r) => r.message);

describe("policy cognito-client-no-implicit-flow", () => {
    it("passes the code flow, and a client without OAuth", async () => {
        assert.deepEqual(await messages(noImplicitFlow, client()), []);
        assert.deepEqual(await messages(noImplicitFlow, { userPoolId: "p", explicitAuthFlows: ["ALLOW_USER_SRP_AUTH"] }), []);
    });

    it("flags a client that allows the implicit flow", async () => {
        assert.deepEqual(await messages(noImplicitFlow, client({ allowedOauthFlows: ["code", "implicit"] })), [
            'User Pool client notes-auth-web-client must not allow the implicit OAuth flow (tokens in the URL, where history, logs and referrers keep them), found allowedOauthFlows ["code","implicit"]; use "code" (with PKCE).',
        ]);
    });

    // Outside cases: what other tools write. CDK's OAuthFlows.implicitCodeGrant and SST's
    // `oauth.flows` both end as "implicit"; Terraform-converted programs may pass one string.
    it("flags implicit alone, in any case, and as a single string", async () => {
        for (const flows of [["implicit"], ["Implicit"], "implicit", ["client_credentials", "IMPLICIT"]]) {
            assert.equal((await messages(noImplicitFlow, client({ allowedOauthFlows: flows }))).length, 1, JSON.stringify(flows));
        }
    });

    it("reports an unknown flow list at preview instead of passing it", async () => {
        const { reported } = await runResourcePolicy(noImplicitFlow, CLIENT, client({ allowedOauthFlows: UNKNOWN.array }));
        assert.deepEqual(reported.map((r) => r.enforcementLevel), ["advisory"]);
    });
});

describe("policy cognito-client-https-callbacks", () => {
    it("passes https URLs and http://localhost on any port", async () => {
        assert.deepEqual(await messages(httpsCallbacks, client()), []);
        assert.deepEqual(await messages(httpsCallbacks, client({ callbackUrls: ["http://localhost/", "HTTP://LOCALHOST:3000/cb"], defaultRedirectUri: "https://notes.example.com/" })), []);
    });

    it("flags callback and sign-out URLs that are not https, except http://localhost", async () => {
        assert.deepEqual(await messages(httpsCallbacks, client({ callbackUrls: ["http://notes.example.com/"], logoutUrls: ["http://notes.example.com/bye"] })), [
            'User Pool client notes-auth-web-client must send users back over https: callbackUrls "http://notes.example.com/" is not https (only http://localhost may be plain http).',
            'User Pool client notes-auth-web-client must send users back over https: logoutUrls "http://notes.example.com/bye" is not https (only http://localhost may be plain http).',
        ]);
    });

    // Outside cases: loopback addresses and look-alike hosts are not "localhost"; app schemes and
    // relative paths are not https; the default redirect URI counts too.
    it("flags loopback IPs, look-alike hosts, other schemes, relative URLs and the default redirect URI", async () => {
        const bad = ["http://127.0.0.1:3000/", "http://[::1]/", "http://localhost.evil.example/", "http://evil.example/?localhost", "myapp://callback", "/callback", "ftp://notes.example.com/"];
        for (const url of bad) {
            assert.equal((await messages(httpsCallbacks, client({ callbackUrls: [url] }))).length, 1, url);
        }
        assert.match((await messages(httpsCallbacks, client({ defaultRedirectUri: "http://notes.example.com/" })))[0], /defaultRedirectUri "http:\/\/notes\.example\.com\/"/);
    });

    it("reports an unknown URL list at preview instead of passing it", async () => {
        const { reported } = await runResourcePolicy(httpsCallbacks, CLIENT, client({ callbackUrls: UNKNOWN.array }));
        assert.deepEqual(reported.map((r) => r.enforcementLevel), ["advisory"]);
    });
});

describe("policy cognito-client-needed-scopes-only", () => {
    it("is advisory", () => {
        assert.equal(neededScopesOnly.enforcementLevel, "advisory");
    });

    it("passes the four scopes the app needs, fewer, and a client without OAuth flows whatever it lists", async () => {
        assert.deepEqual(await messages(neededScopesOnly, client()), []);
        assert.deepEqual(await messages(neededScopesOnly, client({ allowedOauthScopes: ["openid", "email"] })), []);
        assert.deepEqual(await messages(neededScopesOnly, client({ allowedOauthFlows: [], allowedOauthScopes: ["phone"] })), []);
    });

    it("names each scope a client with OAuth flows allows and does not need", async () => {
        assert.deepEqual(await messages(neededScopesOnly, client({ allowedOauthScopes: ["openid", "email", "phone", "notes-api/admin"] })), [
            "User Pool client notes-auth-web-client allows OAuth scopes it does not need: phone, notes-api/admin; allow only openid, email, profile, aws.cognito.signin.user.admin (or list more in neededScopes).",
        ]);
    });

    it("takes the needed scopes from its settings", async () => {
        const props = client({ allowedOauthScopes: ["openid", "notes-api/read"] });
        assert.deepEqual(await messages(neededScopesOnly, props, { neededScopes: ["openid", "notes-api/read"] }), []);
        assert.equal((await messages(neededScopesOnly, props, { neededScopes: ["openid"] })).length, 1);
    });
});
