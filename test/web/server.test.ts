import { strict as assert } from "node:assert";
import { createServer, IncomingMessage, request, Server } from "node:http";
import { AddressInfo } from "node:net";
import type { LocalOutputs } from "../../tools/local/outputs";
import { serveLocalClient } from "../../web/local";
import { PortInUse, WebServer } from "../../web/server";

const BUCKET_HOST = "notes-storage-uploads-z1z7jw4.s3.us-east-1.amazonaws.com";

/** One raw HTTP request (node:http, so the Host header is whatever the test says). */
function send(port: number, options: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path ?? "/", headers: { host: options.host ?? `localhost:${port}`, ...options.headers } }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

describe("web server of the reference client (web/server.ts)", () => {
    describe("serving and relaying", () => {
        let upstream: Server;
        let received: { method?: string; url?: string; headers: IncomingMessage["headers"]; body: string }[];
        let server: WebServer;
        let port: number;

        before(async () => {
            received = [];
            upstream = createServer((req, res) => {
                const chunks: Buffer[] = [];
                req.on("data", (c) => chunks.push(c));
                req.on("end", () => {
                    received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
                    res.writeHead(412, { "content-type": "application/xml", etag: '"abc"' });
                    res.end("<Error><Code>PreconditionFailed</Code></Error>");
                });
            });
            await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
            server = new WebServer({
                files: new Map([
                    ["index.html", Buffer.from("<!doctype html><title>notes</title>")],
                    ["app.js", Buffer.from("console.log(1)")],
                ]),
                relay: { path: "/s3-relay/", host: BUCKET_HOST, target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
            });
            port = await server.listen(0);
        });

        after(async () => {
            await server.close();
            upstream.closeAllConnections();
            await new Promise<void>((resolve) => upstream.close(() => resolve()));
        });

        it("serves index.html at / and the bundle with its content type", async () => {
            const index = await send(port, {});
            assert.equal(index.status, 200);
            assert.match(String(index.headers["content-type"]), /^text\/html/);
            assert.equal(index.body, "<!doctype html><title>notes</title>");
            const app = await send(port, { path: "/app.js", host: `127.0.0.1:${port}` });
            assert.equal(app.status, 200);
            assert.match(String(app.headers["content-type"]), /^text\/javascript/);
        });

        it("answers every loopback name, with any port", async () => {
            for (const host of ["localhost", `LOCALHOST:${port}`, "app.localhost:3000", "127.1.2.3", `[::1]:${port}`]) assert.equal((await send(port, { host })).status, 200, host);
        });

        it("answers 403 with a message to a request for another host name (DNS rebinding)", async () => {
            for (const host of ["attacker.example:5173", "localhost.attacker.example", "127.0.0.1.nip.io", "[::2]", "0.0.0.0:5173"]) {
                const refused = await send(port, { host });
                assert.equal(refused.status, 403, host);
                assert.match(refused.body, /only requests for localhost, 127\.0\.0\.1 or \[::1\].*DNS rebinding/, host);
            }
            const relayRefused = await send(port, { method: "PUT", path: "/s3-relay/private/x", host: "attacker.example", body: "x" });
            assert.equal(relayRefused.status, 403);
            assert.equal(received.length, 0, "a refused request reached the S3 relay");
        });

        it("answers 404 for unknown files and paths outside the client, 405 for writes", async () => {
            assert.equal((await send(port, { path: "/missing.js" })).status, 404);
            assert.equal((await send(port, { path: "/../package.json" })).status, 404);
            assert.equal((await send(port, { path: "/%2e%2e/package.json" })).status, 404);
            const write = await send(port, { method: "PUT", path: "/app.js", body: "x" });
            assert.equal(write.status, 405);
            assert.equal(write.headers.allow, "GET, HEAD");
        });

        it("relays a request under its relay path to the local S3 unchanged, with the bucket's host name as Host", async () => {
            const answer = await send(port, {
                method: "PUT",
                path: "/s3-relay/private/us-east-1%3Aabc/a%20b.txt?x-id=PutObject",
                headers: { authorization: "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/s3/aws4_request", "x-amz-date": "20260101T000000Z", "if-none-match": "*", "content-type": "text/plain" },
                body: "hello",
            });
            assert.equal(answer.status, 412);
            assert.equal(answer.headers.etag, '"abc"');
            assert.equal(answer.body, "<Error><Code>PreconditionFailed</Code></Error>");
            const [seen] = received;
            assert.equal(seen.method, "PUT");
            assert.equal(seen.url, "/private/us-east-1%3Aabc/a%20b.txt?x-id=PutObject");
            assert.equal(seen.headers.host, BUCKET_HOST);
            assert.equal(seen.headers.authorization, "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/s3/aws4_request");
            assert.equal(seen.headers["if-none-match"], "*");
            assert.equal(seen.body, "hello");
        });

        it("answers 502 with a message when the local S3 does not answer", async () => {
            const down = new WebServer({ files: new Map(), relay: { path: "/s3-relay/", host: BUCKET_HOST, target: "http://127.0.0.1:1" } });
            const downPort = await down.listen(0);
            try {
                const answer = await send(downPort, { path: "/s3-relay/private/x" });
                assert.equal(answer.status, 502);
                assert.match(answer.body, /The local S3 at http:\/\/127\.0\.0\.1:1 did not answer/);
            } finally {
                await down.close();
            }
        });

        it("reports a taken port as PortInUse with the port in the message", async () => {
            const second = new WebServer({ files: new Map() });
            await assert.rejects(second.listen(port), (error: unknown) => error instanceof PortInUse && error.port === port && new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`).test(error.message));
        });
    });

    describe("the hosted site's headers", () => {
        /** What CloudFront's response headers policy adds (components/site.ts), written out. */
        const SITE_HEADERS = {
            "strict-transport-security": "max-age=63072000; includeSubDomains",
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "strict-origin-when-cross-origin",
            "content-security-policy":
                "script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; media-src 'none'; manifest-src 'self'; worker-src 'self'; " +
                "frame-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        };
        let server: WebServer;
        let port: number;
        before(async () => {
            server = new WebServer({
                files: new Map([
                    ["index.html", Buffer.from("<!doctype html><title>notes</title>")],
                    ["404.html", Buffer.from("<!doctype html><h2>Page not found</h2>")],
                ]),
            });
            port = await server.listen(0);
        });
        after(() => server.close());

        it("sends them on every answer: a file, the 404 page, a refused method", async () => {
            for (const answer of [await send(port, {}), await send(port, { path: "/nothing/here" }), await send(port, { method: "DELETE", path: "/" })]) {
                for (const [name, value] of Object.entries(SITE_HEADERS)) assert.equal(answer.headers[name], value, name);
            }
        });

        it("answers a missing path with the 404 page and status 404, as the distribution does", async () => {
            const missing = await send(port, { path: "/nothing/here" });
            assert.equal(missing.status, 404);
            assert.match(String(missing.headers["content-type"]), /^text\/html/);
            assert.equal(missing.body, "<!doctype html><h2>Page not found</h2>");
        });
    });

    describe("npm start's client", () => {
        const index = '<!doctype html>\n<html>\n<head>\n    <meta charset="utf-8">\n    <title>Notes</title>\n</head>\n</html>\n';
        const outputs: LocalOutputs = {
            region: "us-east-1",
            userPoolId: "us-east-1_local",
            userPoolClientId: "client",
            identityPoolId: "us-east-1:00000000-0000-4000-a000-000000000000",
            apiUrl: "http://127.0.0.1:40100/",
            bucketName: "notes-storage-uploads-z1z7jw4",
            tableName: "notes-storage-notes-dm3i700",
            endpoints: { cognitoIdp: "http://127.0.0.1:40103", cognitoIdentity: "http://127.0.0.1:40102/", s3: "http://127.0.0.1:40101", dynamodb: "http://127.0.0.1:40104" },
        };
        /** The served index.html's document policy and configuration block. */
        async function served(local: LocalOutputs): Promise<{ csp: string; config: any; header: string }> {
            const client = await serveLocalClient(new Map([["index.html", Buffer.from(index)]]), local, 0);
            try {
                const page = await send(client.port, {});
                const meta = /<meta charset="utf-8">\n {4}<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page.body);
                assert.ok(meta, page.body);
                const block = /<script type="application\/json" id="config">([^<]*)<\/script>\n<\/head>/.exec(page.body);
                assert.ok(block, page.body);
                return { csp: meta[1], config: JSON.parse(block[1]), header: String(page.headers["content-security-policy"]) };
            } finally {
                await client.server.close();
            }
        }

        it("serves index.html with the document policy made from the local endpoints, the same function as the site's, and the configuration in it", async () => {
            const { csp, config, header } = await served(outputs);
            assert.match(csp, /^default-src 'none'; connect-src http:\/\/127\.0\.0\.1:40100 http:\/\/127\.0\.0\.1:40103 http:\/\/127\.0\.0\.1:40102 https:\/\/notes-storage-uploads-z1z7jw4\.s3\.us-east-1\.amazonaws\.com 'self'; script-src 'self';/);
            assert.match(header, /frame-ancestors 'none'$/);
            assert.equal(config.apiUrl, "http://127.0.0.1:40100/");
            assert.deepEqual(config.endpoints, { cognitoIdp: "http://127.0.0.1:40103", cognitoIdentity: "http://127.0.0.1:40102/" });
            // 'self' (last) only because of the S3 relay, whose responses come from the page's origin.
            assert.equal(config.s3Relay, "/s3-relay/");
        });

        it("adds the local managed login's TLS loopback origin to connect-src when the local stack has sign-in providers", async () => {
            const oauth = {
                domain: "localhost:40123",
                scopes: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
                redirectSignIn: ["http://localhost:5173/"],
                redirectSignOut: ["http://localhost:5173/"],
                responseType: "code" as const,
                providers: ["Google"],
            };
            const { csp, config } = await served({ ...outputs, oauth });
            assert.match(
                csp,
                /^default-src 'none'; connect-src http:\/\/127\.0\.0\.1:40100 http:\/\/127\.0\.0\.1:40103 http:\/\/127\.0\.0\.1:40102 https:\/\/notes-storage-uploads-z1z7jw4\.s3\.us-east-1\.amazonaws\.com https:\/\/localhost:40123 'self'; script-src 'self';/,
            );
            assert.deepEqual(config.oauth, oauth);
        });
    });
});
