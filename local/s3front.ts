import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CredentialStore } from "./credentials";
import { decide } from "./iam";
import { LocalRegistry, wildcardMatch } from "./registry";
import { readRequest, ReceivedRequest, verifySigV4, VerifyFailure } from "./sigv4";
import { closeServer, forward, listenOn } from "./server";

/** S3 CORS rule (`aws:s3/bucketCorsConfiguration:BucketCorsConfiguration` `corsRules[]`). */
export interface S3CorsRule {
    allowedHeaders?: string[];
    allowedMethods: string[];
    allowedOrigins: string[];
    exposeHeaders?: string[];
    maxAgeSeconds?: number;
}

/** S3's error code and message for each way a signature can fail. */
const S3_SIGNATURE_ERRORS: Record<VerifyFailure, [number, string, string]> = {
    MissingAuthentication: [403, "AccessDenied", "Access Denied"],
    IncompleteSignature: [400, "AuthorizationHeaderMalformed", "The authorization header is malformed."],
    InvalidAccessKey: [403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."],
    InvalidToken: [400, "InvalidToken", "The provided token is malformed or otherwise invalid."],
    ExpiredToken: [400, "ExpiredToken", "The provided token has expired."],
    SignatureExpired: [403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."],
    WrongScope: [400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region or service in the credential scope is wrong."],
    ContentHashMismatch: [400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."],
    UnsupportedPayload: [501, "NotImplemented", "A header you provided implies functionality that is not implemented (streaming payload signing)."],
    SignatureDoesNotMatch: [403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."],
};

export interface S3Authorization {
    action: string;
    resource: string;
    context: Record<string, string | string[]>;
}

/** The IAM actions an S3 REST request needs (path-style), as S3 authorizes them. */
export function s3Authorizations(request: ReceivedRequest, bucket: string, key: string): S3Authorization[] | undefined {
    const has = (name: string) => name in request.query;
    const first = (name: string) => {
        const value = request.query[name];
        return Array.isArray(value) ? value[0] : value;
    };
    const bucketArn = `arn:aws:s3:::${bucket}`;
    const objectArn = `${bucketArn}/${key}`;
    const one = (action: string, resource = objectArn, context: Record<string, string | string[]> = {}) => [{ action, resource, context }];
    const method = request.method;
    if (key === "") {
        if ((method === "GET" || method === "HEAD") && Object.keys(request.query).every((q) => ["prefix", "delimiter", "max-keys", "list-type", "continuation-token", "start-after", "marker", "encoding-type", "fetch-owner"].includes(q))) {
            const context: Record<string, string | string[]> = { "s3:prefix": first("prefix") ?? "" };
            if (has("delimiter")) context["s3:delimiter"] = first("delimiter")!;
            if (has("max-keys")) context["s3:max-keys"] = first("max-keys")!;
            return one("s3:ListBucket", bucketArn, context);
        }
        if (method === "GET" && has("location")) return one("s3:GetBucketLocation", bucketArn);
        if (method === "GET" && has("uploads")) return one("s3:ListBucketMultipartUploads", bucketArn);
        if (method === "GET" && has("cors")) return one("s3:GetBucketCORS", bucketArn);
        if (method === "GET" && has("versioning")) return one("s3:GetBucketVersioning", bucketArn);
        if (method === "POST" && has("delete")) {
            const keys = [...request.body.toString("utf8").matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&"));
            return keys.map((k) => ({ action: "s3:DeleteObject", resource: `${bucketArn}/${k}`, context: {} }));
        }
        return undefined;
    }
    if (method === "GET" || method === "HEAD") {
        if (has("uploadId")) return one("s3:ListMultipartUploadParts");
        if (has("tagging")) return one("s3:GetObjectTagging");
        if (has("acl")) return one("s3:GetObjectAcl");
        return one(has("versionId") ? "s3:GetObjectVersion" : "s3:GetObject");
    }
    if (method === "PUT") {
        if (has("tagging")) return one("s3:PutObjectTagging");
        if (has("acl")) return one("s3:PutObjectAcl");
        const copySource = request.headers["x-amz-copy-source"];
        if (copySource) {
            const source = decodeURIComponent(copySource.replace(/^\//, "").split("?")[0]);
            return [...one("s3:PutObject"), { action: "s3:GetObject", resource: `arn:aws:s3:::${source}`, context: {} }];
        }
        return one("s3:PutObject");
    }
    if (method === "POST" && (has("uploads") || has("uploadId"))) return one("s3:PutObject");
    if (method === "DELETE") {
        if (has("uploadId")) return one("s3:AbortMultipartUpload");
        if (has("tagging")) return one("s3:DeleteObjectTagging");
        return one(has("versionId") ? "s3:DeleteObjectVersion" : "s3:DeleteObject");
    }
    return undefined;
}

export interface S3FrontOptions {
    dataDir: string;
    registry: LocalRegistry;
    store: CredentialStore;
    log?: (line: Record<string, unknown>) => void;
}

function xmlEscape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The local S3 endpoint: checks the SigV4 signature and decides the request's S3 actions against
 * the caller role's policies plus the bucket policy (with `${cognito-identity.amazonaws.com:sub}`
 * resolved to the caller's identity id) before s3rver stores or serves anything. s3rver itself is
 * reachable only through a Unix socket of this process, never on a TCP port.
 */
export class LocalS3 {
    private server?: Server;
    private backend?: Server;
    private s3rver: any;
    private readonly socket: string;
    readonly cors = new Map<string, S3CorsRule[]>();
    private readonly log: (line: Record<string, unknown>) => void;

    constructor(private readonly options: S3FrontOptions) {
        this.socket = path.join(tmpdir(), `notes-local-s3-${process.pid}-${randomBytes(4).toString("hex")}.sock`);
        this.log = options.log ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
    }

    async listen(port = 0, host = "127.0.0.1"): Promise<number> {
        const S3rver = require("s3rver");
        const directory = path.join(this.options.dataDir, "s3");
        mkdirSync(directory, { recursive: true });
        this.s3rver = new S3rver({ directory, silent: true, vhostBuckets: false, allowMismatchedSignatures: false });
        rmSync(this.socket, { force: true });
        this.backend = await this.s3rver.listen(this.socket);
        this.server = createServer((req, res) => {
            this.handle(req, res).catch((error) => {
                this.log({ level: "error", source: "s3", message: String(error?.stack ?? error) });
                if (!res.headersSent) this.error(res, 500, "InternalError", "We encountered an internal error. Please try again.");
            });
        });
        return listenOn(this.server, port, host);
    }

    /** Creates the bucket in s3rver (idempotent). */
    async createBucket(name: string): Promise<void> {
        await this.s3rver.store.putBucket(name);
        this.options.registry.buckets.add(name);
    }

    /** Stores the bucket's CORS rules in s3rver (which answers preflights) and here (for errors). */
    async putCors(bucket: string, rules: S3CorsRule[]): Promise<void> {
        const xml = `<CORSConfiguration>${rules
            .map(
                (rule) =>
                    `<CORSRule>${rule.allowedOrigins.map((o) => `<AllowedOrigin>${xmlEscape(o)}</AllowedOrigin>`).join("")}` +
                    `${rule.allowedMethods.map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join("")}` +
                    `${(rule.allowedHeaders ?? []).map((h) => `<AllowedHeader>${xmlEscape(h)}</AllowedHeader>`).join("")}` +
                    `${(rule.exposeHeaders ?? []).map((h) => `<ExposeHeader>${xmlEscape(h)}</ExposeHeader>`).join("")}` +
                    `${rule.maxAgeSeconds !== undefined ? `<MaxAgeSeconds>${rule.maxAgeSeconds}</MaxAgeSeconds>` : ""}</CORSRule>`,
            )
            .join("")}</CORSConfiguration>`;
        const { getConfigModel } = require("s3rver/lib/models/config");
        await this.s3rver.store.putSubresource(bucket, undefined, getConfigModel("cors").validate(xml));
        this.cors.set(bucket, rules);
    }

    async close(): Promise<void> {
        const servers = [this.server, this.backend].filter((s): s is Server => s !== undefined);
        this.server = undefined;
        this.backend = undefined;
        await Promise.all(servers.map(closeServer));
        rmSync(this.socket, { force: true });
    }

    private corsFor(bucket: string, origin: string | undefined): Record<string, string> {
        if (!origin) return {};
        const rule = (this.cors.get(bucket) ?? []).find((r) => r.allowedOrigins.some((o) => wildcardMatch(o, origin)));
        if (!rule) return {};
        return {
            "access-control-allow-origin": rule.allowedOrigins.includes("*") ? "*" : origin,
            ...(rule.exposeHeaders?.length ? { "access-control-expose-headers": rule.exposeHeaders.join(", ") } : {}),
            vary: "Origin",
        };
    }

    /**
     * S3's preflight: the first rule whose origin, method and every requested header match wins
     * (`*` wildcards allowed in origins and headers); otherwise 403 CORSResponse.
     */
    private preflight(bucket: string, request: ReceivedRequest, res: ServerResponse): void {
        const origin = request.headers.origin;
        const method = request.headers["access-control-request-method"];
        if (!origin || !method) {
            this.error(res, 400, "BadRequest", "Insufficient information. Origin request header needed.");
            return;
        }
        const rules = this.cors.get(bucket);
        if (!rules) {
            this.error(res, 403, "CORSResponse", "CORS is not enabled for this bucket.");
            return;
        }
        const requested = (request.headers["access-control-request-headers"] ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
        const rule = rules.find(
            (r) =>
                r.allowedOrigins.some((o) => wildcardMatch(o, origin)) &&
                r.allowedMethods.includes(method) &&
                requested.every((h) => (r.allowedHeaders ?? []).some((pattern) => wildcardMatch(pattern.toLowerCase(), h))),
        );
        if (!rule) {
            this.error(res, 403, "CORSResponse", "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
            return;
        }
        const headers: Record<string, string> = {
            "access-control-allow-origin": rule.allowedOrigins.includes("*") ? "*" : origin,
            "access-control-allow-methods": rule.allowedMethods.join(", "),
            vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
            "content-length": "0",
        };
        if (requested.length) headers["access-control-allow-headers"] = requested.join(", ");
        if (rule.exposeHeaders?.length) headers["access-control-expose-headers"] = rule.exposeHeaders.join(", ");
        if (rule.maxAgeSeconds !== undefined) headers["access-control-max-age"] = String(rule.maxAgeSeconds);
        if (!rule.allowedOrigins.includes("*")) headers["access-control-allow-credentials"] = "true";
        res.writeHead(200, headers);
        res.end();
    }

    private error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
        const requestId = randomBytes(8).toString("hex").toUpperCase();
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId></Error>`;
        res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": requestId, ...headers, "content-length": String(Buffer.byteLength(body)) });
        res.end(body);
    }

    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const request = await readRequest(req);
        const [, rawBucket = "", ...rest] = request.path.split("/");
        const bucket = decodeURIComponent(rawBucket);
        const key = rest.map(decodeURIComponent).join("/");
        const cors = this.corsFor(bucket, request.headers.origin);

        // A CORS preflight carries no signature: answer it from the bucket's CORS rules as S3 does.
        if (request.method === "OPTIONS") {
            this.preflight(bucket, request, res);
            return;
        }
        if (!bucket || !this.options.registry.buckets.has(bucket)) {
            this.error(res, bucket ? 404 : 403, bucket ? "NoSuchBucket" : "AccessDenied", bucket ? "The specified bucket does not exist" : "Access Denied", cors);
            return;
        }
        const verified = await verifySigV4(request, { service: "s3", region: this.options.registry.region, store: this.options.store });
        if (!verified.ok) {
            const [status, code, message] = S3_SIGNATURE_ERRORS[verified.failure];
            this.log({ level: "info", source: "s3", status, code, detail: verified.detail, method: request.method, bucket, key });
            this.error(res, status, code, message, cors);
            return;
        }
        const session = verified.session;
        const authorizations = s3Authorizations(request, bucket, key);
        if (!authorizations) {
            this.error(res, 501, "NotImplemented", "The local S3 does not authorize this request type.", cors);
            return;
        }
        // S3 keys are literal strings, but s3rver's file store path.joins them: a "." or ".."
        // segment would reach another key than the one authorized (private/<me>/../<you>/k).
        // Refuse such keys (and prefixes) rather than store them somewhere else.
        const dotted = (text: string) => text.split("/").some((segment) => segment === "." || segment === "..");
        const paths = authorizations.flatMap(({ resource, context }) => [resource.replace(/^arn:aws:s3:::/, ""), String(context["s3:prefix"] ?? "")]);
        if (paths.some(dotted)) {
            this.log({ level: "info", source: "s3", status: 400, code: "InvalidArgument", method: request.method, bucket, key });
            this.error(res, 400, "InvalidArgument", "The local S3 does not accept object keys or prefixes with '.' or '..' segments (its file store would resolve them to another key).", cors);
            return;
        }
        const policies = this.options.registry.policiesOf(session.roleArn);
        for (const { action, resource, context } of authorizations) {
            const decision = await decide({
                policies,
                resourcePolicy: this.options.registry.bucketPolicies.get(bucket),
                action,
                resource,
                principal: session.principalArn,
                accountId: this.options.registry.accountId,
                variables: session.identityId ? { "cognito-identity.amazonaws.com:sub": session.identityId } : {},
                // The local endpoint is plain HTTP on loopback. The bucket policy's deny on
                // aws:SecureTransport=false guards the network path to AWS, which does not exist
                // here; evaluating it as TLS keeps that deny in the decision without refusing
                // every local request.
                context: { ...context, "aws:SecureTransport": "true" },
            });
            if (decision !== "Allow") {
                this.log({ level: "info", source: "s3", status: 403, decision, action, resource, principal: session.principalArn });
                this.error(res, 403, "AccessDenied", "Access Denied", cors);
                return;
            }
        }
        await this.forward(request, res);
    }

    /** Replays the request to s3rver without its signature (s3rver knows only its own fixed key). */
    private forward(request: ReceivedRequest, res: ServerResponse): Promise<void> {
        const headers = { ...request.headers };
        delete headers.authorization;
        delete headers["x-amz-security-token"];
        const query = new URLSearchParams();
        for (const [name, value] of Object.entries(request.query)) {
            if (/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)$/.test(name)) continue;
            for (const v of Array.isArray(value) ? value : [value]) query.append(name, v);
        }
        const search = query.toString();
        headers["content-length"] = String(request.body.length);
        delete headers["transfer-encoding"];
        return forward(
            { socketPath: this.socket, method: request.method, path: `${request.path}${search ? `?${search.replace(/\+/g, "%20")}` : ""}`, headers },
            request.body,
            res,
        );
    }
}
