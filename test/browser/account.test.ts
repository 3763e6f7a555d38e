import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import type { BrowserContext, Page } from "playwright-core";
import { FlowUser, newPassword, NotesClient } from "../../tools/client/flow";
import { bundleWebClient, withConfig } from "../../web/build";
import { qrModules, qrPath } from "../../web/src/qr";
import { AdminView, Authenticator, DataSnapshot } from "./account-support";
import { BrowserRig, cognitoCodes, confirmationCode, failStepsOnCorsFailures, inPage, PreflightRecorder, startBrowserRig } from "./support";

const PAGE_ORIGIN = "http://localhost:3000";
const CLIENT_ORIGIN = "http://localhost:5173";

/**
 * The account lifecycle on each stack the local cloud runs: dev, and prod with its versioned bucket.
 * Each page runs at an origin the stack's corsAllowedOrigins lists: prod allows only its real web
 * origin, where the test serves the page itself.
 */
const STACKS = [
    { stack: "dev", versioned: false, origin: PAGE_ORIGIN, clientOrigin: CLIENT_ORIGIN },
    { stack: "prod", versioned: true, origin: "https://notes.example.com", clientOrigin: "https://notes.example.com" },
];

const CONTENT_TYPES: Record<string, string> = { html: "text/html", js: "text/javascript", css: "text/css", json: "application/json" };

