import { mkdtempSync, rmSync } from "node:fs";
import { IncomingMessage, RequestOptions, Server, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { decide, isKnownAction } from "../iam/decide";
import { LocalRegistry } from "../registry";
import { closeServer, forward, isLoopbackHost, listenOn, LocalServer, readRequest, ReceivedRequest, receive, safeServer, stdoutLog } from "../server";
import { CredentialStore } from "../sts/credentials";
import { jsonSignatureError, verifySigV4 } from "../sts/sigv4";
import { AdminCredentials, ADMINISTRATOR_ACCESS, withAdminKey } from "../keys";


/** DynamoDB's request size limit (dynalite's too). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * Table and index names made of DynamoDB's characters (`[a-zA-Z0-9_.-]`), so that the ARN the
 * decision is about is one IAM can evaluate; dynalite checks the length rules itself.
 */
const TABLE_NAME = /^[a-zA-Z0-9_.-]{1,255}$/;

class InvalidName extends Error {}

/** The table (and index) ARNs a DynamoDB JSON request acts on, as IAM authorizes it; throws on a name DynamoDB would refuse. */
export function dynamoResources(body: Record<string, any>, region: string, accountId: string): string[] {
    const table = (name: string) => {
        if (!TABLE_NAME.test(name)) throw new InvalidName(`1 validation error detected: Value '${name.slice(0, 300)}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`);
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
    };
    if (typeof body.IndexName === "string" && !TABLE_NAME.test(body.IndexName)) throw new InvalidName(`1 validation error detected: Value '${body.IndexName.slice(0, 300)}' at 'indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`);
    if (typeof body.TableName === "string") {
        return [typeof body.IndexName === "string" ? `${table(body.TableName)}/index/${body.IndexName}` : table(body.TableName)];
    }
    if (body.RequestItems && typeof body.RequestItems === "object") return Object.keys(body.RequestItems).map(table);
    return [`arn:aws:dynamodb:${region}:${accountId}:table/*`];
}

/** Where dynalite listens: a TCP URL, or a Unix socket no other process is handed. */
export type DynamoBackend = string | { socketPath: string };

function upstream(backend: DynamoBackend): Pick<RequestOptions, "hostname" | "port" | "socketPath"> {
    if (typeof backend !== "string") return { socketPath: backend.socketPath };
    const url = new URL(backend);
    return { hostname: url.hostname, port: url.port };
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
    const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": type, "content-length": String(Buffer.byteLength(body)) });
    res.end(body);
}

/**
 * What both DynamoDB servers do before anything else: refuse a Host that is not loopback (DNS
 * rebinding), and read the whole request, answering a malformed or oversized one in DynamoDB's
 * format. Returns undefined when the request has been answered.
 */
async function receiveDynamo(req: IncomingMessage, res: ServerResponse, log: (line: Record<string, unknown>) => void, source: string): Promise<ReceivedRequest | undefined> {
    if (!isLoopbackHost(req.headers.host)) {
        req.resume();
        log({ level: "info", source, status: 403, reason: "host", host: req.headers.host });
        sendError(res, 403, "AccessDeniedException", `The local DynamoDB answers only requests addressed to a loopback name; Host '${req.headers.host ?? ""}' is not one.`);
        return undefined;
    }
    return receive(res, () => readRequest(req, { maxBodyBytes: MAX_REQUEST_BYTES }), (error) => {
        if (error.status === 413) sendError(res, 413, "RequestEntityTooLarge", "Request Entity Too Large");
        else sendError(res, 400, "SerializationException", error.message);
    });
}

/**
 * Forwards a complete request to dynalite. No browser client of the stack talks to DynamoDB, so
 * neither server answers CORS: the `Origin` header is not passed on (dynalite would answer `*`)
 * and no `access-control-*` header comes back.
 */
function toDynalite(backend: DynamoBackend, request: ReceivedRequest, res: ServerResponse): Promise<void> {
    const { origin: _origin, ...headers } = request.headers;
    return forward(
        { ...upstream(backend), method: request.method, path: request.path, headers: { ...headers, "content-length": String(request.body.length) } },
        request.body,
        res,
        (answer) => Object.fromEntries(Object.entries(answer).filter(([name]) => !name.toLowerCase().startsWith("access-control-"))),
    );
}

export interface DynamoFrontOptions {
    /** dynalite's own endpoint (it checks no signature). */
    backend: DynamoBackend;
    registry: LocalRegistry;
    store: CredentialStore;
    /** The local admin's key: decided as an account administrator. */
    admin?: AdminCredentials;
    log?: (line: Record<string, unknown>) => void;
}

/**
 * The DynamoDB endpoint the functions use: SigV4 check, then `dynamodb:<Operation>` on the
 * table ARN decided with the function role's policies, then dynalite. This is what makes each
 * function's least-privilege role matter locally (the list function may Query, not PutItem).
 * Fine-grained conditions (`dynamodb:LeadingKeys`, attributes) are not evaluated.
 */
export class LocalDynamoFront extends LocalServer {
    constructor(private readonly options: DynamoFrontOptions) {
        super(options.log);
    }

    protected internalError(res: ServerResponse, error: unknown): void {
        this.log({ level: "error", source: "dynamodb", message: String((error as Error)?.stack ?? error) });
        sendError(res, 500, "InternalServerError", "Internal server error");
    }

    protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const request = await receiveDynamo(req, res, this.log, "dynamodb");
        if (!request) return;
        const { registry } = this.options;
        const verified = await verifySigV4(request, { service: "dynamodb", region: registry.region, store: withAdminKey(this.options.admin, registry.accountId, this.options.store) });
        if (!verified.ok) {
            const [type, message] = jsonSignatureError(verified.failure, "dynamodb", "Request is missing Authentication Token");
            this.log({ level: "info", source: "dynamodb", status: 400, type, detail: verified.detail });
            sendError(res, 400, type, message);
            return;
        }
        const [prefix, operation = ""] = String(request.headers["x-amz-target"] ?? "").split(".");
        if (prefix !== "DynamoDB_20120810" || !(await isKnownAction("dynamodb", operation))) {
            sendError(res, 400, "UnknownOperationException", "");
            return;
        }
        let body: unknown;
        try {
            body = JSON.parse(request.body.toString("utf8") || "{}");
        } catch {
            body = undefined;
        }
        if (body === null || typeof body !== "object" || Array.isArray(body)) {
            sendError(res, 400, "SerializationException", "Start of structure or map found where not expected.");
            return;
        }
        const action = `dynamodb:${operation}`;
        const session = verified.session;
        let resources: string[];
        try {
            resources = dynamoResources(body as Record<string, any>, registry.region, registry.accountId);
        } catch (error) {
            if (!(error instanceof InvalidName)) throw error;
            sendError(res, 400, "ValidationException", error.message);
            return;
        }
        for (const resource of resources) {
            const policies = "admin" in session ? [ADMINISTRATOR_ACCESS] : registry.policiesOf(session.roleArn);
            const decision = await decide({ policies, action, resource, principal: session.principalArn, accountId: registry.accountId });
            if (decision !== "Allow") {
                this.log({ level: "info", source: "dynamodb", status: 400, decision, action, resource, principal: session.principalArn });
                const why = decision === "ExplicitDeny" ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${action} action`;
                sendError(res, 400, "AccessDeniedException", `User: ${session.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`);
                return;
            }
        }
        await toDynalite(this.options.backend, request, res);
    }
}

/**
 * dynalite, started on a Unix socket in a directory only this user can enter, so nothing reaches
 * it except through the two fronts: the functions' (signature + IAM) and the operators' endpoint
 * (`endpoints.dynamodb`: unauthenticated like dynalite itself, but loopback-only, without CORS, and
 * with whole requests only, so an aborted body never reaches dynalite, which would crash on it).
 */
export class LocalDynalite {
    private dynalite?: Server;
    private operators?: Server;
    private socketDir?: string;
    readonly backend: { socketPath: string };
    private readonly log: (line: Record<string, unknown>) => void;

    constructor(
        private readonly dataPath: string | undefined,
        log?: (line: Record<string, unknown>) => void,
    ) {
        this.socketDir = mkdtempSync(path.join(tmpdir(), "notes-dynalite-"));
        this.backend = { socketPath: path.join(this.socketDir, "dynalite.sock") };
        this.log = log ?? stdoutLog;
    }

    /** Starts dynalite and the operators' endpoint on `port`; resolves with that port. */
    async listen(port = 0, host = "127.0.0.1"): Promise<number> {
        const dynalite = require("dynalite");
        this.dynalite = dynalite({ path: this.dataPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
        await new Promise<void>((resolve, reject) => {
            this.dynalite!.once("error", reject);
            this.dynalite!.listen(this.backend.socketPath, () => resolve());
        });
        this.operators = safeServer(
            async (req, res) => {
                const request = await receiveDynamo(req, res, this.log, "dynalite");
                if (request) await toDynalite(this.backend, request, res);
            },
            {
                onError: (res, error) => {
                    this.log({ level: "error", source: "dynalite", message: String((error as Error)?.stack ?? error) });
                    sendError(res, 500, "InternalServerError", "Internal server error");
                },
            },
        );
        return listenOn(this.operators, port, host);
    }

    async close(): Promise<void> {
        await closeServer(this.operators);
        this.operators = undefined;
        const server = this.dynalite;
        this.dynalite = undefined;
        if (server) {
            server.closeAllConnections?.();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
        if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
        this.socketDir = undefined;
    }
}
