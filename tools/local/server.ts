import { createServer, IncomingMessage, request as httpRequest, RequestOptions, Server, ServerResponse, STATUS_CODES } from "node:http";
import { isIP, type AddressInfo, type Socket } from "node:net";
import { wildcardMatch } from "./registry";

/** Listens on loopback (port 0 = a free one) and resolves with the bound port. */
export async function listenOn(server: Server, port = 0, host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
}

/** Stops the server, dropping idle keep-alive connections so it closes at once. */
export async function closeServer(server: Server | undefined): Promise<void> {
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * A request the server cannot even parse (malformed percent-encoding, a body that is not the JSON
 * or XML it must be, a body over the service's limit, a body the client aborted). Each server
 * answers it with a 4xx in its own service's error format; it never reaches a handler.
 */
export class MalformedRequest extends Error {
    constructor(
        message: string,
        readonly status = 400,
        /** The service's error code for it, when it has a specific one (`EntityTooLarge` …). */
        readonly code?: string,
    ) {
        super(message);
    }
}

/** The request's body as one buffer, refused above `limit` bytes and when the client aborts it. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
        req.resume();
        throw new MalformedRequest(`The request body is larger than ${limit} bytes.`, 413, "EntityTooLarge");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
        for await (const chunk of req) {
            size += (chunk as Buffer).length;
            if (size > limit) throw new MalformedRequest(`The request body is larger than ${limit} bytes.`, 413, "EntityTooLarge");
            chunks.push(chunk as Buffer);
        }
    } catch (error) {
        if (error instanceof MalformedRequest) throw error;
        throw new MalformedRequest("The request body was not received completely.", 400, "IncompleteBody");
    }
    // An aborted upload can also end the stream quietly, short of its Content-Length.
    if (req.headers["content-length"] !== undefined && size !== declared) {
        throw new MalformedRequest("The request body was not received completely.", 400, "IncompleteBody");
    }
    return Buffer.concat(chunks);
}

/** `decodeURIComponent` that reports malformed escapes and invalid UTF-8 as a bad request. */
export function decodeComponent(text: string, what = "the request path"): string {
    try {
        return decodeURIComponent(text);
    } catch {
        throw new MalformedRequest(`${what} is not valid percent-encoded UTF-8.`);
    }
}

/** A request as it arrived, with what SigV4 covers. */
export interface ReceivedRequest {
    method: string;
    /** Path exactly as on the wire (still percent-encoded), without the query string. */
    path: string;
    /** Query parameters, decoded; repeated keys become arrays. */
    query: Record<string, string | string[]>;
    /** The same parameters in order, one pair per occurrence. */
    params: [string, string][];
    /** Header names lowercased; repeated headers joined with ",". */
    headers: Record<string, string>;
    body: Buffer;
}

/** Most query parameters one request may carry (S3's operations take at most a dozen). */
export const MAX_QUERY_PARAMETERS = 100;

/**
 * Parses a query string strictly: `+` is a space (as S3 and API Gateway read it), every escape
 * must be valid percent-encoded UTF-8, and more than MAX_QUERY_PARAMETERS parameters are refused.
 */
export function parseQuery(search: string): [string, string][] {
    if (search === "") return [];
    const parts = search.split("&");
    if (parts.length > MAX_QUERY_PARAMETERS) throw new MalformedRequest(`The request has more than ${MAX_QUERY_PARAMETERS} query parameters.`);
    const pairs: [string, string][] = [];
    for (const part of parts) {
        if (part === "") continue;
        const eq = part.indexOf("=");
        const name = eq < 0 ? part : part.slice(0, eq);
        const value = eq < 0 ? "" : part.slice(eq + 1);
        pairs.push([decodeComponent(name.replace(/\+/g, " "), "A query parameter name"), decodeComponent(value.replace(/\+/g, " "), "A query parameter value")]);
    }
    return pairs;
}

export interface ReadOptions {
    /** Largest body accepted (the service's own limit); larger ones are answered 413. */
    maxBodyBytes: number;
}

/** Reads a Node request into a `ReceivedRequest` (body buffered); MalformedRequest when it cannot. */
export async function readRequest(req: IncomingMessage, options: ReadOptions): Promise<ReceivedRequest> {
    const url = req.url ?? "/";
    if (!url.startsWith("/")) throw new MalformedRequest("The request target must be a path.");
    const q = url.indexOf("?");
    const params = q >= 0 ? parseQuery(url.slice(q + 1)) : [];
    // No prototype: a parameter named `__proto__` is a parameter like any other.
    const query: Record<string, string | string[]> = Object.create(null);
    for (const [key, value] of params) {
        const existing = query[key];
        query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
    }
    const body = await readBody(req, options.maxBodyBytes);
    return { method: req.method ?? "GET", path: q >= 0 ? url.slice(0, q) : url, query, params, headers, body };
}

/**
 * Reads a request with `read` (`readRequest`, or `readBody` where a service looks at nothing else).
 * A request that cannot be read is answered by `refuse`, in the service's own error format, or
 * dropped when its client is gone or aborted the body. Undefined when the request has been answered.
 */
export async function receive<T>(res: ServerResponse, read: () => Promise<T>, refuse: (error: MalformedRequest) => void): Promise<T | undefined> {
    try {
        return await read();
    } catch (error) {
        if (!(error instanceof MalformedRequest)) throw error;
        if (error.code === "IncompleteBody" || !res.socket || res.socket.destroyed) res.destroy();
        else refuse(error);
        return undefined;
    }
}

/**
 * True when a `Host` header names this machine: `localhost`, a `*.localhost` name, an address in
 * 127.0.0.0/8 or `[::1]`, with any port. Every local server refuses other names: a page whose
 * host name an attacker re-points at 127.0.0.1 (DNS rebinding) still sends its own name.
 */
export function isLoopbackHost(host: string | undefined): boolean {
    if (!host) return false;
    const name = hostName(host);
    if (name === undefined) return false;
    if (name === "localhost" || name.endsWith(".localhost")) return /^[a-z0-9.-]+$/.test(name);
    if (name === "[::1]") return true;
    return isIP(name) === 4 && name.startsWith("127.");
}

/** The host name of a `Host` header, lowercased and without its port; undefined when malformed. */
export function hostName(host: string): string | undefined {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
    if (!match) return undefined;
    return match[1].toLowerCase().replace(/\.$/, "");
}

/** True when `origin` is one of the stack's allowed origins (`*` wildcards as the stack writes them). */
export function originAllowed(origins: readonly string[], origin: string | undefined): boolean {
    if (!origin) return false;
    return origins.some((allowed) => allowed === "*" || wildcardMatch(allowed.toLowerCase(), origin.toLowerCase()));
}

/**
 * The CORS headers of an AWS JSON protocol service without CORS settings of its own (the User
 * Pools, the identity service): for the stack's origins only, exposing `exposeHeaders`.
 */
export function jsonServiceCors(origins: readonly string[], origin: string | undefined, exposeHeaders: string): Record<string, string> {
    return originAllowed(origins, origin) ? { "access-control-allow-origin": origin!, "access-control-expose-headers": exposeHeaders, vary: "Origin" } : {};
}

/** Answers such a service's CORS preflight: POST with the requested headers for an allowed origin, a bare 204 otherwise. */
export function answerJsonPreflight(res: ServerResponse, cors: Record<string, string>, requestHeaders: string | undefined): void {
    const headers: Record<string, string> = { ...cors };
    if (cors["access-control-allow-origin"]) {
        headers["access-control-allow-methods"] = "POST";
        headers["access-control-allow-headers"] = requestHeaders ?? "content-type,x-amz-target,x-amz-user-agent";
        headers["access-control-max-age"] = "600";
    }
    res.writeHead(204, headers);
    res.end();
}

export interface ServeOptions {
    /** Answers a request that failed in a way the handler did not answer (last resort). */
    onError(res: ServerResponse, error: unknown): void;
}

/**
 * An HTTP server whose handler failures never escape: a rejected or throwing handler is answered
 * by `onError` (or the connection is dropped when the answer had already begun), so no request can
 * stop the process. Node's own parser answers malformed HTTP and oversized headers with 400/431.
 */
export function safeServer(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, options: ServeOptions): Server {
    const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
        // A client that resets the connection makes these emit "error"; without a listener that
        // would be an uncaught exception.
        req.on("error", () => undefined);
        res.on("error", () => undefined);
        let settled: Promise<void>;
        try {
            settled = handler(req, res);
        } catch (error) {
            settled = Promise.reject(error);
        }
        settled.catch((error) => {
            if (res.headersSent || res.destroyed) {
                res.destroy();
                return;
            }
            try {
                options.onError(res, error);
            } catch {
                res.destroy();
            }
        });
    });
    // Malformed HTTP (bad framing, oversized headers): answer 400/431 and close gracefully. Node's
    // default destroys the socket at once, and a client still sending then gets a reset instead
    // of the answer.
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
        if (!socket.writable || error.code === "ECONNRESET") {
            socket.destroy();
            return;
        }
        const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
        socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        socket.resume();
        setTimeout(() => socket.destroy(), 1000).unref();
    });
    // Slow or stalled clients are dropped rather than holding the server open.
    server.requestTimeout = 120_000;
    server.headersTimeout = 20_000;
    return server;
}

