import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { newPassword } from "../../tools/client/flow";
import { webBuild } from "../../tools/scripts/web-build";
import { bundleSiteClient, siteObjects } from "../../web/build";
import { bucketHost, WebClientConfig } from "../../web/src/config";
import { localClientConfig } from "../../web/local";
import { WebServer } from "../../web/server";
import { LocalCloudProcess, startLocalCloudProcess } from "../../tools/local/process";
import { DEPLOYED_STACK_OUTPUTS } from "../support/stack-outputs";
import { connectSources, documentPolicy, withDocumentPolicy } from "../../web/headers";
import { bundleTestPage, confirmationCode, confirmationCodes, CspRecorder, failStepsOnCorsFailures, failStepsOnCspViolations, freePort, launchChromium, PreflightRecorder, TEST_PAGE, TlsForwarder } from "./support";

/** The origins the page and the reference client run at: the stack's default corsAllowedOrigins. */
const PAGE_ORIGIN = "http://localhost:3000";
const CLIENT_ORIGIN = "http://localhost:5173";
const MiB = 1024 * 1024;

describe("browser: Amplify JS v6 in Chromium against the local cloud", function () {
    this.timeout(60_000);
    const started = Date.now();
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let browser: Browser;
    let tls: TlsForwarder;
    let pageServer: WebServer;
    let pageFiles: Map<string, Uint8Array>;
    let config: WebClientConfig;
    /** Where npm start serves the reference client (the browser knows it as localhost:5173). */
    let webPort: number;
    let settled: Promise<unknown> | undefined;

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-browser-"));
        tls = new TlsForwarder();
        let pagePort: number;
        let tlsPort: number;
        [webPort, pagePort, tlsPort] = await Promise.all([freePort(), freePort(), tls.listen()]);
        // Chromium starts, and the test page is bundled, while the local cloud starts. Inside
        // Chromium, the two origins are the local servers, and every *.amazonaws.com name on 443 is
        // the TLS forwarder (which forwards only the bucket's host name), so nothing can reach AWS.
        const starting = [
            startLocalCloudProcess(dataDir, ["--web-port", String(webPort)]).then((local) => (cloud = local)),
            launchChromium({ "localhost:3000": `127.0.0.1:${pagePort}`, "localhost:5173": `127.0.0.1:${webPort}`, "*.amazonaws.com:443": `127.0.0.1:${tlsPort}` }).then((launched) => (browser = launched)),
            bundleTestPage().then((files) => (pageServer = new WebServer({ files: (pageFiles = files) })).listen(pagePort)),
        ];
        // If one fails, `after` still stops what the others started.
        settled = Promise.allSettled(starting);
        await Promise.all(starting);
        const { s3Relay, ...direct } = localClientConfig(cloud.outputs);
        config = direct;
        // The page runs under the document policy the site would have for these endpoints.
        pageFiles.set("index.html", Buffer.from(withDocumentPolicy(TEST_PAGE, documentPolicy(connectSources(config)))));
        tls.forward(bucketHost(config), Number(new URL(cloud.outputs.endpoints.s3).port));
    });

    after(async () => {
        await settled;
        await browser?.close();
        await Promise.all([cloud?.stop(), tls?.close(), pageServer?.close()]);
        rmSync(dataDir, { recursive: true, force: true });
        process.stdout.write(`\n      browser suite: ${((Date.now() - started) / 1000).toFixed(1)} s wall time, Chromium and the local cloud's start included\n`);
    });

    describe("a page using Amplify's public APIs with the README's configuration", () => {
        let context: BrowserContext;
        let page: Page;
        let preflights: PreflightRecorder;
        let csp: CspRecorder;
        const email = `amplify-${randomUUID().slice(0, 8)}@example.com`;
        const password = newPassword();
        let identityId: string;
        let noteId: string;
        let etag: string;
        const small = "hello from Amplify Storage\n";
        let bigHash: string;
        // An expression, which DevTools evaluates outside the page's CSP (an eval in the page would be refused).
        const evaluate = <T, A>(fn: (notes: any, arg: A) => Promise<T>, arg: A): Promise<T> =>
            page.evaluate(`(${fn.toString()})(globalThis.notes, ${JSON.stringify(arg ?? null)})`) as Promise<T>;

        before(async () => {
            // No service worker here: Storage's requests go to the bucket's real host name, which
            // this browser resolves to the TLS forwarder in front of the local S3.
            context = await browser.newContext({ serviceWorkers: "block", ignoreHTTPSErrors: true });
            context.setDefaultTimeout(5_000);
            csp = await CspRecorder.attach(context);
            page = await context.newPage();
            preflights = await PreflightRecorder.attach(page);
            const loaded = await page.goto(`${PAGE_ORIGIN}/`);
            assert.match((await loaded?.allHeaders())?.["content-security-policy"] ?? "", /frame-ancestors 'none'$/);
            await page.waitForFunction(() => (globalThis as any).notes !== undefined);
            await evaluate(async (n, c) => n.Amplify.configure(n.amplifyConfig(n.parseClientConfig(c))), config);
        });

        after(() => context?.close());

        failStepsOnCorsFailures(() => preflights);
        failStepsOnCspViolations(() => csp);

        it("signs up with email and password; a wrong code is refused (CodeMismatchException)", async () => {
            const result = await evaluate(async (n, { email, password }) => n.auth.signUp({ username: email, password, options: { userAttributes: { email } } }), { email, password });
            assert.equal(result.nextStep.signUpStep, "CONFIRM_SIGN_UP");
            const wrong = await evaluate(async (n, email) => n.failure(n.auth.confirmSignUp({ username: email, confirmationCode: "000000" })), email);
            assert.equal(wrong?.name, "CodeMismatchException");
        });

        it("confirms with the code the local cloud printed, and signs in (USER_PASSWORD_AUTH)", async () => {
            const code = confirmationCode(cloud.output(), email);
            assert.ok(code, `no confirmation code for ${email} in the local cloud's output`);
            const confirmed = await evaluate(async (n, { email, code }) => n.auth.confirmSignUp({ username: email, confirmationCode: code }), { email, code });
            assert.equal(confirmed.isSignUpComplete, true);
            const signedIn = await evaluate(async (n, { email, password, flow }) => n.auth.signIn({ username: email, password, options: { authFlowType: flow } }), { email, password, flow: config.authFlowType });
            assert.equal(signedIn.isSignedIn, true);
        });

        it("fetchAuthSession gets Identity Pool credentials with the login key Amplify builds from the token's issuer", async () => {
            const session = await evaluate(async (n) => {
                const s = await n.auth.fetchAuthSession();
                return { identityId: s.identityId, accessKeyId: s.credentials?.accessKeyId, iss: s.tokens?.idToken?.payload.iss };
            }, null);
            assert.match(session.identityId ?? "", /^us-east-1:[0-9a-f-]{36}$/);
            assert.match(session.accessKeyId ?? "", /^ASIA/);
            assert.equal(session.iss, `${config.endpoints!.cognitoIdp}/${config.userPoolId}`);
            identityId = session.identityId!;
        });

        it("POST /notes and GET /notes, signed with IAM", async () => {
            const created = await evaluate(async (n) => {
                const { statusCode, headers, body } = await n.api.post({ apiName: n.NOTES_API, path: "/notes", options: { body: { content: "from Chromium" } } }).response;
                return { statusCode, etag: headers.etag, note: await body.json() };
            }, null);
            assert.equal(created.statusCode, 201);
            assert.match(created.etag, /^"\d+"$/);
            noteId = created.note.noteId;
            const listed = await evaluate(async (n) => (await (await n.api.get({ apiName: n.NOTES_API, path: "/notes" }).response).body.json()).notes, null);
            assert.ok(listed.some((note: { noteId: string }) => note.noteId === noteId));
        });

        it("GET /notes/{id} exposes the ETag; PUT with If-Match succeeds on it and answers 412 on a stale one", async () => {
            const read = await evaluate(async (n, id) => {
                const { headers, body } = await n.api.get({ apiName: n.NOTES_API, path: `/notes/${id}` }).response;
                return { etag: headers.etag, note: await body.json() };
            }, noteId);
            assert.equal(read.note.content, "from Chromium");
            assert.ok(read.etag, "the ETag header is not readable by the page (CORS expose-headers)");
            const updated = await evaluate(async (n, { id, etag }) => {
                const { headers, body } = await n.api.put({ apiName: n.NOTES_API, path: `/notes/${id}`, options: { body: { content: "edited" }, headers: { "if-match": etag } } }).response;
                return { etag: headers.etag, note: await body.json() };
            }, { id: noteId, etag: read.etag });
            assert.equal(updated.note.content, "edited");
            assert.notEqual(updated.etag, read.etag);
            const stale = await evaluate(async (n, { id, etag }) => n.failure(n.api.put({ apiName: n.NOTES_API, path: `/notes/${id}`, options: { body: { content: "lost" }, headers: { "if-match": etag } } }).response), { id: noteId, etag: read.etag });
            assert.equal(stale?.status, 412);
            etag = updated.etag;
        });

        it("DELETE /notes/{id} answers 412 on a stale If-Match, 204 on the current one, then GET answers 404", async () => {
            const stale = await evaluate(async (n, id) => n.failure(n.api.del({ apiName: n.NOTES_API, path: `/notes/${id}`, options: { headers: { "if-match": '"1"' } } }).response), noteId);
            assert.equal(stale?.status, 412);
            const deleted = await evaluate(async (n, { id, etag }) => (await n.api.del({ apiName: n.NOTES_API, path: `/notes/${id}`, options: { headers: { "if-match": etag } } }).response).statusCode, { id: noteId, etag });
            assert.equal(deleted, 204);
            const gone = await evaluate(async (n, id) => n.failure(n.api.get({ apiName: n.NOTES_API, path: `/notes/${id}` }).response), noteId);
            assert.equal(gone?.status, 404);
        });

        it("refuses an unsigned API call with 403", async () => {
            const unsigned = await evaluate(async (n) => n.failure(n.api.get({ apiName: n.NOTES_API, path: "/notes", options: { defaultAuthMode: "none" } }).response), null);
            assert.equal(unsigned?.status, 403);
        });

        it("uploadData: a single-part upload to private/<identity id>/", async () => {
            const result = await evaluate(async (n, text) => n.storage.uploadData({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt`, data: text, options: { contentType: "text/plain" } }).result, small);
            assert.equal(result.path, `private/${identityId}/hello.txt`);
        });

        it("uploadData: a 12 MiB multipart upload, with progress", async () => {
            const result = await evaluate(async (n, size) => {
                const bytes = new Uint8Array(size);
                for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(i + 65536, size)));
                const blob = new Blob([bytes], { type: "application/octet-stream" });
                let progressEvents = 0;
                const { path } = await n.storage.uploadData({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/big.bin`, data: blob, options: { onProgress: () => progressEvents++ } }).result;
                return { path, hash: await n.sha256(blob), progressEvents };
            }, 12 * MiB);
            assert.equal(result.path, `private/${identityId}/big.bin`);
            assert.ok(result.progressEvents >= 3, `only ${result.progressEvents} progress events for three parts`);
            bigHash = result.hash;
        });

        it("uploadData with preventOverwrite refuses an existing key (412 PreconditionFailed) and accepts a new one", async () => {
            const refused = await evaluate(async (n) => n.failure(n.storage.uploadData({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt`, data: "overwrite", options: { preventOverwrite: true } }).result), null);
            assert.equal(refused?.name, "PreconditionFailed");
            assert.equal(refused?.status, 412);
            const fresh = await evaluate(async (n) => (await n.storage.uploadData({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/fresh.txt`, data: "new", options: { preventOverwrite: true } }).result).path, null);
            assert.equal(fresh, `private/${identityId}/fresh.txt`);
        });

        it("list shows the caller's files with their sizes", async () => {
            const items = await evaluate(async (n) => (await n.storage.list({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/` })).items.map((i: { path: string; size?: number }) => [i.path, i.size]), null);
            assert.deepEqual(new Map(items), new Map([[`private/${identityId}/big.bin`, 12 * MiB], [`private/${identityId}/fresh.txt`, 3], [`private/${identityId}/hello.txt`, small.length]]));
        });

        it("getUrl gives a presigned URL the page can fetch", async () => {
            const fetched = await evaluate(async (n) => {
                const { url } = await n.storage.getUrl({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt`, options: { validateObjectExistence: true } });
                const response = await fetch(url);
                return { host: url.host, status: response.status, text: await response.text() };
            }, null);
            assert.deepEqual(fetched, { host: bucketHost(config), status: 200, text: small });
        });

        it("downloadData returns the bytes that were uploaded (both files)", async () => {
            const downloaded = await evaluate(async (n) => {
                const text = await (await n.storage.downloadData({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt` }).result).body.text();
                const big = await (await n.storage.downloadData({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/big.bin` }).result).body.blob();
                return { text, hash: await n.sha256(big) };
            }, null);
            assert.deepEqual(downloaded, { text: small, hash: bigHash });
        });

        it("getProperties reports size, content type and ETag", async () => {
            const properties = await evaluate(async (n) => {
                const p = await n.storage.getProperties({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt` });
                return { size: p.size, contentType: p.contentType, eTag: p.eTag };
            }, null);
            assert.equal(properties.size, small.length);
            assert.equal(properties.contentType, "text/plain");
            assert.match(properties.eTag ?? "", /^"[0-9a-f]{32}"$/);
        });

        it("remove deletes a file; getProperties then answers NotFound", async () => {
            await evaluate(async (n) => n.storage.remove({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt` }), null);
            const gone = await evaluate(async (n) => n.failure(n.storage.getProperties({ path: ({ identityId }: { identityId: string }) => `private/${identityId}/hello.txt` })), null);
            assert.equal(gone?.name, "NotFound");
        });

        it("refuses an upload to another identity's prefix (403 AccessDenied)", async () => {
            const refused = await evaluate(async (n, other) => n.failure(n.storage.uploadData({ path: `private/${other}/intrusion.txt`, data: "x" }).result), `us-east-1:${randomUUID()}`);
            assert.equal(refused?.name, "AccessDenied");
            assert.equal(refused?.status, 403);
        });

        it("sent Storage's requests to the bucket's real host name, through the browser's CORS preflights", () => {
            assert.ok(tls.forwarded > 0, "no connection reached the S3 host name");
            assert.deepEqual(tls.refused, [], "connections to other AWS host names");
            const s3 = preflights.preflights.filter((p) => new URL(p.url).host === bucketHost(config));
            for (const method of ["PUT", "POST", "GET", "HEAD", "DELETE"]) assert.ok(s3.some((p) => p.method === method), `no ${method} preflight to S3: ${JSON.stringify(s3)}`);
            assert.ok(s3.every((p) => p.origin === PAGE_ORIGIN && p.status === 200), JSON.stringify(s3));
        });

        it("signs out: the session has no credentials any more", async () => {
            const after = await evaluate(async (n) => {
                await n.auth.signOut();
                const s = await n.auth.fetchAuthSession();
                return { tokens: s.tokens !== undefined, credentials: s.credentials !== undefined };
            }, null);
            assert.deepEqual(after, { tokens: false, credentials: false });
        });

        it("ran the whole flow under the site's CSP with no violation; a request outside connect-src is refused and recorded", async () => {
            assert.deepEqual(csp.failures(), []);
            const before = csp.violations.length;
            const refused = await evaluate(async () => fetch("https://example.com/").then(() => "fetched", (error: Error) => error.name), null);
            assert.equal(refused, "TypeError");
            for (let i = 0; i < 50 && csp.violations.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
            const recorded = csp.violations.splice(before);
            assert.deepEqual(recorded.map((v) => [v.directive, v.blocked]), [["connect-src", "https://example.com/"]]);
        });

        it("recorded every CORS preflight; each was answered 2xx", () => {
            const api = preflights.preflights.filter((p) => p.url.startsWith(config.apiUrl));
            assert.ok(api.some((p) => p.method === "PUT" && /if-match/.test(p.headers) && /authorization/.test(p.headers)), JSON.stringify(api));
            assert.deepEqual(preflights.failures(), []);
        });
    });
    describe("the reference client as a person uses it at npm start's URL (S3 through its service worker)", () => {
        let context: BrowserContext;
        let page: Page;
        let preflights: PreflightRecorder;
        let csp: CspRecorder;
        const email = "ada@example.com";
        const password = newPassword();
        const report = { name: "report.txt", mimeType: "text/plain", buffer: Buffer.from("Quarterly figures, draft 1\n") };
        let forwardedBefore: number;
        /** Responses the page got for the bucket's S3 host name. */
        const s3Responses: { url: string; status: number; fromServiceWorker: boolean }[] = [];
        const notes = () => page.locator("li.note");
        /** The note showing `text` now, followed by its id (its text changes while it is edited). */
        const note = async (text: string) => page.locator(`li.note[data-note-id="${await notes().filter({ hasText: text }).getAttribute("data-note-id")}"]`);
        const message = (text: RegExp) => page.locator("#message", { hasText: text }).waitFor();
        /** Which of the page's views a person sees. */
        const visibleViews = async () => {
            const shown: string[] = [];
            for (const view of ["#loading", "#sign-in", "#sign-up", "#confirm", "#notes"]) if (await page.locator(view).isVisible()) shown.push(view);
            return shown;
        };

        before(async () => {
            forwardedBefore = tls.forwarded;
            context = await browser.newContext({ viewport: { width: 860, height: 720 }, acceptDownloads: true });
            context.setDefaultTimeout(5_000);
            csp = await CspRecorder.attach(context);
            page = await context.newPage();
            preflights = await PreflightRecorder.attach(page);
            page.on("response", (response) => {
                if (new URL(response.url()).host === bucketHost(config)) s3Responses.push({ url: response.url(), status: response.status(), fromServiceWorker: response.fromServiceWorker() });
            });
        });

        after(() => context?.close());

        failStepsOnCorsFailures(() => preflights);

        failStepsOnCspViolations(() => csp);

        it("loads configured from the local outputs, with its service worker relaying the bucket's host name", async () => {
            const loaded = await page.goto(`${CLIENT_ORIGIN}/`);
            // The site's CSP, both parts: the header, and the document policy from the local endpoints.
            assert.match((await loaded?.allHeaders())?.["content-security-policy"] ?? "", /frame-ancestors 'none'$/);
            const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
            // The local endpoints, then 'self' for the S3 relay's responses only (the deployed page has no 'self').
            assert.ok(meta?.includes(`; connect-src ${new URL(config.apiUrl).origin} `), meta ?? "no document policy");
            assert.match(meta!, /; connect-src [^;']* 'self'; /);
            await page.getByRole("heading", { name: "Sign in" }).waitFor();
            assert.deepEqual(await visibleViews(), ["#sign-in"]);
            assert.match(cloud.output(), new RegExp(`^READY in .* dynamodb=\\S+ web=http://localhost:${webPort}/$`, "m"));
            const worker = await page.evaluate(() => (globalThis as any).navigator.serviceWorker.controller?.scriptURL as string | undefined);
            assert.ok(worker, "no service worker controls the page");
            assert.equal(new URL(worker).searchParams.get("host"), bucketHost(config));
        });

        it("refuses a weak password at sign-up with a clear message", async () => {
            await page.getByRole("link", { name: "Create one" }).click();
            const form = page.locator("#sign-up");
            await form.getByLabel("Email").fill(email);
            await form.getByLabel("Password").fill("password");
            await form.getByRole("button", { name: "Create account" }).click();
            await message(/Choose a stronger password/);
        });

        it("signs up; a wrong code gets a clear message", async () => {
            const form = page.locator("#sign-up");
            await form.getByLabel("Email").fill(email);
            await form.getByLabel("Password").fill(password);
            await form.getByRole("button", { name: "Create account" }).click();
            await page.getByRole("heading", { name: "Confirm your email" }).waitFor();
            assert.deepEqual(await visibleViews(), ["#confirm"]);
            await page.getByLabel("Code").fill("000000");
            await page.getByRole("button", { name: "Confirm" }).click();
            await message(/That code is not the one we emailed/);
        });

        it("comes back unconfirmed and mistypes the password: gets a new code, confirms, then is asked for the password again", async () => {
            const codesBefore = confirmationCodes(cloud.output(), email).length;
            await page.reload();
            const form = page.locator("#sign-in");
            await form.getByLabel("Email").fill(email);
            await form.getByLabel("Password").fill("not-the-password-1A!");
            await form.getByRole("button", { name: "Sign in" }).click();
            await message(/Your account is not confirmed yet: we emailed you a new code/);
            assert.deepEqual(await visibleViews(), ["#confirm"]);
            const codes = confirmationCodes(cloud.output(), email);
            assert.equal(codes.length, codesBefore + 1, "the local User Pool sent no new code");
            await page.getByLabel("Code").fill(codes.at(-1)!);
            await page.getByRole("button", { name: "Confirm" }).click();
            await message(/Your email is confirmed\. Incorrect email or password\./);
            assert.deepEqual(await visibleViews(), ["#sign-in"]);
            assert.equal(await form.getByLabel("Email").inputValue(), email);
            await form.getByLabel("Password").fill(password);
            await form.getByRole("button", { name: "Sign in" }).click();
            await page.getByLabel("New note").waitFor();
            assert.equal(await page.locator("#who").textContent(), email);
            assert.deepEqual(await visibleViews(), ["#notes"]);
        });

        it("creates notes, edits one, and lists them again after a reload", async () => {
            for (const text of ["Trip to Lisbon: book the train", "Quarterly report"]) {
                await page.getByLabel("New note").fill(text);
                await page.getByRole("button", { name: "Add note" }).click();
                await notes().filter({ hasText: text }).waitFor();
            }
            const trip = await note("Lisbon");
            await trip.getByRole("button", { name: "Edit" }).click();
            await trip.locator("textarea").fill("Trip to Lisbon: book the train and the hotel");
            await trip.getByRole("button", { name: "Save" }).click();
            await notes().filter({ hasText: "and the hotel" }).locator(".meta", { hasText: "version 2" }).waitFor();
            await page.reload();
            await notes().filter({ hasText: "and the hotel" }).waitFor();
            assert.equal(await notes().count(), 2);
        });

        it("attaches a file, and says so when the same file is sent again (overwrite protection)", async () => {
            await (await note("Quarterly report")).locator("input[type=file]").setInputFiles(report);
            await message(/Attached report\.txt/);
            await notes().filter({ hasText: "Quarterly report" }).locator(".attachment", { hasText: "report.txt" }).waitFor();
            if (process.env.NOTES_SCREENSHOT) await page.screenshot({ path: process.env.NOTES_SCREENSHOT });
            await notes().filter({ hasText: "Quarterly report" }).locator("input[type=file]").setInputFiles(report);
            await message(/“report\.txt” is already stored for this note\. Overwrite protection kept the stored file/);
        });

        it("downloads the attachment", async () => {
            const [download] = await Promise.all([page.waitForEvent("download"), notes().filter({ hasText: "Quarterly report" }).getByRole("button", { name: "Download" }).click()]);
            assert.equal(download.suggestedFilename(), "report.txt");
            const stream = await download.createReadStream();
            const chunks: Buffer[] = [];
            for await (const chunk of stream) chunks.push(chunk as Buffer);
            assert.equal(Buffer.concat(chunks).toString(), report.buffer.toString());
        });

        it("says so when the note changed in another tab since it was opened (412), and offers to reload it", async () => {
            const mine = await note("Lisbon");
            await mine.getByRole("button", { name: "Edit" }).click();
            const other = await context.newPage();
            await other.goto(`${CLIENT_ORIGIN}/`);
            const theirs = other.locator(`li.note[data-note-id="${await mine.getAttribute("data-note-id")}"]`);
            await theirs.getByRole("button", { name: "Edit" }).click();
            await theirs.locator("textarea").fill("Trip to Lisbon: cancelled");
            await theirs.getByRole("button", { name: "Save" }).click();
            await other.locator("li.note").filter({ hasText: "cancelled" }).waitFor();
            // Back to the first tab (a hidden tab gets no animation frames, which Playwright's clicks wait for).
            await page.bringToFront();
            await mine.locator("textarea").fill("Trip to Lisbon: book the train, the hotel and a museum");
            await mine.getByRole("button", { name: "Save" }).click();
            await message(/changed elsewhere since you opened it/);
            await mine.getByRole("button", { name: "Reload the note" }).click();
            await notes().filter({ hasText: "cancelled" }).waitFor();
            await other.close();
        });

        it("removes the file", async () => {
            await (await note("Quarterly report")).getByRole("button", { name: "Remove file" }).click();
            await message(/Removed report\.txt/);
            assert.equal(await notes().filter({ hasText: "Quarterly report" }).locator(".attachment").count(), 0);
        });

        it("deletes a note", async () => {
            await notes().filter({ hasText: "Quarterly report" }).getByRole("button", { name: "Delete" }).click();
            await message(/Note deleted/);
            assert.equal(await notes().count(), 1);
        });

        it("says the session has expired when it was signed out in another tab, and goes back to sign-in", async () => {
            const other = await context.newPage();
            await other.goto(`${CLIENT_ORIGIN}/`);
            await other.getByRole("button", { name: "Sign out" }).click();
            await other.getByRole("heading", { name: "Sign in" }).waitFor();
            await other.close();
            await page.bringToFront();
            await page.getByLabel("New note").fill("written after signing out elsewhere");
            await page.getByRole("button", { name: "Add note" }).click();
            await message(/Your session has expired\. Sign in again\./);
            await page.getByRole("heading", { name: "Sign in" }).waitFor();
            assert.deepEqual(await visibleViews(), ["#sign-in"]);
        });

        it("signs in again, then signs out", async () => {
            const form = page.locator("#sign-in");
            await form.getByLabel("Email").fill(email);
            await form.getByLabel("Password").fill("not-the-password-1A!");
            await form.getByRole("button", { name: "Sign in" }).click();
            await message(/Incorrect email or password/);
            await form.getByLabel("Password").fill(password);
            await form.getByRole("button", { name: "Sign in" }).click();
            await notes().filter({ hasText: "cancelled" }).waitFor();
            await page.getByRole("button", { name: "Sign out" }).click();
            await message(/Signed out/);
            await page.getByRole("heading", { name: "Sign in" }).waitFor();
        });

        it("sent its S3 requests through the service worker and the web server's relay, never to the S3 host name", () => {
            assert.ok(s3Responses.length >= 4, `only ${s3Responses.length} S3 responses: ${JSON.stringify(s3Responses)}`);
            assert.deepEqual(s3Responses.filter((r) => !r.fromServiceWorker), [], "S3 answers that did not come from the service worker");
            assert.equal(tls.forwarded, forwardedBefore, "the reference client reached the S3 host name directly");
            assert.ok(
                preflights.preflights.every((p) => new URL(p.url).host !== bucketHost(config)),
                "a preflight went to the S3 host name",
            );
        });
    });
    describe("the client for a deployed stack: what pulumi up uploads, and what npm run web:build makes", () => {
        const stack = DEPLOYED_STACK_OUTPUTS;

        /** Serves `files` with the site's headers and signs in with SRP; Cognito's answer is the test's. */
        async function signInWithSrp(files: Map<string, Uint8Array>): Promise<void> {
            const server = new WebServer({ files });
            const context = await browser.newContext({ serviceWorkers: "block" });
            context.setDefaultTimeout(5_000);
            const csp = await CspRecorder.attach(context);
            try {
                const port = await server.listen(0);
                // No AWS here: answer the User Pool's InitiateAuth as Cognito answers a wrong password.
                const calls: { target?: string; body: any }[] = [];
                const page = await context.newPage();
                await page.route(`https://cognito-idp.${stack.region}.amazonaws.com/`, (route) => {
                    calls.push({ target: route.request().headers()["x-amz-target"], body: route.request().postDataJSON() });
                    return route.fulfill({
                        status: 400,
                        headers: { "content-type": "application/x-amz-json-1.1", "access-control-allow-origin": "*", "x-amzn-errortype": "NotAuthorizedException" },
                        body: JSON.stringify({ __type: "NotAuthorizedException", message: "Incorrect username or password." }),
                    });
                });
                await page.goto(`http://127.0.0.1:${port}/`);
                const form = page.locator("#sign-in");
                await form.getByLabel("Email").fill("someone@example.com");
                await form.getByLabel("Password").fill("Wrong-password-1!");
                await form.getByRole("button", { name: "Sign in" }).click();
                await page.locator("#message", { hasText: "Incorrect email or password." }).waitFor();
                assert.equal(calls.length, 1, JSON.stringify(calls));
                assert.equal(calls[0].target, "AWSCognitoIdentityProviderService.InitiateAuth");
                assert.equal(calls[0].body.AuthFlow, "USER_SRP_AUTH");
                assert.equal(calls[0].body.ClientId, stack.userPoolClientId);
                assert.equal(calls[0].body.AuthParameters.USERNAME, "someone@example.com");
                assert.match(calls[0].body.AuthParameters.SRP_A, /^[0-9a-f]{256,}$/);
                assert.equal(calls[0].body.AuthParameters.PASSWORD, undefined, "the password left the browser");
                // Under the deployed document policy: the regional User Pool endpoint is in connect-src.
                const meta = String(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content"));
                assert.ok(meta.includes(` https://cognito-idp.${stack.region}.amazonaws.com `), meta);
                // Not 'self': the page reads its configuration from index.html, and fetches nothing from its own origin.
                assert.doesNotMatch(meta, /connect-src[^;]*'self'/);
                assert.deepEqual(csp.failures(), []);
            } finally {
                await context.close();
                await server.close();
            }
        }

        it("the site's objects, as the program uploads them, sign in with SRP at the regional Cognito endpoint under the CSP", async () => {
            const { tableName: _table, ...outputs } = stack;
            const objects = siteObjects(bundleSiteClient(), { ...outputs, authFlowType: "USER_SRP_AUTH" });
            await signInWithSrp(new Map([...objects].map(([name, object]) => [name, Buffer.from(object.contents)])));
        });

        it("the web:build client signs in the same way", async () => {
            const dir = mkdtempSync(path.join(tmpdir(), "notes-web-dist-"));
            try {
                await webBuild(["--outputs", "-", "--out", dir], () => JSON.stringify(stack));
                await signInWithSrp(new Map(readdirSync(dir).map((file) => [file, readFileSync(path.join(dir, file))])));
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
