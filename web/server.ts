import { createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackHost } from "../tools/local/server";
import type { ClientFiles } from "./build";
import { contentTypeOf, REVALIDATE, securityHeaders } from "./headers";

/** Hop-by-hop headers a proxy must not pass on (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

/** `listen` found the port taken. */
export class PortInUse extends Error {
    constructor(
        readonly port: number,
        host: string,
    ) {
        super(`port ${port} on ${host} is already in use (another npm start, or a dev server?)`);
        this.name = "PortInUse";
    }
}

export interface S3Relay {
    /** Path prefix the service worker sends S3 requests to, e.g. `/s3-relay/`. */
    path: string;
    /** The bucket's S3 host name; forwarded as the Host header (the signature covers it). */
    host: string;
    /** The local S3 endpoint, e.g. `http://127.0.0.1:40117`. */
    target: string;
}

export interface WebServerOptions {
    /** The built client (`bundleWebClient` + `withConfig`). */
    files: ClientFiles;
    /** Relay for the bucket's S3 host name (local cloud only). */
    relay?: S3Relay;
}

/**
 * Serves the built reference client with the hosted site's headers (web/headers.ts: HSTS, nosniff,
 * DENY, the referrer policy and the CSP header; index.html carries the document policy), a missing
 * path answering 404.html with status 404 as CloudFront does, and relays requests for the stack's
 * own bucket host to the local S3 unchanged (method, path, query, headers, body), with the
 * bucket's host name as Host. Nothing else is proxied.
 */
export class WebServer {
    private server?: Server;

    constructor(private readonly options: WebServerOptions) {}

    /** Listens on 127.0.0.1; rejects with a clear message when the port is taken. */
    async listen(port: number, host = "127.0.0.1"): Promise<number> {
        const server = createServer((req, res) => this.handle(req, res));
        await new Promise<void>((resolve, reject) => {
            server.once("error", (error: NodeJS.ErrnoException) =>
                reject(error.code === "EADDRINUSE" ? new PortInUse(port, host) : error),
            );
            server.listen(port, host, () => resolve());
        });
        this.server = server;
        return (server.address() as AddressInfo).port;
    }

    async close(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        if (!server) return;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    private handle(req: IncomingMessage, res: ServerResponse): void {
        // As every local server: a page on another site whose name was rebound to 127.0.0.1 (DNS
        // rebinding) still sends its own name, and must not read this server's answers.
        if (!isLoopbackHost(req.headers.host)) {
            this.text(res, 403, `Refused: this server answers only requests for localhost, 127.0.0.1 or [::1], not for ${JSON.stringify(req.headers.host ?? "")} (DNS rebinding protection).`);
            return;
        }
        const url = new URL(req.url ?? "/", "http://localhost");
        const relay = this.options.relay;
        if (relay && url.pathname.startsWith(relay.path)) {
            this.relay(relay, req, res);
            return;
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
            this.text(res, 405, `${req.method} is not served here: this server serves the client's files.`, { allow: "GET, HEAD" });
            return;
        }
        this.file(url.pathname, req, res);
    }

    private file(pathname: string, req: IncomingMessage, res: ServerResponse): void {
        const name = pathname === "/" ? "index.html" : pathname.slice(1);
        const found = this.options.files.get(name);
        const notFound = found ? undefined : this.options.files.get("404.html");
        const contents = found ?? notFound;
        if (!contents) {
            this.text(res, 404, `Not found: ${pathname}`);
            return;
        }
        res.writeHead(found ? 200 : 404, {
            ...securityHeaders(),
            "content-type": contentTypeOf(found ? name : "404.html"),
            "content-length": contents.length,
            // The client is rebuilt at each start; always revalidate.
            "cache-control": REVALIDATE,
        });
        res.end(req.method === "HEAD" ? undefined : contents);
    }

    private relay(relay: S3Relay, req: IncomingMessage, res: ServerResponse): void {
        const target = new URL(relay.target);
        const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: relay.host };
        for (const name of HOP_BY_HOP) delete headers[name];
        const upstream = httpRequest(
            { hostname: target.hostname, port: target.port, method: req.method, path: `/${req.url!.slice(relay.path.length)}`, headers },
            (response) => {
                const answer: Record<string, string | string[] | undefined> = { ...response.headers };
                for (const name of HOP_BY_HOP) delete answer[name];
                res.writeHead(response.statusCode ?? 502, answer);
                response.pipe(res);
            },
        );
        upstream.on("error", (error) => {
            if (res.headersSent) res.destroy(error);
            else this.text(res, 502, `The local S3 at ${relay.target} did not answer: ${error.message}`);
        });
        req.pipe(upstream);
    }

    private text(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
        res.writeHead(status, { ...securityHeaders(), "content-type": "text/plain; charset=utf-8", ...headers });
        res.end(`${message}\n`);
    }
}