/** The default sink of structured request logs: one JSON line on stdout. */
export function stdoutLog(line: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(line)}\n`);
}

/**
 * One local service's HTTP server: `listen` on loopback with `safeServer`, so a request the handler
 * fails on gets the service's `internalError` answer; `close` drops idle connections and returns.
 */
export abstract class LocalServer {
    private server?: Server;

    /** @param log Structured request log lines (default: stdout). */
    constructor(protected readonly log: (line: Record<string, unknown>) => void = stdoutLog) {}

    protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

    /** The service's answer to a request its handler failed on (a 500 in its own error format). */
    protected abstract internalError(res: ServerResponse, error: unknown): void;

    async listen(port = 0, host = "127.0.0.1"): Promise<number> {
        this.server = safeServer((req, res) => this.handle(req, res), { onError: (res, error) => this.internalError(res, error) });
        return listenOn(this.server, port, host);
    }

    async close(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        await closeServer(server);
    }
}

/** Sends a buffered request upstream and streams the answer back to the client as it comes. */
export function forward(options: RequestOptions, body: Buffer, res: ServerResponse, transformHeaders: (headers: Record<string, string | string[] | undefined>) => Record<string, string | string[] | undefined> = (h) => h): Promise<void> {
    return new Promise((resolve, reject) => {
        const upstream = httpRequest(options, (response) => {
            res.writeHead(response.statusCode ?? 502, transformHeaders({ ...response.headers }));
            response.pipe(res);
            response.on("end", resolve);
            response.on("error", reject);
        });
        upstream.on("error", reject);
        upstream.end(body);
    });
}
