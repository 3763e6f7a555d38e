import { AdminGetUserCommand, CognitoIdentityProviderClient, ConfirmSignUpCommand, ListUsersCommand } from "@aws-sdk/client-cognito-identity-provider";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { decodeJwt } from "jose";
import { newPassword, NotesClient } from "../../../../tools/client/flow";
import { LOCAL_OAUTH_PASSPHRASE } from "../../../support/oauth";
import { startLocalCloudProcess, type LocalCloudProcess } from "../../../../tools/local/process";
import { confirmationCode } from "../../../browser/support";
import { formFields, location, oauthHttp, pkce } from "../../../support/oauth";

const REDIRECT = "http://localhost:5173/";

describe("local managed login and sign-in providers (npm start --stack local-oauth)", function () {
    this.timeout(90_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let send: ReturnType<typeof oauthHttp>;
    let client: NotesClient;
    let idp: CognitoIdentityProviderClient;
    let base: string;

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-oauth-"));
        cloud = await startLocalCloudProcess(dataDir, ["--stack", "local-oauth", "--web-port", "5291"], 60_000, true, LOCAL_OAUTH_PASSPHRASE);
        send = oauthHttp(dataDir);
        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        idp = new CognitoIdentityProviderClient({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.cognitoIdp, credentials: cloud.adminCredentials });
        base = `https://${cloud.outputs.oauth!.domain}`;
    });

    after(async () => {
        await cloud?.stop();
        rmSync(dataDir, { recursive: true, force: true });
    });

    function authorizeUrl(provider: string, options: { redirectUri?: string; challenge: string; state?: string }): string {
        const url = new URL(`${base}/oauth2/authorize`);
        url.search = new URLSearchParams({
            response_type: "code",
            client_id: cloud.outputs.userPoolClientId,
            redirect_uri: options.redirectUri ?? REDIRECT,
            state: options.state ?? "app-state-1",
            identity_provider: provider,
            scope: "openid email profile aws.cognito.signin.user.admin",
            code_challenge: options.challenge,
            code_challenge_method: "S256",
        }).toString();
        return url.toString();
    }

    /** A password user who confirmed their email with the emailed code (AdminConfirmSignUp would leave it unverified). */
    async function passwordUser(prefix: string): Promise<{ email: string; password: string }> {
        const email = `${prefix}-${Date.now()}@example.com`;
        const password = newPassword();
        await client.signUp(email, password);
        let code: string | undefined;
        for (let i = 0; i < 50 && !code; i++) {
            code = confirmationCode(cloud.output(), email);
            if (!code) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await idp.send(new ConfirmSignUpCommand({ ClientId: cloud.outputs.userPoolClientId, Username: email, ConfirmationCode: code! }));
        return { email, password };
    }

    /** Through the managed login and the provider's page, back to the app with a code. */
    async function codeFor(provider: string, email: string, verified = true, tamper?: (idpResponse: URL) => void): Promise<{ code: string; verifier: string; back: URL }> {
        const { verifier, challenge } = pkce();
        const toProvider = location(await send(authorizeUrl(provider, { challenge })));
        const page = await send(toProvider);
        assert.equal(page.status, 200, page.body);
        assert.match(page.body, /<input name="email"/);
        assert.match(page.body, /<input name="email_verified" type="checkbox" value="true" checked>/);
        const fields = { ...formFields(page.body), email, ...(verified ? { email_verified: "true" } : {}) };
        const toManagedLogin = new URL(location(await send(new URL("authorize", toProvider).toString(), { form: fields })));
        assert.equal(toManagedLogin.origin + toManagedLogin.pathname, `${base}/oauth2/idpresponse`);
        tamper?.(toManagedLogin);
        const back = new URL(location(await send(toManagedLogin.toString())));
        return { code: back.searchParams.get("code") ?? "", verifier, back };
    }

    async function exchange(code: string, verifier: string, redirectUri = REDIRECT) {
        const answer = await send(`${base}/oauth2/token`, { form: { grant_type: "authorization_code", client_id: cloud.outputs.userPoolClientId, code, redirect_uri: redirectUri, code_verifier: verifier } });
        return { status: answer.status, body: JSON.parse(answer.body) };
    }

    async function signInWith(provider: string, email: string, verified = true) {
        const { code, verifier, back } = await codeFor(provider, email, verified);
        assert.equal(back.origin + back.pathname, REDIRECT);
        assert.equal(back.searchParams.get("error"), null, back.toString());
        assert.equal(back.searchParams.get("state"), "app-state-1");
        const tokens = await exchange(code, verifier);
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        return tokens.body as { id_token: string; access_token: string; refresh_token: string };
    }

    it("writes outputs.json with the oauth output on the loopback TLS domain, its shape kept", () => {
        const { oauth } = cloud.outputs;
        assert.match(oauth!.domain, /^localhost:\d+$/);
        assert.deepEqual(
            { ...oauth, domain: "<domain>" },
            {
                domain: "<domain>",
                scopes: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
                redirectSignIn: ["http://localhost:3000/", "http://localhost:5173/"],
                redirectSignOut: ["http://localhost:3000/", "http://localhost:5173/"],
                responseType: "code",
                providers: ["Google", "Corp"],
            },
        );
        assert.deepEqual(Object.keys(cloud.outputs).sort(), ["apiUrl", "bucketName", "endpoints", "identityPoolId", "oauth", "region", "tableName", "userPoolClientId", "userPoolId"]);
    });

    it("signs a Google user in through the redirect flow as Cognito creates them, and the Identity Pool gives them an identity", async () => {
        const tokens = await signInWith("Google", "gwen@example.com");
        const claims = decodeJwt(tokens.id_token);
        assert.match(String(claims["cognito:username"]), /^Google_\d+$/);
        assert.equal(claims.email, "gwen@example.com");
        const user = await idp.send(new AdminGetUserCommand({ UserPoolId: cloud.outputs.userPoolId, Username: String(claims["cognito:username"]) }));
        assert.equal(user.UserStatus, "EXTERNAL_PROVIDER");
        const attributes = Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value]));
        assert.equal(attributes.email, "gwen@example.com");
        assert.equal(attributes.email_verified, "true");
        assert.equal(attributes.name, "gwen");
        const { identityId, credentials } = await client.identityCredentials(tokens.id_token);
        const created = await client.api({ email: "gwen@example.com", idToken: tokens.id_token, identityId, credentials }, "POST", "/notes", { content: "from Google" });
        assert.equal(created.status, 201, created.text);
    });

    it("keeps the same user, identity id and notes on a second sign-in", async () => {
        const first = await client.identityCredentials((await signInWith("Corp", "olga@example.com")).id_token);
        const user = { email: "olga@example.com", idToken: "", ...first };
        assert.equal((await client.api(user, "POST", "/notes", { content: "olga's note" })).status, 201);
        const again = await signInWith("Corp", "olga@example.com");
        assert.match(String(decodeJwt(again.id_token)["cognito:username"]), /^Corp_\d+$/);
        const second = await client.identityCredentials(again.id_token);
        assert.equal(second.identityId, first.identityId);
        const listed = await client.api({ ...user, ...second }, "GET", "/notes");
        assert.deepEqual(JSON.parse(listed.text).notes.map((note: { content: string }) => note.content), ["olga's note"]);
    });

    it("links a Google sign-in with a verified email to the password user with that email, who keeps their notes", async () => {
        const { email, password } = await passwordUser("pat");
        const passwordToken = await client.logIn(email, password);
        const original = { email, idToken: passwordToken, ...(await client.identityCredentials(passwordToken)) };
        assert.equal((await client.api(original, "POST", "/notes", { content: "written with a password" })).status, 201);

        const google = await signInWith("Google", email);
        const claims = decodeJwt(google.id_token);
        assert.equal(claims.sub, decodeJwt(passwordToken).sub, "the Google sign-in is the password user");
        const identity = await client.identityCredentials(google.id_token);
        assert.equal(identity.identityId, original.identityId);
        const listed = await client.api({ ...original, ...identity }, "GET", "/notes");
        assert.deepEqual(JSON.parse(listed.text).notes.map((note: { content: string }) => note.content), ["written with a password"]);
        const federated = await idp.send(new ListUsersCommand({ UserPoolId: cloud.outputs.userPoolId, Filter: `email = "${email}"` }));
        assert.deepEqual(federated.Users?.map((u) => u.UserStatus), ["CONFIRMED"], "no second user was created");
    });

    it("gives the same email with email_verified unchecked a separate user, and links nothing", async () => {
        const { email, password } = await passwordUser("una");
        const passwordToken = await client.logIn(email, password);
        const google = await signInWith("Google", email, false);
        const claims = decodeJwt(google.id_token);
        assert.notEqual(claims.sub, decodeJwt(passwordToken).sub);
        assert.match(String(claims["cognito:username"]), /^Google_\d+$/);
        const users = await idp.send(new ListUsersCommand({ UserPoolId: cloud.outputs.userPoolId, Filter: `email = "${email}"` }));
        assert.deepEqual(users.Users?.map((u) => u.UserStatus).sort(), ["CONFIRMED", "EXTERNAL_PROVIDER"]);
        assert.notEqual((await client.identityCredentials(google.id_token)).identityId, (await client.identityCredentials(passwordToken)).identityId);
    });

    it("refuses a tampered state coming back from the provider", async () => {
        const { back } = await codeFor("Google", "tess@example.com", true, (url) => url.searchParams.set("state", `${url.searchParams.get("state")}x`));
        assert.equal(back.toString(), `${base}/error?error=invalid_state`);
        const page = await send(back.toString());
        assert.equal(page.status, 400);
    });

    it("refuses a redirect_uri that is not exactly one of the client's callback URLs", async () => {
        for (const redirectUri of ["http://localhost:5173", "http://localhost:5173/evil", "https://evil.example/", "http://localhost:5174/"]) {
            const answer = await send(authorizeUrl("Google", { redirectUri, challenge: pkce().challenge }));
            assert.equal(location(answer), `${base}/error?error=redirect_mismatch`, redirectUri);
        }
    });

    it("refuses a PKCE verifier that does not match, a redirect_uri that differs at the exchange, and a replayed code", async () => {
        const mismatch = await codeFor("Google", "pkce@example.com");
        assert.deepEqual(await exchange(mismatch.code, pkce().verifier), { status: 400, body: { error: "invalid_grant" } });
        // The code was spent by that attempt, whatever the outcome.
        assert.deepEqual(await exchange(mismatch.code, mismatch.verifier), { status: 400, body: { error: "invalid_grant" } });

        const wrongRedirect = await codeFor("Google", "pkce@example.com");
        assert.deepEqual(await exchange(wrongRedirect.code, wrongRedirect.verifier, "http://localhost:3000/"), { status: 400, body: { error: "invalid_grant" } });

        const good = await codeFor("Google", "pkce@example.com");
        assert.equal((await exchange(good.code, good.verifier)).status, 200);
        assert.deepEqual(await exchange(good.code, good.verifier), { status: 400, body: { error: "invalid_grant" } });
    });

    it("refreshes tokens, answers userInfo for an access token, and signs out to a registered URL only", async () => {
        const tokens = await signInWith("Google", "rita@example.com");
        const refreshed = await send(`${base}/oauth2/token`, { form: { grant_type: "refresh_token", client_id: cloud.outputs.userPoolClientId, refresh_token: tokens.refresh_token } });
        assert.equal(refreshed.status, 200, refreshed.body);
        assert.equal(decodeJwt(JSON.parse(refreshed.body).id_token).email, "rita@example.com");
        const info = await send(`${base}/oauth2/userInfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        assert.equal(info.status, 200, info.body);
        assert.equal(JSON.parse(info.body).email, "rita@example.com");
        assert.equal((await send(`${base}/oauth2/userInfo`, { headers: { authorization: "Bearer nope" } })).status, 401);
        const out = `${base}/logout?client_id=${cloud.outputs.userPoolClientId}&logout_uri=${encodeURIComponent(REDIRECT)}`;
        assert.equal(location(await send(out)), REDIRECT);
        const evil = `${base}/logout?client_id=${cloud.outputs.userPoolClientId}&logout_uri=${encodeURIComponent("https://evil.example/")}`;
        assert.equal(location(await send(evil)), `${base}/error?error=redirect_mismatch`);
    });

    it("answers Cognito's errors for other bad token requests", async () => {
        const form = (extra: Record<string, string>) => send(`${base}/oauth2/token`, { form: { client_id: cloud.outputs.userPoolClientId, ...extra } });
        assert.deepEqual(JSON.parse((await form({ grant_type: "password" })).body), { error: "unsupported_grant_type" });
        assert.deepEqual(JSON.parse((await send(`${base}/oauth2/token`, { form: { grant_type: "authorization_code", client_id: "nope", code: "x" } })).body), { error: "invalid_client" });
        assert.deepEqual(JSON.parse((await form({ grant_type: "refresh_token", refresh_token: "garbage" })).body), { error: "invalid_grant" });
    });
});
