import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { newPassword } from "../../tools/client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../../tools/local/process";
import { LOCAL_OAUTH_PASSPHRASE } from "../support/oauth";
import { confirmationCode, CspRecorder, failStepsOnCorsFailures, failStepsOnCspViolations, freePort, launchChromium, PreflightRecorder } from "./support";

/** The reference client's origin: one of the local-oauth stack's callback URLs. */
const CLIENT_ORIGIN = "http://localhost:5173";

describe("browser: sign-in providers through managed login, Amplify JS v6 in Chromium (npm start --stack local-oauth)", function () {
    this.timeout(90_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let browser: Browser;
    let settled: Promise<unknown> | undefined;

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-browser-oauth-"));
        const webPort = await freePort();
        const starting = [
            startLocalCloudProcess(dataDir, ["--stack", "local-oauth", "--web-port", String(webPort)], 60_000, true, LOCAL_OAUTH_PASSPHRASE).then((local) => (cloud = local)),
            launchChromium({ "localhost:5173": `127.0.0.1:${webPort}` }).then((launched) => (browser = launched)),
        ];
        settled = Promise.allSettled(starting);
        await Promise.all(starting);
    });

    after(async () => {
        await settled;
        await browser?.close();
        await cloud?.stop();
        rmSync(dataDir, { recursive: true, force: true });
    });

    describe("the reference client", () => {
        let context: BrowserContext;
        let page: Page;
        let preflights: PreflightRecorder;
        /** Every securitypolicyviolation of every page of this suite, its fresh profiles included. */
        const csp = new CspRecorder();
        const notes = () => page.locator("li.note");
        /** The Identity Pool id Amplify keeps for the signed-in user (what every note and file is keyed by). */
        /** The Identity Pool ids the Identity Pool answered the page (GetId), last one last: what every note and file is keyed by. */
        const identities: string[] = [];
        const identityId = async () => {
            for (let i = 0; i < 80 && identities.length === 0; i++) await page.waitForTimeout(100);
            return identities.at(-1)!;
        };
        let googleIdentity: string;

        /** "Continue with <provider>", the provider's page, and back to the notes. */
        async function continueWith(provider: string, email: string, verified = true): Promise<void> {
            identities.length = 0;
            await page.getByRole("button", { name: `Continue with ${provider}` }).click();
            await page.locator("input[name=email]").waitFor();
            assert.match(page.url(), new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${provider.toLowerCase()}/authorize\\?`));
            await page.locator("input[name=email]").fill(email);
            if (!verified) await page.locator("input[name=email_verified]").uncheck();
            await page.getByRole("button", { name: "Sign in" }).click();
            await page.getByLabel("New note").waitFor({ timeout: 15_000 });
            assert.equal(await page.locator("#who").textContent(), email);
        }

        async function signOut(): Promise<void> {
            await page.locator("#sign-out").click();
            await page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 15_000 });
        }

        /** A new browser profile at the app (an abandoned redirect leaves Amplify waiting for it in the old one). */
        async function freshPage(): Promise<void> {
            await context?.close();
            context = await browser.newContext({ viewport: { width: 860, height: 720 }, ignoreHTTPSErrors: true });
            context.setDefaultTimeout(8_000);
            await CspRecorder.attach(context, csp);
            page = await context.newPage();
            preflights = await PreflightRecorder.attach(page);
            page.on("response", async (response) => {
                if (response.request().headers()["x-amz-target"] !== "AWSCognitoIdentityService.GetId" || !response.ok()) return;
                identities.push(JSON.parse(await response.text()).IdentityId);
            });
            await page.goto(`${CLIENT_ORIGIN}/`);
            await page.getByRole("heading", { name: "Sign in" }).waitFor();
        }

        before(freshPage);

        after(() => context?.close());

        failStepsOnCorsFailures(() => preflights);
        failStepsOnCspViolations(() => csp);

        it("offers one button per configured provider", async () => {
            assert.deepEqual(await page.locator("#providers button").allTextContents(), ["Continue with Google", "Continue with Corp"]);
        });

        it("serves the client under the site's CSP, its connect-src naming the local managed login's TLS origin", async () => {
            const meta = String(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content"));
            const connect = /(?:^|; )connect-src ([^;]*)/.exec(meta)?.[1].split(" ");
            const { endpoints, oauth } = cloud.outputs;
            assert.deepEqual(connect, [
                new URL(cloud.outputs.apiUrl).origin,
                new URL(endpoints.cognitoIdp).origin,
                new URL(endpoints.cognitoIdentity).origin,
                `https://${cloud.outputs.bucketName}.s3.us-east-1.amazonaws.com`,
                `https://${oauth!.domain}`,
                // Locally only: the S3 relay's responses come from the page's own origin (web/headers.ts).
                "'self'",
            ]);
            assert.match(oauth!.domain, /^localhost:\d+$/);
        });

        it("signs in with Google through the managed login, then calls the API signed and uploads a file", async () => {
            await continueWith("Google", "gina@example.com");
            googleIdentity = await identityId();
            assert.match(googleIdentity, /^us-east-1:[0-9a-f-]{36}$/);
            await page.getByLabel("New note").fill("Written after Google sign-in");
            await page.getByRole("button", { name: "Add note" }).click();
            await notes().filter({ hasText: "Written after Google sign-in" }).waitFor();
            await notes().filter({ hasText: "Written after Google sign-in" }).locator("input[type=file]").setInputFiles({ name: "g.txt", mimeType: "text/plain", buffer: Buffer.from("from Google\n") });
            await notes().filter({ hasText: "Written after Google sign-in" }).locator(".attachment", { hasText: "g.txt" }).waitFor();
        });

        it("signs out through the managed login's logout, and back to the sign-in view", async () => {
            const logout = page.waitForRequest((request) => request.url().includes("/logout?") && request.url().startsWith(`https://${cloud.outputs.oauth!.domain}/`));
            await signOut();
            assert.match((await logout).url(), /client_id=.*logout_uri=http%3A%2F%2Flocalhost%3A5173%2F/);
        });

        it("keeps the same identity id and notes on a second sign-in", async () => {
            await continueWith("Google", "gina@example.com");
            assert.equal(await identityId(), googleIdentity);
            await notes().filter({ hasText: "Written after Google sign-in" }).locator(".attachment", { hasText: "g.txt" }).waitFor();
            await signOut();
        });

        it("gives a password user who continues with Google on the same verified email their own notes", async () => {
            const email = `paula-${Date.now()}@example.com`;
            identities.length = 0;
            await page.getByRole("link", { name: "Create one" }).click();
            const form = page.locator("#sign-up");
            await form.getByLabel("Email").fill(email);
            await form.getByLabel("Password").fill(newPassword());
            await form.getByRole("button", { name: "Create account" }).click();
            await page.getByRole("heading", { name: "Confirm your email" }).waitFor();
            let code: string | undefined;
            for (let i = 0; i < 50 && !code; i++) {
                code = confirmationCode(cloud.output(), email);
                if (!code) await page.waitForTimeout(100);
            }
            await page.getByLabel("Code").fill(code!);
            await page.getByRole("button", { name: "Confirm" }).click();
            await page.getByLabel("New note").waitFor({ timeout: 15_000 });
            await notes().count();
            const passwordIdentity = await identityId();
            await page.getByLabel("New note").fill("Written with a password");
            await page.getByRole("button", { name: "Add note" }).click();
            await notes().filter({ hasText: "Written with a password" }).waitFor();
            await signOut();

            await continueWith("Google", email);
            await notes().filter({ hasText: "Written with a password" }).waitFor();
            assert.equal(await identityId(), passwordIdentity);
            await signOut();

            // The same address, without the provider vouching for it: a separate user, nothing linked.
            await continueWith("Corp", email, false);
            assert.equal(await notes().count(), 0);
            assert.notEqual(await identityId(), passwordIdentity);
            await signOut();
        });

        it("refuses a tampered state on the way back from the provider", async () => {
            // The provider's answer to the sign-in form is the redirect back to the managed login; change its state.
            const signInForm = /\/google\/authorize$/;
            await page.route(signInForm, async (route) => {
                if (route.request().method() !== "POST") return route.continue();
                const answer = await route.fetch({ maxRedirects: 0 });
                const back = new URL(answer.headers().location);
                back.searchParams.set("state", `${back.searchParams.get("state")}tampered`);
                return route.fulfill({ status: 302, headers: { location: back.toString() } });
            });
            try {
                await page.getByRole("button", { name: "Continue with Google" }).click();
                await page.locator("input[name=email]").fill("gina@example.com");
                await page.getByRole("button", { name: "Sign in" }).click();
                await page.getByText("error=invalid_state").waitFor();
                assert.match(page.url(), /\/error\?error=invalid_state$/);
            } finally {
                await page.unroute(signInForm);
            }
        });

        it("refuses a PKCE verifier that is not the one the sign-in started with: the app stays signed out", async () => {
            await freshPage();
            const refused: number[] = [];
            await page.route("**/oauth2/token", async (route) => {
                const form = new URLSearchParams(route.request().postData() ?? "");
                form.set("code_verifier", "x".repeat(64));
                const answer = await route.fetch({ postData: form.toString() });
                refused.push(answer.status());
                return route.fulfill({ response: answer });
            });
            try {
                await page.getByRole("button", { name: "Continue with Google" }).click();
                await page.locator("input[name=email]").fill("gina@example.com");
                await page.getByRole("button", { name: "Sign in" }).click();
                await page.locator("#message", { hasText: /Sign-in with the provider failed/ }).waitFor({ timeout: 15_000 });
                assert.deepEqual(refused, [400]);
                assert.equal(await page.locator("#notes").isVisible(), false);
            } finally {
                await page.unroute("**/oauth2/token");
            }
        });

        it("refuses a code presented a second time, after the app's own exchange succeeded", async () => {
            await freshPage();
            let exchange: { body: string } | undefined;
            page.on("request", (request) => {
                if (request.url().endsWith("/oauth2/token") && request.method() === "POST") exchange = { body: request.postData() ?? "" };
            });
            await continueWith("Google", "gina@example.com");
            assert.ok(exchange, "the app made no token request");
            const replay = await page.evaluate(
                async ({ url, body }) => {
                    const answer = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
                    return { status: answer.status, body: await answer.json() };
                },
                { url: `https://${cloud.outputs.oauth!.domain}/oauth2/token`, body: exchange!.body },
            );
            assert.deepEqual(replay, { status: 400, body: { error: "invalid_grant" } });
            await signOut();
        });

        it("refuses a redirect_uri that is not one of the client's callback URLs", async () => {
            const authorize = new URL(`https://${cloud.outputs.oauth!.domain}/oauth2/authorize`);
            authorize.search = new URLSearchParams({
                response_type: "code",
                client_id: cloud.outputs.userPoolClientId,
                redirect_uri: "https://evil.example/",
                identity_provider: "Google",
                code_challenge: "a".repeat(43),
                code_challenge_method: "S256",
            }).toString();
            await page.goto(authorize.toString());
            await page.getByText("error=redirect_mismatch").waitFor();
            assert.match(page.url(), /\/error\?error=redirect_mismatch$/);
        });

        it("ran every redirect sign-in, token exchange and sign-out under the site's CSP with no violation", () => {
            assert.deepEqual(csp.failures(), []);
        });
    });
});
