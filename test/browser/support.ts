import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer as createNetServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createServer as createTlsServer, Server as TlsServer } from "node:tls";
import { chromium, Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import type { CodePurpose } from "../../tools/local/cognito-idp/account-codes";
import { LocalCloudProcess, startLocalCloudProcess } from "../../tools/local/process";
import { bucketHost, WebClientConfig } from "../../web/src/config";
import { localClientConfig } from "../../web/local";
import { WebServer } from "../../web/server";

/** The test page's index.html; a test that serves it like the site adds the document policy (web/headers.ts). */
export const TEST_PAGE = `<!doctype html><meta charset="utf-8"><title>notes browser test</title><script type="module" src="page.js"></script>`;

/** The test page: Amplify's public APIs and the README's configuration on `globalThis.notes`. */
export async function bundleTestPage(): Promise<Map<string, Uint8Array>> {
    const result = await build({
        entryPoints: [path.join(__dirname, "page", "page.ts")],
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "chrome100",
        write: false,
        outfile: "page.js",
        logLevel: "silent",
    });
    return new Map([
        ["index.html", Buffer.from(TEST_PAGE)],
        ["page.js", result.outputFiles[0].contents],
    ]);
}

/** Debian's chromium (`.ci/run` installs it); no browser is downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Starts headless Chromium with the flags this machine needs (root: no sandbox; closed network:
 * no background requests to Google's hosts) and host-resolver rules that send the given
 * `host[:port]` names to local ports. Certificates are not checked: the only TLS peer is the
 * test's own S3 endpoint with a throwaway certificate.
 */
export async function launchChromium(map: Record<string, string>): Promise<Browser> {
    const rules = Object.entries(map)
        .map(([from, to]) => `MAP ${from} ${to}`)
        .join(", ");
    return chromium.launch({
        executablePath: CHROMIUM,
        args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--ignore-certificate-errors",
            // A page at a stack's real origin (served by the test) calls the local services on 127.0.0.1.
            "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights",
            `--host-resolver-rules=${rules}`,
        ],
    });
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
    const server = createNetServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/**
 * A TLS endpoint with a certificate made now (openssl: one day, P-256) that forwards the decrypted
 * bytes unchanged to a local port, so the Host header and the SigV4 signature arrive as the
 * browser sent them to S3's real host name. Only connections for the one host name set with
 * `forward` (TLS SNI) are forwarded; others are closed.
 */
export class TlsForwarder {
    private server?: TlsServer;
    private readonly sockets = new Set<Socket>();
    private route?: { host: string; port: number };
    /** Connections forwarded so far. */
    forwarded = 0;
    /** Connections closed because they named another host. */
    refused: string[] = [];

    forward(host: string, port: number): void {
        this.route = { host, port };
    }

    async listen(): Promise<number> {
        const dir = mkdtempSync(path.join(tmpdir(), "notes-tls-"));
        let key: Buffer;
        let cert: Buffer;
        try {
            execFileSync(
                "openssl",
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=notes-infra browser test",
                 "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")],
                { stdio: "pipe" },
            );
            key = readFileSync(path.join(dir, "key.pem"));
            cert = readFileSync(path.join(dir, "cert.pem"));
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        this.server = createTlsServer({ key, cert }, (socket) => {
            this.sockets.add(socket);
            socket.on("close", () => this.sockets.delete(socket));
            socket.on("error", () => undefined);
            const route = this.route;
            if (!route || socket.servername !== route.host) {
                this.refused.push(String(socket.servername));
                socket.destroy();
                return;
            }
            this.forwarded++;
            const upstream = connect(route.port, "127.0.0.1");
            this.sockets.add(upstream);
            upstream.on("close", () => this.sockets.delete(upstream));
            socket.on("error", () => upstream.destroy());
            upstream.on("error", () => socket.destroy());
            socket.pipe(upstream).pipe(socket);
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return (this.server!.address() as { port: number }).port;
    }

    async close(): Promise<void> {
        for (const socket of this.sockets) socket.destroy();
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}

export interface Preflight {
    url: string;
    method: string;
    headers: string;
    origin: string;
    status?: number;
    error?: string;
}

/**
 * Records the CORS preflights Chromium sends for a page (DevTools network events) and every
 * request that failed because of CORS.
 */
export class PreflightRecorder {
    readonly preflights: Preflight[] = [];
    readonly corsFailures: string[] = [];
    private readonly byId = new Map<string, Preflight>();
    private readonly urls = new Map<string, string>();

    static async attach(page: Page): Promise<PreflightRecorder> {
        const recorder = new PreflightRecorder();
        const cdp = await page.context().newCDPSession(page);
        await recorder.listen(cdp);
        return recorder;
    }

    private async listen(cdp: CDPSession): Promise<void> {
        cdp.on("Network.requestWillBeSent", (event) => {
            this.urls.set(event.requestId, event.request.url);
            const headers = Object.fromEntries(Object.entries(event.request.headers as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]));
            // A preflight: OPTIONS with Access-Control-Request-Method (DevTools types it "Preflight" or "Other").
            if (event.request.method !== "OPTIONS" || !headers["access-control-request-method"]) return;
            const preflight: Preflight = {
                url: event.request.url,
                method: headers["access-control-request-method"],
                headers: headers["access-control-request-headers"] ?? "",
                origin: headers.origin ?? "",
            };
            this.byId.set(event.requestId, preflight);
            this.preflights.push(preflight);
        });
        cdp.on("Network.responseReceived", (event) => {
            const preflight = this.byId.get(event.requestId);
            if (preflight) preflight.status = event.response.status;
        });
        cdp.on("Network.loadingFailed", (event) => {
            const preflight = this.byId.get(event.requestId);
            if (preflight) preflight.error = event.corsErrorStatus?.corsError ?? event.errorText;
            if (event.corsErrorStatus) this.corsFailures.push(`${this.urls.get(event.requestId) ?? event.requestId}: ${event.corsErrorStatus.corsError} ${event.corsErrorStatus.failedParameter ?? ""}`.trim());
        });
        await cdp.send("Network.enable");
    }

    /** Preflights that did not get a 2xx, and requests refused for CORS reasons. */
    failures(): string[] {
        return [
            ...this.preflights.filter((p) => p.error || (p.status !== undefined && (p.status < 200 || p.status > 299))).map((p) => `preflight ${p.method} ${p.url} [${p.headers}]: ${p.error ?? p.status}`),
            ...this.corsFailures,
        ];
    }
}

/**
 * Fails the step that caused a failed preflight or a request refused for CORS, inside that step:
 * each step of the describe block runs, then the failures recorded since the previous step fail
 * it, so mocha counts the step once (failing), never as a pass and a failed hook. Call it in a
 * describe block, with a getter of the recorder its `before` attaches to the page; it covers
 * every step of the block, those added later included.
 */
export function failStepsOnCorsFailures(recorder: () => PreflightRecorder | undefined): void {
    let reported = 0;
    const checked = new WeakSet<Mocha.Func | Mocha.AsyncFunc>();
    beforeEach(function () {
        const test = this.currentTest!;
        const step = test.fn;
        if (!step || checked.has(step)) return;
        if (step.length > 0) throw new Error(`"${test.title}" takes a done callback; the CORS check needs a step that returns a promise`);
        const withCorsCheck = async function (this: Mocha.Context) {
            let failure: unknown;
            try {
                await (step as Mocha.AsyncFunc).call(this);
            } catch (error) {
                failure = error;
            }
            const failures = recorder()?.failures() ?? [];
            const fresh = failures.slice(reported);
            reported = failures.length;
            if (fresh.length > 0) {
                const also = failure === undefined ? "" : `\nThe step also failed: ${failure instanceof Error ? failure.message : String(failure)}`;
                throw new Error(`CORS failures:\n${fresh.join("\n")}${also}`);
            }
            if (failure !== undefined) throw failure;
        };
        checked.add(withCorsCheck);
        test.fn = withCorsCheck;
    });
}

/** One `securitypolicyviolation` event, as the page saw it. */
export interface CspViolation {
    page: string;
    directive: string;
    blocked: string;
    disposition: string;
}

/**
 * Records every `securitypolicyviolation` event of a browser context's pages: an init script adds
 * the listener before any script of the page runs, and reports through a binding the test exposes.
 */
export class CspRecorder {
    readonly violations: CspViolation[] = [];

    /** Records `context`'s pages, into `recorder` when given (one record across the contexts of a suite). */
    static async attach(context: BrowserContext, recorder = new CspRecorder()): Promise<CspRecorder> {
        await context.exposeBinding("__notesCspViolation", (_source, violation: CspViolation) => void recorder.violations.push(violation));
        // A script string: it runs in the page (DOM types), not in this process.
        await context.addInitScript(`document.addEventListener("securitypolicyviolation", (event) => globalThis.__notesCspViolation({
            page: event.documentURI, directive: event.effectiveDirective, blocked: event.blockedURI, disposition: event.disposition,
        }), true);`);
        return recorder;
    }

    failures(): string[] {
        return this.violations.map((v) => `${v.page}: ${v.directive} refused ${v.blocked || "(inline)"} (${v.disposition})`);
    }
}

/** Fails the step during which the page reported a Content-Security-Policy violation. */
export function failStepsOnCspViolations(recorder: () => CspRecorder | undefined): void {
    let reported = 0;
    afterEach(function () {
        const failures = recorder()?.failures() ?? [];
        if (failures.length > reported) (this.test as Mocha.Hook).error(new Error(`Content-Security-Policy violations:\n${failures.slice(reported).join("\n")}`));
        reported = failures.length;
    });
}

/** Every code for `purpose` the local cloud printed for `email` (the destination), oldest first. */
export function cognitoCodes(output: string, purpose: CodePurpose, email: string): string[] {
    const escaped = email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    // `[cognito] <purpose> code for <username> (<email>): <code>`; the username is a uuid when users sign in with their email.
    return [...output.matchAll(new RegExp(`\\[cognito\\] ${purpose} code for \\S+ \\(${escaped}\\): (\\d+)`, "g"))].map((m) => m[1]);
}

/** Every confirmation code the local cloud printed for `email`, oldest first. */
export function confirmationCodes(output: string, email: string): string[] {
    return cognitoCodes(output, "confirmation", email);
}

/** The confirmation code the local cloud printed for `email` (the last one, after a resend). */
export function confirmationCode(output: string, email: string): string | undefined {
    return confirmationCodes(output, email).at(-1);
}

/**
 * One local cloud (`npm start` with `args`, the reference client at http://localhost:5173), one
 * Chromium, and the test page at http://localhost:3000. Inside that Chromium every
 * `*.amazonaws.com` name on 443 reaches the TLS forwarder, which passes on only the bucket's host
 * name, to the local S3: nothing can reach AWS.
 */
export interface BrowserRig {
    cloud: LocalCloudProcess;
    browser: Browser;
    tls: TlsForwarder;
    /** The test page's configuration: the local outputs, S3 at its real host name (no relay). */
    config: WebClientConfig;
    /** The test page's files (`bundleTestPage`), for serving it at another origin too. */
    pageFiles: Map<string, Uint8Array>;
    dataDir: string;
    /** Stops everything the rig started, and removes the data directory. */
    stop(): Promise<void>;
}

export async function startBrowserRig(args: string[]): Promise<BrowserRig> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "notes-browser-"));
    const tls = new TlsForwarder();
    const [webPort, pagePort, tlsPort] = await Promise.all([freePort(), freePort(), tls.listen()]);
    let cloud: LocalCloudProcess | undefined;
    let browser: Browser | undefined;
    let pageServer: WebServer | undefined;
    let pageFiles = new Map<string, Uint8Array>();
    const starting = [
        startLocalCloudProcess(dataDir, [...args, "--web-port", String(webPort)]).then((local) => (cloud = local)),
        launchChromium({ "localhost:3000": `127.0.0.1:${pagePort}`, "localhost:5173": `127.0.0.1:${webPort}`, "*.amazonaws.com:443": `127.0.0.1:${tlsPort}` }).then((launched) => (browser = launched)),
        bundleTestPage().then((files) => (pageServer = new WebServer({ files: (pageFiles = files) })).listen(pagePort)),
    ];
    const stop = async () => {
        await Promise.allSettled(starting);
        await browser?.close();
        await Promise.all([cloud?.stop(), tls.close(), pageServer?.close()]);
        rmSync(dataDir, { recursive: true, force: true });
    };
    try {
        await Promise.all(starting);
    } catch (error) {
        await stop();
        throw error;
    }
    const { s3Relay, ...config } = localClientConfig(cloud!.outputs);
    tls.forward(bucketHost(config), Number(new URL(cloud!.outputs.endpoints.s3).port));
    return { cloud: cloud!, browser: browser!, tls, config, pageFiles, dataDir, stop };
}

/** Calls a function of the test page's `globalThis.notes` (Amplify's APIs) in the page, with one argument. */
export function inPage(page: Page) {
    return <T, A>(fn: (notes: any, arg: A) => Promise<T>, arg: A): Promise<T> =>
        page.evaluate(async ([source, value]) => (0, eval)(`(${source})`)((globalThis as any).notes, value), [fn.toString(), arg] as const) as Promise<T>;
}