/** Another user's notes and files (several versions and a delete marker where the bucket is versioned), made through the API and S3 with the SDK. */
async function otherUsersData(client: NotesClient, versioned: boolean): Promise<FlowUser> {
    const user = await client.newUser("bystander");
    for (const content of ["bystander's first note", "bystander's second note"]) {
        const response = await client.api(user, "POST", "/notes", { content });
        assert.equal(response.status, 201, response.text);
    }
    const { PutObjectCommand, DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = client.s3(user);
    const Bucket = client.target.bucketName;
    const key = (name: string) => `private/${user.identityId}/${name}`;
    await s3.send(new PutObjectCommand({ Bucket, Key: key("keep.txt"), Body: "bystander's file, version 1" }));
    if (versioned) {
        await s3.send(new PutObjectCommand({ Bucket, Key: key("keep.txt"), Body: "bystander's file, version 2" }));
        await s3.send(new PutObjectCommand({ Bucket, Key: key("gone.txt"), Body: "deleted, still a version" }));
        await s3.send(new DeleteObjectCommand({ Bucket, Key: key("gone.txt") }));
    }
    return user;
}

/** Where the origin is not one of the local servers', the test answers the page's requests itself. */
async function servePageAt(context: BrowserContext, origin: string, files: Map<string, Uint8Array>): Promise<void> {
    if (origin === PAGE_ORIGIN || origin === CLIENT_ORIGIN) return;
    await context.route(`${origin}/**`, (route) => {
        const name = new URL(route.request().url()).pathname.slice(1) || "index.html";
        const body = files.get(name);
        return body
            ? route.fulfill({ status: 200, contentType: CONTENT_TYPES[name.split(".").pop()!] ?? "application/octet-stream", body: Buffer.from(body) })
            : route.fulfill({ status: 404, body: "" });
    });
}

for (const { stack, versioned, origin, clientOrigin } of STACKS) {
    describe(`browser: the account lifecycle against npm start --stack ${stack}${versioned ? " (versioned bucket)" : ""}`, function () {
        this.timeout(120_000);
        let rig: BrowserRig;
        let admin: AdminView;
        let client: NotesClient;
        let bystander: FlowUser;
        let bystanderBefore: DataSnapshot;

        before(async () => {
            rig = await startBrowserRig(["--stack", stack]);
            admin = new AdminView(rig.cloud);
            client = new NotesClient(rig.cloud.outputs, { adminCredentials: rig.cloud.adminCredentials });
        });

        after(() => rig?.stop());

        it("has another user with notes and files, which the local admin key reads whole", async () => {
            bystander = await otherUsersData(client, versioned);
            bystanderBefore = await admin.snapshot(bystander.identityId, versioned);
            assert.equal(bystanderBefore.items.length, 2);
            assert.deepEqual(Object.values(bystanderBefore.objects), [Buffer.from(versioned ? "bystander's file, version 2" : "bystander's file, version 1").toString("base64")]);
            assert.equal(Object.keys(bystanderBefore.versions).length, versioned ? 4 : 0);
        });

        describe("Amplify JS v6's account APIs on a test page", () => {
            let context: BrowserContext;
            let page: Page;
            let preflights: PreflightRecorder;
            let evaluate: ReturnType<typeof inPage>;
            let email = `amplify-${randomUUID().slice(0, 8)}@example.com`;
            let password = newPassword();
            let authenticator: Authenticator;
            const signIn = (username: string, secret: string) =>
                evaluate(async (n, { username, secret, flow }) => {
                    await n.auth.signOut();
                    const result = await n.auth.signIn({ username, password: secret, options: { authFlowType: flow } }).catch((e: Error) => ({ error: e.name }));
                    return "error" in result ? result : { isSignedIn: result.isSignedIn, step: result.nextStep.signInStep };
                }, { username, secret, flow: rig.config.authFlowType });

            before(async () => {
                context = await rig.browser.newContext({ serviceWorkers: "block", ignoreHTTPSErrors: true });
                context.setDefaultTimeout(10_000);
                await servePageAt(context, origin, rig.pageFiles);
                page = await context.newPage();
                preflights = await PreflightRecorder.attach(page);
                evaluate = inPage(page);
                await page.goto(`${origin}/`);
                await page.waitForFunction(() => (globalThis as any).notes !== undefined);
                await evaluate(async (n, c) => n.Amplify.configure(n.amplifyConfig(n.parseClientConfig(c))), rig.config);
            });

            after(() => context?.close());

            failStepsOnCorsFailures(() => preflights);

            it("signs up and confirms with the emailed code", async () => {
                await evaluate(async (n, { email, password }) => n.auth.signUp({ username: email, password, options: { userAttributes: { email } } }), { email, password });
                const code = confirmationCode(rig.cloud.output(), email);
                assert.ok(code, "no confirmation code printed");
                await evaluate(async (n, { email, code }) => n.auth.confirmSignUp({ username: email, confirmationCode: code }), { email, code });
                assert.deepEqual(await signIn(email, password), { isSignedIn: true, step: "DONE" });
            });

            it("resets a forgotten password: a wrong code and a weak password refused, the emailed code accepted once", async () => {
                await evaluate(async (n) => n.auth.signOut(), null);
                const started = await evaluate(async (n, email) => n.auth.resetPassword({ username: email }), email);
                assert.equal(started.nextStep.resetPasswordStep, "CONFIRM_RESET_PASSWORD_WITH_CODE");
                const code = cognitoCodes(rig.cloud.output(), "password reset", email).at(-1);
                assert.ok(code, "no password reset code printed");
                const reset = (confirmationCode: string, newPassword: string) =>
                    evaluate(async (n, input) => n.failure(n.auth.confirmResetPassword(input)), { username: email, confirmationCode, newPassword });
                assert.equal((await reset(code === "000000" ? "111111" : "000000", newPassword()))?.name, "CodeMismatchException");
                assert.equal((await reset(code, "short"))?.name, "InvalidPasswordException");
                const fresh = newPassword();
                assert.equal(await reset(code, fresh), undefined);
                // Refused the second time (Cognito's answer names the code expired or not matching).
                const twice = await reset(code, newPassword());
                assert.ok(["ExpiredCodeException", "CodeMismatchException"].includes(twice?.name ?? ""), `a reset code worked twice: ${JSON.stringify(twice)}`);
                assert.deepEqual(await signIn(email, password), { error: "NotAuthorizedException" });
                password = fresh;
                assert.deepEqual(await signIn(email, password), { isSignedIn: true, step: "DONE" });
            });

            it("changes the password: a wrong current password and a weak new one refused", async () => {
                const change = (oldPassword: string, newPassword: string) => evaluate(async (n, input) => n.failure(n.auth.updatePassword(input)), { oldPassword, newPassword });
                assert.equal((await change("Wrong-password-1!", newPassword()))?.name, "NotAuthorizedException");
                assert.equal((await change(password, "weakweakweak"))?.name, "InvalidPasswordException");
                const fresh = newPassword();
                assert.equal(await change(password, fresh), undefined);
                assert.deepEqual(await signIn(email, password), { error: "NotAuthorizedException" });
                password = fresh;
                assert.deepEqual(await signIn(email, password), { isSignedIn: true, step: "DONE" });
            });

            it("changes the email: another account's refused, the old one kept until the new one is confirmed with its code", async () => {
                const update = (value: string) =>
                    evaluate(async (n, value) => n.auth.updateUserAttribute({ userAttribute: { attributeKey: "email", value } }).then((r: any) => r.nextStep.updateAttributeStep, (e: Error) => e.name), value);
                assert.equal(await update(bystander.email), "AliasExistsException");
                const newEmail = `changed-${randomUUID().slice(0, 8)}@example.com`;
                assert.equal(await update(newEmail), "CONFIRM_ATTRIBUTE_WITH_CODE");
                const attributes = () => evaluate(async (n) => n.auth.fetchUserAttributes(), null);
                assert.equal((await attributes()).email, email, "the email changed before it was verified");
                const code = cognitoCodes(rig.cloud.output(), "email verification", newEmail).at(-1);
                assert.ok(code, "no email verification code printed for the new address");
                const confirm = (confirmationCode: string) => evaluate(async (n, c) => n.failure(n.auth.confirmUserAttribute({ userAttributeKey: "email", confirmationCode: c })), confirmationCode);
                assert.equal((await confirm(code === "000000" ? "111111" : "000000"))?.name, "CodeMismatchException");
                assert.equal(await confirm(code), undefined);
                const after = await attributes();
                assert.deepEqual([after.email, after.email_verified], [newEmail, "true"]);
                assert.deepEqual(await signIn(email, password), { error: "NotAuthorizedException" });
                email = newEmail;
                assert.deepEqual(await signIn(email, password), { isSignedIn: true, step: "DONE" });
            });

            it("sets up TOTP (a wrong code refused), then signs in with a code computed here; a wrong or used code is refused", async () => {
                const setup = await evaluate(async (n, email) => {
                    const details = await n.auth.setUpTOTP();
                    return { secret: details.sharedSecret, uri: details.getSetupUri("Notes", email).toString() };
                }, email);
                assert.match(setup.secret, /^[A-Z2-7]{16,}$/);
                assert.equal(setup.uri, `otpauth://totp/Notes:${email}?secret=${setup.secret}&issuer=Notes`);
                authenticator = new Authenticator(setup.secret);
                const wrong = await evaluate(async (n) => n.failure(n.auth.verifyTOTPSetup({ code: "000000" })), null);
                assert.ok(["EnableSoftwareTokenMFAException", "CodeMismatchException"].includes(wrong?.name ?? ""), JSON.stringify(wrong));
                await evaluate(async (n, code) => n.auth.verifyTOTPSetup({ code }), await authenticator.nextCode());
                await evaluate(async (n) => n.auth.updateMFAPreference({ totp: "PREFERRED" }), null);
                assert.deepEqual(await evaluate(async (n) => n.auth.fetchMFAPreference(), null), { enabled: ["TOTP"], preferred: "TOTP" });

                assert.deepEqual(await signIn(email, password), { isSignedIn: false, step: "CONFIRM_SIGN_IN_WITH_TOTP_CODE" });
                const answer = (code: string) => evaluate(async (n, code) => n.auth.confirmSignIn({ challengeResponse: code }).then((r: any) => r.nextStep.signInStep, (e: Error) => `${e.name}: ${e.message}`), code);
                assert.match(await answer("000000"), /^CodeMismatchException/);
                assert.equal(await answer(authenticator.usedCode()), "ExpiredCodeException: Your software token has already been used once.");
                assert.equal(await answer(await authenticator.nextCode()), "DONE");
                const session = await evaluate(async (n) => (await n.auth.fetchAuthSession()).credentials?.accessKeyId, null);
                assert.match(session ?? "", /^ASIA/);
            });

            it("turns TOTP off where the stack allows it (mfa optional): sign-in asks for the password only", async () => {
                await evaluate(async (n) => n.auth.updateMFAPreference({ totp: "DISABLED" }), null);
                const preference = await evaluate(async (n) => n.auth.fetchMFAPreference(), null);
                assert.ok(!(preference.enabled ?? []).includes("TOTP") && preference.preferred === undefined, JSON.stringify(preference));
                assert.deepEqual(await signIn(email, password), { isSignedIn: true, step: "DONE" });
            });

            it("signs out everywhere: another device's session can no longer refresh, and the old id token gets no credentials", async () => {
                const other = await rig.browser.newContext({ serviceWorkers: "block", ignoreHTTPSErrors: true });
                try {
                    await servePageAt(other, origin, rig.pageFiles);
                    const otherPage = await other.newPage();
                    await otherPage.goto(`${origin}/`);
                    await otherPage.waitForFunction(() => (globalThis as any).notes !== undefined);
                    const device = inPage(otherPage);
                    await device(async (n, c) => n.Amplify.configure(n.amplifyConfig(n.parseClientConfig(c))), rig.config);
                    const signedIn = await device(async (n, { email, password, flow }) => (await n.auth.signIn({ username: email, password, options: { authFlowType: flow } })).isSignedIn, { email, password, flow: rig.config.authFlowType });
                    assert.equal(signedIn, true);
                    const idToken = await evaluate(async (n) => (await n.auth.fetchAuthSession()).tokens?.idToken?.toString(), null);
                    assert.ok(idToken);
                    assert.equal(await admin.credentialsFor(idToken), "credentials");

                    await evaluate(async (n) => n.auth.signOut({ global: true }), null);
                    assert.equal(await evaluate(async (n) => (await n.auth.fetchAuthSession()).tokens, null), undefined);
                    assert.equal(await admin.credentialsFor(idToken), "NotAuthorizedException");
                    const refreshed = await device(async (n) => {
                        const session = await n.auth.fetchAuthSession({ forceRefresh: true }).catch((e: Error) => ({ error: e.name }));
                        return "error" in session ? session.error : session.tokens === undefined ? "no tokens" : "tokens";
                    }, null);
                    assert.notEqual(refreshed, "tokens", "the other device's refresh token still works");
                } finally {
                    await other.close();
                }
            });

            it(`deletes the account with notes and files${versioned ? " (overwritten and deleted ones too)" : ""}: DELETE /account answers 202 until 204, then 204 again`, async () => {
                assert.deepEqual(await signIn(email, password), { isSignedIn: true, step: "DONE" });
                const { identityId, username } = await evaluate(async (n) => ({ identityId: (await n.auth.fetchAuthSession()).identityId, username: (await n.auth.getCurrentUser()).username }), null);
                await evaluate(async (n, versioned) => {
                    for (let i = 0; i < 3; i++) await n.api.post({ apiName: n.NOTES_API, path: "/notes", options: { body: { content: `note ${i} to erase` } } }).response;
                    const path = (name: string) => ({ identityId }: { identityId: string }) => `private/${identityId}/${name}`;
                    await n.storage.uploadData({ path: path("a.txt"), data: "first" }).result;
                    await n.storage.uploadData({ path: path("b.txt"), data: "second" }).result;
                    if (versioned) {
                        await n.storage.uploadData({ path: path("a.txt"), data: "first, edited" }).result;
                        await n.storage.remove({ path: path("b.txt") });
                    }
                }, versioned);
                const before = await admin.snapshot(identityId, versioned);
                assert.equal(before.items.length, 3);
                assert.equal(Object.keys(before.objects).length, versioned ? 1 : 2);
                assert.equal(Object.keys(before.versions).length, versioned ? 4 : 0);

                const answers = await evaluate(async (n) => {
                    const statuses: { status: number; body: string }[] = [];
                    for (let call = 0; call < 100; call++) {
                        const { statusCode, body } = await n.api.del({ apiName: n.NOTES_API, path: "/account" }).response;
                        statuses.push({ status: statusCode, body: await body.text() });
                        if (statusCode === 204) break;
                    }
                    return statuses;
                }, null);
                assert.equal(answers.at(-1)?.status, 204, JSON.stringify(answers));
                for (const { status, body } of answers.slice(0, -1)) {
                    assert.equal(status, 202);
                    assert.ok(Array.isArray(JSON.parse(body).remaining), body);
                }
                const again = await evaluate(async (n) => (await n.api.del({ apiName: n.NOTES_API, path: "/account" }).response).statusCode, null);
                assert.equal(again, 204);

                assert.deepEqual(await admin.snapshot(identityId, false), { items: [], objects: {}, versions: {} });
                assert.deepEqual(await admin.versionsUnder(identityId), [], "object versions or delete markers remain");
                assert.equal(await admin.identityState(identityId), "ResourceNotFoundException");
                assert.equal(await admin.userState(username), "UserNotFoundException");
                assert.deepEqual(await signIn(email, password), { error: "NotAuthorizedException" });
            });

            it("left the other user's notes, files and versions byte-identical", async () => {
                assert.deepEqual(await admin.snapshot(bystander.identityId, versioned), bystanderBefore);
            });
        });

        describe("the reference client, screen by screen", () => {
            let context: BrowserContext;
            let page: Page;
            let preflights: PreflightRecorder;
            let email = `grace-${stack}@example.com`;
            let password = newPassword();
            let authenticator: Authenticator;
            const message = (text: RegExp) => page.locator("#message", { hasText: text }).waitFor();
            const heading = (name: string) => page.getByRole("heading", { name }).waitFor();
            const signInForm = () => page.locator("#sign-in");
            const signInWith = async (user: string, secret: string) => {
                await signInForm().getByLabel("Email").fill(user);
                await signInForm().getByLabel("Password").fill(secret);
                await signInForm().getByRole("button", { name: "Sign in" }).click();
            };
            const openAccount = async () => {
                await page.getByRole("button", { name: "Account", exact: true }).click();
                await heading("Change password");
            };
            /** The id token Amplify keeps in the page's storage (Amplify's own key). */
            const storedIdToken = () =>
                page.evaluate(() => {
                    const storage = (globalThis as any).localStorage;
                    for (let i = 0; i < storage.length; i++) if (String(storage.key(i)).endsWith(".idToken")) return storage.getItem(storage.key(i)) as string;
                    return undefined;
                });

            before(async () => {
                // At npm start's URL the client reaches S3 through its service worker; at another
                // origin the test serves it built as for a deployed stack (S3 at its host name).
                const elsewhere = clientOrigin !== CLIENT_ORIGIN;
                context = await rig.browser.newContext({ viewport: { width: 860, height: 900 }, ...(elsewhere && { serviceWorkers: "block", ignoreHTTPSErrors: true }) });
                context.setDefaultTimeout(10_000);
                if (elsewhere) await servePageAt(context, clientOrigin, withConfig(await bundleWebClient({ serviceWorker: false }), rig.config));
                page = await context.newPage();
                preflights = await PreflightRecorder.attach(page);
            });

            after(() => context?.close());

            failStepsOnCorsFailures(() => preflights);

            it("signs up, confirms, and writes a note with a file", async () => {
                await page.goto(`${clientOrigin}/`);
                await page.getByRole("link", { name: "Create one" }).click();
                const form = page.locator("#sign-up");
                await form.getByLabel("Email").fill(email);
                await form.getByLabel("Password").fill(password);
                await form.getByRole("button", { name: "Create account" }).click();
                await heading("Confirm your email");
                await page.getByLabel("Code", { exact: true }).fill(confirmationCode(rig.cloud.output(), email)!);
                await page.getByRole("button", { name: "Confirm" }).click();
                await message(/Email confirmed\. Welcome!/);
                await page.getByLabel("New note").fill("Grace's plans");
                await page.getByRole("button", { name: "Add note" }).click();
                const note = page.locator("li.note").filter({ hasText: "Grace's plans" });
                await note.locator("input[type=file]").setInputFiles({ name: "plans.txt", mimeType: "text/plain", buffer: Buffer.from("compile everything\n") });
                await message(/Attached plans\.txt/);
            });

            it("resets a forgotten password: a wrong code and a weak password get clear messages", async () => {
                await page.getByRole("button", { name: "Sign out", exact: true }).click();
                await heading("Sign in");
                await page.getByRole("link", { name: "Forgot password?" }).click();
                await heading("Reset your password");
                await page.locator("#forgot").getByLabel("Email").fill(email);
                await page.getByRole("button", { name: "Send a reset code" }).click();
                await heading("Choose a new password");
                const code = cognitoCodes(rig.cloud.output(), "password reset", email).at(-1)!;
                const reset = page.locator("#reset");
                await reset.getByLabel("Code").fill(code === "000000" ? "111111" : "000000");
                await reset.getByLabel("New password").fill(newPassword());
                await reset.getByRole("button", { name: "Set the new password" }).click();
                await message(/That code is not the one we emailed/);
                await reset.getByLabel("Code").fill(code);
                await reset.getByLabel("New password").fill("weakweakweak");
                await reset.getByRole("button", { name: "Set the new password" }).click();
                await message(/Choose a stronger password/);
                password = newPassword();
                await reset.getByLabel("New password").fill(password);
                await reset.getByRole("button", { name: "Set the new password" }).click();
                await message(/Your password is changed\. Sign in with the new one\./);
                await heading("Sign in");
                assert.equal(await signInForm().getByLabel("Email").inputValue(), email);
                await signInWith(email, password);
                await page.getByLabel("New note").waitFor();
            });

            it("changes the password in the account view: a wrong current one and a weak new one get clear messages", async () => {
                await openAccount();
                const form = page.locator("#change-password");
                const change = async (current: string, next: string) => {
                    await form.getByLabel("Current password").fill(current);
                    await form.getByLabel("New password").fill(next);
                    await form.getByRole("button", { name: "Change password" }).click();
                };
                await change("Wrong-password-1!", newPassword());
                await message(/Your current password is not correct\./);
                await change(password, "weakweakweak");
                await message(/Choose a stronger password/);
                const fresh = newPassword();
                await change(password, fresh);
                await message(/Your password is changed\./);
                password = fresh;
            });

            it("changes the email: one in use gets a clear message; the new one is confirmed with the code sent to it", async () => {
                const form = page.locator("#change-email");
                assert.equal(await page.locator("#current-email").textContent(), email);
                await form.getByLabel("New email").fill(bystander.email);
                await form.getByRole("button", { name: "Send a code to the new email" }).click();
                await message(/Another account already uses this email/);
                const newEmail = `grace-renamed-${stack}@example.com`;
                await form.getByLabel("New email").fill(newEmail);
                await form.getByRole("button", { name: "Send a code to the new email" }).click();
                await message(new RegExp(`We emailed a code to ${newEmail.replace(/[.+]/g, "\\$&")}\\. Until you confirm it, you still sign in with`));
                const confirm = page.locator("#confirm-email-change");
                const code = cognitoCodes(rig.cloud.output(), "email verification", newEmail).at(-1)!;
                await confirm.getByLabel("Code").fill(code === "000000" ? "111111" : "000000");
                await confirm.getByRole("button", { name: "Confirm the new email" }).click();
                await message(/That code is not the one we emailed/);
                await confirm.getByLabel("Code").fill(code);
                await confirm.getByRole("button", { name: "Confirm the new email" }).click();
                await message(/Your email is now grace-renamed/);
                assert.equal(await page.locator("#who").textContent(), newEmail);
                assert.equal(await page.locator("#current-email").textContent(), newEmail);
                email = newEmail;
            });

            it("sets up the authenticator app: QR code, key and otpauth:// link shown; a wrong code gets a clear message", async () => {
                assert.match((await page.locator("#mfa-status").textContent()) ?? "", /^Off/);
                await page.getByRole("button", { name: "Set up an authenticator app" }).click();
                const setup = page.locator("#mfa-verify");
                const secret = (await setup.locator(".totp-secret").textContent())!;
                assert.match(secret, /^[A-Z2-7]{16,}$/);
                const uri = (await setup.locator("a.totp-uri").getAttribute("href"))!;
                assert.equal(uri, `otpauth://totp/Notes:${encodeURIComponent(email)}?secret=${secret}&issuer=Notes`);
                assert.equal(await setup.locator(".totp-uri").textContent(), uri);
                const qr = setup.getByRole("img", { name: "QR code for your authenticator app" });
                assert.ok(await qr.isVisible());
                // The drawing is the URI's QR code (test/web/account.test.ts reads such a code back with a QR reader).
                assert.equal(await qr.locator("path").getAttribute("d"), qrPath(qrModules(uri)));
                authenticator = new Authenticator(secret);
                await setup.getByLabel("Authenticator code").fill("000000");
                await setup.getByRole("button", { name: "Verify and turn on" }).click();
                await message(/That code does not match your authenticator app/);
                await setup.getByLabel("Authenticator code").fill(await authenticator.nextCode());
                await setup.getByRole("button", { name: "Verify and turn on" }).click();
                await message(/Two-step verification is on/);
                assert.match((await page.locator("#mfa-status").textContent()) ?? "", /^On/);
                assert.ok(await page.getByRole("button", { name: "Turn off two-step verification" }).isVisible(), "mfa optional: turning it off is offered");
            });

            it("asks for the authenticator's code at sign-in: a wrong code and a used code get clear messages", async () => {
                await page.getByRole("button", { name: "Sign out", exact: true }).click();
                await signInWith(email, password);
                await heading("Two-step verification");
                const form = page.locator("#mfa-code");
                await form.getByLabel("Authenticator code").fill("000000");
                await form.getByRole("button", { name: "Verify" }).click();
                await message(/That code does not match your authenticator app/);
                await form.getByLabel("Authenticator code").fill(authenticator.usedCode());
                await form.getByRole("button", { name: "Verify" }).click();
                await message(/That code was already used/);
                await form.getByLabel("Authenticator code").fill(await authenticator.nextCode());
                await form.getByRole("button", { name: "Verify" }).click();
                await page.locator("li.note").filter({ hasText: "Grace's plans" }).waitFor();
                assert.equal(await page.locator("#who").textContent(), email);
                assert.equal(await page.locator("#message").isVisible(), false, "the refused codes' message stays after the sign-in");
            });

            it("turns two-step verification off", async () => {
                await openAccount();
                await page.getByRole("button", { name: "Turn off two-step verification" }).click();
                await message(/Two-step verification is off\./);
                assert.match((await page.locator("#mfa-status").textContent()) ?? "", /^Off/);
            });

            it("signs out everywhere: back to sign-in, and the old id token gets no credentials", async () => {
                const idToken = await storedIdToken();
                assert.ok(idToken, "no id token in the page's storage");
                assert.equal(await admin.credentialsFor(idToken), "credentials");
                await page.getByRole("button", { name: "Sign out everywhere" }).click();
                await message(/Signed out on every device\./);
                await heading("Sign in");
                assert.equal(await storedIdToken(), undefined);
                assert.equal(await admin.credentialsFor(idToken), "NotAuthorizedException");
            });

            it("deletes the account after a typed confirmation, then cannot sign in; the admin key finds nothing left", async () => {
                await signInWith(email, password);
                await page.locator("li.note").filter({ hasText: "Grace's plans" }).waitFor();
                const identityId = await admin.ownerOfNote("Grace's plans");
                const username = await page.evaluate(() => {
                    const storage = (globalThis as any).localStorage;
                    const key = Object.keys(storage).find((k) => k.endsWith(".LastAuthUser"));
                    return key ? (storage.getItem(key) as string) : undefined;
                });
                assert.ok(identityId && username, "no note of this user in the table, or no user name in the page's storage");
                const before = await admin.snapshot(identityId, versioned);
                assert.equal(before.items.length, 1);
                assert.equal(Object.keys(before.objects).length, 1);
                const statuses: number[] = [];
                page.on("response", (response) => {
                    if (response.request().method() === "DELETE" && new URL(response.url()).pathname.endsWith("/account")) statuses.push(response.status());
                });

                await openAccount();
                const form = page.locator("#delete-account");
                await form.getByLabel("Type DELETE to confirm").fill("delete");
                await form.getByRole("button", { name: "Delete my account and all my data" }).click();
                await message(/Type DELETE to confirm\. Nothing was deleted\./);
                assert.deepEqual(statuses, []);
                // The first answer is a 202 made here, as a large account gets (what one call deleted, what
                // remains), and the next call waits until the page has shown it; then the real API answers.
                let release!: () => void;
                const shown = new Promise<void>((resolve) => (release = resolve));
                let calls = 0;
                await page.route(`${rig.cloud.outputs.apiUrl}account`, async (route) => {
                    if (route.request().method() !== "DELETE") return route.continue();
                    if (calls++ > 0) {
                        await shown;
                        return route.continue();
                    }
                    return route.fulfill({
                        status: 202,
                        headers: { "content-type": "application/json", "access-control-allow-origin": clientOrigin },
                        body: JSON.stringify({ remaining: ["files", "identity", "user"], deleted: { notes: 1, files: 0 } }),
                    });
                });
                await form.getByLabel("Type DELETE to confirm").fill("DELETE");
                await form.getByRole("button", { name: "Delete my account and all my data" }).click();
                await message(/Deleting your account and all your data… \(1 request so far; deleted 1 note and 0 files; still to delete: files, identity, user\)/);
                assert.ok(await page.locator("#delete-progress").isVisible(), "no progress bar while deleting");
                release();
                await message(/Your account and all your data are deleted\./);
                assert.equal(calls, 2);
                await heading("Sign in");
                assert.equal(statuses.at(-1), 204, JSON.stringify(statuses));
                assert.ok(statuses.slice(0, -1).every((status) => status === 202), JSON.stringify(statuses));

                assert.deepEqual(await admin.snapshot(identityId, false), { items: [], objects: {}, versions: {} });
                assert.deepEqual(await admin.versionsUnder(identityId), []);
                assert.equal(await admin.identityState(identityId), "ResourceNotFoundException");
                assert.equal(await admin.userState(username), "UserNotFoundException");
                await signInWith(email, password);
                await message(/Incorrect email or password\./);
            });

            it("left the other user's data byte-identical", async () => {
                assert.deepEqual(await admin.snapshot(bystander.identityId, versioned), bystanderBefore);
            });
        });

        describe("a User Pool that requires the second step (what mfa: required deploys)", () => {
            let context: BrowserContext;
            let page: Page;
            const email = `required-${stack}@example.com`;
            const password = newPassword();
            let authenticator: Authenticator;

            before(async () => {
                await admin.requireMfa();
                await client.signUp(email, password);
                await client.confirm(email);
                const elsewhere = clientOrigin !== CLIENT_ORIGIN;
                context = await rig.browser.newContext({ ...(elsewhere && { serviceWorkers: "block", ignoreHTTPSErrors: true }) });
                context.setDefaultTimeout(10_000);
                if (elsewhere) await servePageAt(context, clientOrigin, withConfig(await bundleWebClient({ serviceWorker: false }), rig.config));
                page = await context.newPage();
            });

            after(() => context?.close());

            it("sets up the authenticator app during the first sign-in (CONTINUE_SIGN_IN_WITH_TOTP_SETUP): a wrong code, then the right one", async () => {
                await page.goto(`${clientOrigin}/`);
                const form = page.locator("#sign-in");
                await form.getByLabel("Email").fill(email);
                await form.getByLabel("Password").fill(password);
                await form.getByRole("button", { name: "Sign in" }).click();
                await page.getByRole("heading", { name: "Set up two-step verification" }).waitFor();
                const setup = page.locator("#mfa-setup");
                const secret = (await setup.locator(".totp-secret").textContent())!;
                assert.equal(await setup.locator("a.totp-uri").getAttribute("href"), `otpauth://totp/Notes:${encodeURIComponent(email)}?secret=${secret}&issuer=Notes`);
                assert.ok(await setup.getByRole("img", { name: "QR code for your authenticator app" }).isVisible());
                authenticator = new Authenticator(secret);
                await setup.getByLabel("Authenticator code").fill("000000");
                await setup.getByRole("button", { name: "Verify and sign in" }).click();
                await page.locator("#message", { hasText: /That code does not match your authenticator app/ }).waitFor();
                await setup.getByLabel("Authenticator code").fill(await authenticator.nextCode());
                await setup.getByRole("button", { name: "Verify and sign in" }).click();
                await page.getByLabel("New note").waitFor();
                assert.equal(await page.locator("#who").textContent(), email);
            });

            it("asks for the code at the next sign-in", async () => {
                await page.getByRole("button", { name: "Sign out", exact: true }).click();
                const form = page.locator("#sign-in");
                await form.getByLabel("Email").fill(email);
                await form.getByLabel("Password").fill(password);
                await form.getByRole("button", { name: "Sign in" }).click();
                await page.getByRole("heading", { name: "Two-step verification" }).waitFor();
                await page.locator("#mfa-code").getByLabel("Authenticator code").fill(await authenticator.nextCode());
                await page.locator("#mfa-code").getByRole("button", { name: "Verify" }).click();
                await page.getByLabel("New note").waitFor();
            });
        });
    });
}
