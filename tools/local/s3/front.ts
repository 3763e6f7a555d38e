import { Crc32, Crc32c, Crc64Nvme } from "@aws-sdk/checksums/crc";
import { XMLBuilder } from "fast-xml-parser";
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { Readable } from "node:stream";
import { decide } from "../iam/decide";
import { LocalRegistry, S3CorsRule, wildcardMatch } from "../registry";
import { LocalServer, MalformedRequest, readRequest, ReceivedRequest, receive } from "../server";
import { CredentialStore } from "../sts/credentials";
import { verifySigV4, VerifyFailure } from "../sts/sigv4";
import { AdminCredentials, ADMINISTRATOR_ACCESS, withAdminKey } from "../keys";
import { BodyDigests, checkKey, parseS3Request, ReadConditions, S3Error, s3Address, s3Authorizations, s3HostAccepted, S3Operation, withBody } from "./request";
import { DeleteOutcome, MIN_PART_SIZE, ObjectStore, StoredChecksum, StoredObject, versionBefore, VersioningStatus } from "./store";

export type { S3CorsRule } from "../registry";
export { s3Authorizations } from "./request";

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
    InvalidPayloadHash: [
        400,
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
    ],
    SignatureDoesNotMatch: [403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."],
};

/** Largest request body the local S3 takes (S3's limit is 5 GiB per request; this one buffers in memory). */
export const MAX_S3_BODY_BYTES = 256 * 1024 * 1024;

const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", suppressEmptyNode: false, processEntities: true });

function xmlDocument(root: string, content: Record<string, unknown>, namespace = true): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n${xml.build({ [root]: namespace ? { "@_xmlns": S3_NAMESPACE, ...content } : content })}`;
}

function isoTime(epochMs: number): string {
    return new Date(epochMs).toISOString();
}

/** S3's `encoding-type=url` for listings: form encoding, `/` kept. */
function urlEncode(text: string): string {
    return encodeURIComponent(text).replace(/%2F/g, "/").replace(/%20/g, "+");
}

/** Compares S3 keys as S3 orders them: by UTF-8 bytes. */
function compareKeys(a: string, b: string): number {
    return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const unquote = (etag: string) => etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");

function etagMatches(header: string, etag: string): boolean {
    return header.split(",").some((candidate) => candidate.trim() === "*" || unquote(candidate) === unquote(etag));
}

/** Seconds resolution, as `Last-Modified` carries it. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/** The ListObjectsV2 continuation token: where the previous page stopped, opaque to clients. */
interface ListPosition {
    /** Last key (or first key of the last common prefix) returned. */
    after: string;
    /** A common prefix returned last: its keys are skipped. */
    skip?: string;
}

function encodeToken(position: ListPosition): string {
    return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

function decodeToken(token: string): ListPosition {
    const invalid = new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token", ArgumentValue: token });
    if (!/^[A-Za-z0-9_-]{1,2800}$/.test(token)) throw invalid;
    try {
        const position = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
        if (typeof position?.after !== "string" || (position.skip !== undefined && typeof position.skip !== "string")) throw invalid;
        checkKey(position.after);
        return { after: position.after, skip: position.skip };
    } catch {
        throw invalid;
    }
}

async function checksumOf(algorithm: StoredChecksum["algorithm"], body: Buffer): Promise<string> {
    if (algorithm === "SHA1" || algorithm === "SHA256") return createHash(algorithm.toLowerCase()).update(body).digest("base64");
    const hasher = algorithm === "CRC32" ? new Crc32() : algorithm === "CRC32C" ? new Crc32c() : new Crc64Nvme();
    hasher.update(body);
    return Buffer.from(await hasher.digest()).toString("base64");
}

/** Checks `Content-MD5` and `x-amz-checksum-*` against the body as S3 does (400 BadDigest). */
/** The parsed operation, or the NotImplemented error for functionality the local S3 does not emulate; other errors are thrown. */
function notEmulatedOr(parse: () => S3Operation): S3Operation | S3Error {
    try {
        return parse();
    } catch (error) {
        if (error instanceof S3Error && error.code === "NotImplemented") return error;
        throw error;
    }
}

async function verifyDigests(digests: BodyDigests, body: Buffer): Promise<void> {
    if (digests.contentMd5 !== undefined && createHash("md5").update(body).digest("base64") !== digests.contentMd5) {
        throw new S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
    if (digests.checksum && (await checksumOf(digests.checksum.algorithm, body)) !== digests.checksum.value) {
        throw new S3Error(400, "BadDigest", `The ${digests.checksum.algorithm} you specified did not match the calculated checksum.`);
    }
}

function checksumHeaders(checksum: StoredChecksum | undefined): Record<string, string> {
    return checksum ? { [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value, "x-amz-checksum-type": "FULL_OBJECT" } : {};
}

/** A response the front sends: status, headers and body (object bytes stream from the store). */
interface S3Response {
    status: number;
    headers?: Record<string, string>;
    body?: Buffer | string | Readable;
}

export interface S3FrontOptions {
    dataDir: string;
    registry: LocalRegistry;
    store: CredentialStore;
    /** The local admin's key: decided as an account administrator (every action, the bucket policy's denies still apply). */
    admin?: AdminCredentials;
    log?: (line: Record<string, unknown>) => void;
}

/**
 * The local S3 endpoint. Every request is parsed into exactly one operation of an allow-list and
 * validated (`tools/local/s3/request.ts`), its SigV4 signature verified, every IAM action of that
 * operation decided against the caller role's policies plus the bucket policy (with
 * `${cognito-identity.amazonaws.com:sub}` resolved to the caller's identity id), and then that same
 * operation is executed against the object store (`tools/local/s3/store.ts`), whose file names never come
 * from a request. Path-style addressing on loopback names, and virtual-hosted or path-style on the
 * region's S3 host names, so a browser can reach it under S3's own name.
 */
export class LocalS3 extends LocalServer {
    private objects?: ObjectStore;
    readonly cors = new Map<string, S3CorsRule[]>();

    constructor(private readonly options: S3FrontOptions) {
        super(options.log);
    }

    private get region(): string {
        return this.options.registry.region;
    }

    async listen(port = 0, host = "127.0.0.1"): Promise<number> {
        this.objects = new ObjectStore(path.join(this.options.dataDir, "s3store"));
        return super.listen(port, host);
    }

    protected internalError(res: ServerResponse, error: unknown): void {
        this.log({ level: "error", source: "s3", message: String((error as Error)?.stack ?? error) });
        this.send(res, this.errorResponse(new S3Error(500, "InternalError", "We encountered an internal error. Please try again."), {}));
    }

    /** Creates the bucket (idempotent). */
    /** `PutBucketVersioning` as the program declares it (`aws:s3/bucketVersioning:BucketVersioning`). */
    async setVersioning(bucket: string, status: VersioningStatus): Promise<void> {
        this.objects!.setVersioning(bucket, status);
    }

    async createBucket(name: string): Promise<void> {
        this.objects!.createBucket(name);
        this.options.registry.buckets.add(name);
    }

    /** The bucket's CORS rules: preflights and CORS headers on every answer come from them. */
    async putCors(bucket: string, rules: S3CorsRule[]): Promise<void> {
        this.cors.set(bucket, rules);
        this.options.registry.bucketCors.set(bucket, rules);
    }

    /** CORS headers of an actual (non-preflight) response: the first rule matching origin and method. */
    private corsFor(bucket: string, origin: string | undefined, method: string): Record<string, string> {
        if (!origin) return {};
        const rule = (this.cors.get(bucket) ?? []).find((r) => r.allowedOrigins.some((o) => wildcardMatch(o, origin)) && r.allowedMethods.includes(method === "HEAD" ? "HEAD" : method));
        if (!rule) return {};
        const wildcard = rule.allowedOrigins.includes("*");
        return {
            "access-control-allow-origin": wildcard ? "*" : origin,
            ...(wildcard ? {} : { "access-control-allow-credentials": "true" }),
            ...(rule.exposeHeaders?.length ? { "access-control-expose-headers": rule.exposeHeaders.join(", ") } : {}),
            vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        };
    }

    /**
     * S3's preflight: the first rule whose origin, method and every requested header match wins
     * (`*` wildcards allowed in origins and headers); otherwise 403 CORSResponse.
     */
    private preflight(bucket: string, request: ReceivedRequest): S3Response {
        const origin = request.headers.origin;
        const method = request.headers["access-control-request-method"];
        if (!origin || !method) throw new S3Error(400, "BadRequest", "Insufficient information. Origin request header needed.");
        const rules = this.cors.get(bucket);
        if (!rules) throw new S3Error(403, "CORSResponse", "CORS is not enabled for this bucket.");
        const requested = (request.headers["access-control-request-headers"] ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
        const rule = rules.find(
            (r) =>
                r.allowedOrigins.some((o) => wildcardMatch(o, origin)) &&
                r.allowedMethods.includes(method) &&
                requested.every((h) => (r.allowedHeaders ?? []).some((pattern) => wildcardMatch(pattern.toLowerCase(), h))),
        );
        if (!rule) {
            throw new S3Error(403, "CORSResponse", "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
        }
        const headers: Record<string, string> = {
            "access-control-allow-origin": rule.allowedOrigins.includes("*") ? "*" : origin,
            "access-control-allow-methods": rule.allowedMethods.join(", "),
            vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        };
        if (requested.length) headers["access-control-allow-headers"] = requested.join(", ");
        if (rule.exposeHeaders?.length) headers["access-control-expose-headers"] = rule.exposeHeaders.join(", ");
        if (rule.maxAgeSeconds !== undefined) headers["access-control-max-age"] = String(rule.maxAgeSeconds);
        if (!rule.allowedOrigins.includes("*")) headers["access-control-allow-credentials"] = "true";
        return { status: 200, headers };
    }

    private errorResponse(error: S3Error, cors: Record<string, string>, head = false): S3Response {
        const requestId = randomBytes(8).toString("hex").toUpperCase();
        const headers = { ...error.headers, "x-amz-request-id": requestId, "x-amz-id-2": randomBytes(24).toString("base64"), ...cors };
        // HEAD answers carry no body, so S3 puts the code in a header.
        if (head) return { status: error.status, headers: { ...headers, "x-amz-error-code": error.code } };
        const body = xmlDocument("Error", { Code: error.code, Message: error.message, ...error.details, RequestId: requestId, HostId: headers["x-amz-id-2"] }, false);
        return { status: error.status, headers: { ...headers, "content-type": "application/xml" }, body };
    }

    private send(res: ServerResponse, response: S3Response): void {
        if (response.body instanceof Readable) {
            const stream = response.body;
            res.writeHead(response.status, response.headers ?? {});
            stream.on("error", () => res.destroy());
            res.on("close", () => stream.destroy());
            stream.pipe(res);
            return;
        }
        const body = response.body === undefined ? undefined : typeof response.body === "string" ? Buffer.from(response.body) : response.body;
        const headers: Record<string, string> = { ...(response.headers ?? {}) };
        if (!("content-length" in headers) && response.status !== 204 && response.status !== 304) headers["content-length"] = String(body?.length ?? 0);
        res.writeHead(response.status, headers);
        res.end(body);
    }

    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const head = req.method === "HEAD";
        // DNS rebinding: a page re-pointed at 127.0.0.1 still sends its own host name.
        if (!s3HostAccepted(req.headers.host, this.region)) {
            req.resume();
            this.log({ level: "info", source: "s3", status: 403, reason: "host", host: req.headers.host });
            this.send(res, this.errorResponse(new S3Error(403, "AccessDenied", `The local S3 answers only loopback names and S3 host names of ${this.region}; Host '${req.headers.host ?? ""}' is neither.`), {}, head));
            return;
        }
        const request = await receive(res, () => readRequest(req, { maxBodyBytes: MAX_S3_BODY_BYTES }), (error) => {
            const s3error =
                error.code === "EntityTooLarge"
                    ? new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
                    : new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
            this.send(res, this.errorResponse(s3error, {}, head));
        });
        if (!request) return;
        let bucket = "";
        let cors: Record<string, string> = {};
        try {
            bucket = s3Address(request, this.region).bucket;
            cors = this.corsFor(bucket, request.headers.origin, request.method);
            // A CORS preflight carries no signature: answer it from the bucket's CORS rules as S3 does.
            const response = request.method === "OPTIONS" ? this.preflight(bucket, request) : await this.operation(request, bucket);
            this.send(res, { ...response, headers: { ...cors, ...(response.headers ?? {}) } });
        } catch (error) {
            if (error instanceof MalformedRequest) error = new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
            if (!(error instanceof S3Error)) throw error;
            if (error.status >= 500 && error.code !== "NotImplemented") this.log({ level: "error", source: "s3", message: error.message });
            else this.log({ level: "info", source: "s3", status: error.status, code: error.code, method: request.method, path: request.path.slice(0, 200) });
            this.send(res, this.errorResponse(error, cors, head));
        }
    }

    /**
     * Parse, check the signature, parse the body, authorize, execute: one operation throughout. A
     * request for functionality the local S3 does not emulate is answered 501 NotImplemented only
     * once its signature holds: without one it is refused like any other (403), so no anonymous
     * request gets a 5xx or learns what is emulated.
     */
    private async operation(request: ReceivedRequest, bucket: string): Promise<S3Response> {
        const parsed = notEmulatedOr(() => parseS3Request(request, this.region));
        if (!bucket || !this.options.registry.buckets.has(bucket)) {
            throw bucket ? new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket }) : new S3Error(403, "AccessDenied", "Access Denied");
        }
        const verified = await verifySigV4(request, { service: "s3", region: this.region, store: withAdminKey(this.options.admin, this.options.registry.accountId, this.options.store) });
        if (!verified.ok) {
            const [status, code, message] = S3_SIGNATURE_ERRORS[verified.failure];
            this.log({ level: "info", source: "s3", status, code, detail: verified.detail, operation: parsed instanceof S3Error ? "not emulated" : parsed.name });
            throw new S3Error(status, code, message);
        }
        if (parsed instanceof S3Error) throw parsed;
        let operation = parsed;
        const owner = request.headers["x-amz-expected-bucket-owner"];
        if (owner !== undefined && owner !== this.options.registry.accountId) throw new S3Error(403, "AccessDenied", "Access Denied");
        operation = withBody(operation, request.body);
        if ("digests" in operation) {
            if (operation.name === "DeleteObjects" && operation.digests.contentMd5 === undefined && operation.digests.checksum === undefined) {
                throw new S3Error(400, "InvalidRequest", "Missing required header for this request: Content-MD5 or x-amz-checksum-*");
            }
            await verifyDigests(operation.digests, request.body);
        }
        const session = verified.session;
        const policies = "admin" in session ? [ADMINISTRATOR_ACCESS] : this.options.registry.policiesOf(session.roleArn);
        const identityId = "admin" in session ? undefined : session.identityId;
        for (const { action, resource, context } of s3Authorizations(operation)) {
            const resourceBucket = resource.replace(/^arn:aws:s3:::/, "").split("/")[0];
            const decision = await decide({
                policies,
                resourcePolicy: this.options.registry.bucketPolicies.get(resourceBucket),
                action,
                resource,
                principal: session.principalArn,
                accountId: this.options.registry.accountId,
                variables: identityId ? { "cognito-identity.amazonaws.com:sub": identityId } : {},
                // The local endpoint is plain HTTP on loopback. The bucket policy's deny on
                // aws:SecureTransport=false guards the network path to AWS, which does not exist
                // here; evaluating it as TLS keeps that deny in the decision without refusing
                // every local request.
                context: { ...context, "aws:SecureTransport": "true" },
            });
            if (decision !== "Allow") {
                this.log({ level: "info", source: "s3", status: 403, decision, action, resource, principal: session.principalArn });
                throw new S3Error(403, "AccessDenied", "Access Denied");
            }
        }
        return this.execute(operation, request);
    }

    /** Runs the authorized operation against the store; synchronous, so checks and writes cannot interleave. */
    private execute(operation: S3Operation, request: ReceivedRequest): S3Response {
        const store = this.objects!;
        const body = request.body;
        const noSuchKey = (key: string) => new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
        const noSuchUpload = (uploadId: string) =>
            new S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", { UploadId: uploadId });
        const preconditionFailed = (condition: string) => new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: condition });
        const sse = { "x-amz-server-side-encryption": "AES256" };
        const versioned = store.versioning(operation.bucket) !== undefined;
        /** `x-amz-version-id` of a version, sent once the bucket has had versioning. */
        const versionHeader = (object: StoredObject | undefined): Record<string, string> => (versioned && object ? { "x-amz-version-id": object.versionId ?? "null" } : {});
        switch (operation.name) {
            case "GetObject":
            case "HeadObject": {
                const object = this.readable(operation.bucket, operation.key, operation.versionId, operation.name);
                const notModified = this.checkConditions(object, operation.conditions, preconditionFailed);
                const headers: Record<string, string> = {
                    ...versionHeader(object),
                    "content-type": object.contentType ?? "binary/octet-stream",
                    etag: object.etag,
                    "last-modified": new Date(object.lastModified).toUTCString(),
                    "accept-ranges": "bytes",
                    ...sse,
                };
                for (const [name, value] of [
                    ["content-encoding", object.contentEncoding],
                    ["content-language", object.contentLanguage],
                    ["content-disposition", object.contentDisposition],
                    ["cache-control", object.cacheControl],
                    ["expires", object.expires],
                ] as const) {
                    if (value !== undefined) headers[name] = value;
                }
                for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
                if (notModified) return { status: 304, headers: { etag: object.etag, "last-modified": headers["last-modified"], ...versionHeader(object) } };
                const range = this.range(operation.range, object.size);
                Object.assign(headers, operation.overrides);
                if (range) {
                    headers["content-range"] = `bytes ${range.start}-${range.end}/${object.size}`;
                    headers["content-length"] = String(range.end - range.start + 1);
                    return { status: 206, headers, body: operation.name === "HeadObject" ? undefined : store.stream(operation.bucket, object, range) };
                }
                if (operation.checksumMode) Object.assign(headers, checksumHeaders(object.checksum));
                headers["content-length"] = String(object.size);
                return { status: 200, headers, body: operation.name === "HeadObject" ? undefined : store.stream(operation.bucket, object) };
            }
            case "PutObject": {
                const existing = store.head(operation.bucket, operation.key);
                if (operation.ifNoneMatch && existing) throw preconditionFailed("If-None-Match");
                if (operation.ifMatch !== undefined) {
                    if (!existing) throw noSuchKey(operation.key);
                    if (!etagMatches(operation.ifMatch, existing.etag)) throw preconditionFailed("If-Match");
                }
                const object = store.put(operation.bucket, operation.key, body, operation.attributes, operation.digests.checksum);
                return { status: 200, headers: { etag: object.etag, ...sse, ...checksumHeaders(object.checksum), ...versionHeader(object) } };
            }
            case "CopyObject": {
                if (!this.options.registry.buckets.has(operation.source.bucket)) throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: operation.source.bucket });
                const source = this.readable(operation.source.bucket, operation.source.key, operation.source.versionId, "CopyObject");
                if (this.checkConditions(source, operation.sourceConditions, preconditionFailed)) throw preconditionFailed("x-amz-copy-source-If-None-Match");
                // Copying a named version over its own key is how a version is restored; copying the current one onto itself changes nothing.
                if (!operation.replace && operation.source.versionId === undefined && operation.source.bucket === operation.bucket && operation.source.key === operation.key) {
                    throw new S3Error(400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
                }
                if (operation.ifNoneMatch && store.head(operation.bucket, operation.key)) throw preconditionFailed("If-None-Match");
                const { contentType, contentEncoding, contentLanguage, contentDisposition, cacheControl, expires, metadata } = operation.replace ? operation.attributes : source;
                const copied = store.copy(operation.source.bucket, source, operation.bucket, operation.key, { contentType, contentEncoding, contentLanguage, contentDisposition, cacheControl, expires, metadata });
                const sourceVersioned = store.versioning(operation.source.bucket) !== undefined;
                const copyHeaders = { ...sse, ...versionHeader(copied), ...(sourceVersioned ? { "x-amz-copy-source-version-id": source.versionId ?? "null" } : {}) };
                return xmlResponse(200, "CopyObjectResult", { LastModified: isoTime(copied.lastModified), ETag: copied.etag }, copyHeaders);
            }
            case "DeleteObject": {
                const outcome = this.deleteOne(operation.bucket, operation.key, operation.versionId);
                const headers: Record<string, string> = {};
                if (outcome?.versionId !== undefined && versioned) headers["x-amz-version-id"] = outcome.versionId;
                if (outcome?.deleteMarker) headers["x-amz-delete-marker"] = "true";
                return { status: 204, headers };
            }
            case "DeleteObjects": {
                const deleted = operation.objects.map(({ key, versionId }) => {
                    const outcome = this.deleteOne(operation.bucket, key, versionId);
                    if (versionId !== undefined) return { Key: key, VersionId: versionId, ...(outcome?.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: versionId } : {}) };
                    return { Key: key, ...(outcome?.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: outcome.versionId } : {}) };
                });
                return xmlResponse(200, "DeleteResult", { Deleted: operation.quiet ? [] : deleted });
            }
            case "ListObjectsV2":
                return this.list(operation);
            case "ListObjectVersions":
                return this.listVersions(operation);
            case "GetBucketLocation":
                return xmlResponse(200, "LocationConstraint", { "#text": this.region === "us-east-1" ? "" : this.region });
            case "CreateMultipartUpload": {
                const upload = store.createUpload(operation.bucket, operation.key, operation.attributes, operation.checksumAlgorithm);
                const headers: Record<string, string> = { ...sse, ...(upload.checksumAlgorithm ? { "x-amz-checksum-algorithm": upload.checksumAlgorithm } : {}) };
                return xmlResponse(200, "InitiateMultipartUploadResult", { Bucket: operation.bucket, Key: operation.key, UploadId: upload.uploadId }, headers);
            }
            case "UploadPart": {
                const upload = store.upload(operation.bucket, operation.key, operation.uploadId);
                if (!upload) throw noSuchUpload(operation.uploadId);
                const part = store.putPart(upload, operation.partNumber, body, operation.digests.checksum);
                return { status: 200, headers: { etag: part.etag, ...sse, ...(part.checksum ? { [`x-amz-checksum-${part.checksum.algorithm.toLowerCase()}`]: part.checksum.value } : {}) } };
            }
            case "CompleteMultipartUpload": {
                const upload = store.upload(operation.bucket, operation.key, operation.uploadId);
                if (!upload) throw noSuchUpload(operation.uploadId);
                operation.parts.forEach(({ partNumber }, index) => {
                    if (index > 0 && partNumber <= operation.parts[index - 1].partNumber) throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.");
                });
                operation.parts.forEach(({ partNumber, etag }, index) => {
                    const part = upload.parts.get(partNumber);
                    if (!part || unquote(part.etag) !== unquote(etag)) {
                        throw new S3Error(400, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", { PartNumber: String(partNumber), ETag: etag });
                    }
                    if (index < operation.parts.length - 1 && part.size < MIN_PART_SIZE) {
                        throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", { PartNumber: String(partNumber), ProposedSize: String(part.size), MinSizeAllowed: String(MIN_PART_SIZE) });
                    }
                });
                if (operation.ifNoneMatch && store.head(operation.bucket, operation.key)) throw preconditionFailed("If-None-Match");
                const object = store.completeUpload(upload, operation.parts.map((p) => p.partNumber));
                const location = `http://${request.headers.host}/${encodeURIComponent(operation.bucket)}/${operation.key.split("/").map(encodeURIComponent).join("/")}`;
                return xmlResponse(200, "CompleteMultipartUploadResult", { Location: location, Bucket: operation.bucket, Key: operation.key, ETag: object.etag }, sse);
            }
            case "AbortMultipartUpload": {
                const upload = store.upload(operation.bucket, operation.key, operation.uploadId);
                if (!upload) throw noSuchUpload(operation.uploadId);
                store.abortUpload(upload);
                return { status: 204 };
            }
            case "ListParts": {
                const upload = store.upload(operation.bucket, operation.key, operation.uploadId);
                if (!upload) throw noSuchUpload(operation.uploadId);
                const after = [...upload.parts.values()].filter((p) => p.partNumber > operation.partNumberMarker).sort((a, b) => a.partNumber - b.partNumber);
                const page = after.slice(0, operation.maxParts);
                const truncated = after.length > page.length;
                const owner = { ID: this.options.registry.accountId, DisplayName: "local" };
                return xmlResponse(200, "ListPartsResult", {
                    Bucket: operation.bucket,
                    Key: operation.key,
                    UploadId: operation.uploadId,
                    PartNumberMarker: operation.partNumberMarker,
                    ...(truncated ? { NextPartNumberMarker: page[page.length - 1].partNumber } : {}),
                    MaxParts: operation.maxParts,
                    IsTruncated: truncated,
                    Part: page.map((p) => ({ PartNumber: p.partNumber, LastModified: isoTime(p.lastModified), ETag: p.etag, ...(p.checksum ? { [`Checksum${p.checksum.algorithm}`]: p.checksum.value } : {}), Size: p.size })),
                    Initiator: owner,
                    Owner: owner,
                    StorageClass: "STANDARD",
                    ...(upload.checksumAlgorithm ? { ChecksumAlgorithm: upload.checksumAlgorithm } : {}),
                });
            }
        }
    }

    /**
     * The version a read (or a copy's source) names: the current version, or `versionId`'s. A key
     * whose current version is a delete marker is 404 NoSuchKey (with `x-amz-delete-marker`); a
     * delete marker named by its id is 405 for GET and HEAD and 400 as a copy source; an unknown
     * version is 404 NoSuchVersion.
     */
    private readable(bucket: string, key: string, versionId: string | undefined, purpose: "GetObject" | "HeadObject" | "CopyObject"): StoredObject {
        const store = this.objects!;
        const versioned = store.versioning(bucket) !== undefined;
        if (versionId === undefined) {
            const latest = store.latest(bucket, key);
            if (latest && !latest.deleteMarker) return latest;
            const markerHeaders: Record<string, string> = latest?.deleteMarker ? { "x-amz-delete-marker": "true", ...(versioned ? { "x-amz-version-id": latest.versionId ?? "null" } : {}) } : {};
            throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key }, markerHeaders);
        }
        const version = store.version(bucket, key, versionId);
        if (!version) throw new S3Error(404, "NoSuchVersion", "The specified version does not exist.", { Key: key, VersionId: versionId });
        if (version.deleteMarker) {
            if (purpose === "CopyObject") throw new S3Error(400, "InvalidRequest", "The source of a copy request may not specifically refer to a delete marker by version id.");
            throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", { Method: purpose === "GetObject" ? "GET" : "HEAD", ResourceType: "DeleteMarker" }, { "x-amz-delete-marker": "true", "x-amz-version-id": versionId, allow: "DELETE" });
        }
        return version;
    }

    /** DeleteObject's effect: a delete marker (versioned), the key gone (unversioned), or one version gone for good. */
    private deleteOne(bucket: string, key: string, versionId: string | undefined): DeleteOutcome | undefined {
        return versionId === undefined ? this.objects!.delete(bucket, key) : this.objects!.deleteVersion(bucket, key, versionId);
    }

    /** ListObjectVersions: every version and delete marker, by key (S3's byte order), newest first within a key. */
    private listVersions(operation: Extract<S3Operation, { name: "ListObjectVersions" }>): S3Response {
        const store = this.objects!;
        const { prefix, delimiter, maxKeys, keyMarker, versionIdMarker } = operation;
        const versions: StoredObject[] = [];
        const prefixes: string[] = [];
        let truncated = false;
        let next: { key: string; versionId?: string } | undefined;
        outer: for (const key of store.versionedKeys(operation.bucket)) {
            if (!key.startsWith(prefix)) continue;
            if (keyMarker !== undefined && (versionIdMarker === undefined ? compareKeys(key, keyMarker) <= 0 : compareKeys(key, keyMarker) < 0)) continue;
            let common: string | undefined;
            if (delimiter !== undefined) {
                const at = key.indexOf(delimiter, prefix.length);
                if (at >= 0) common = key.slice(0, at + delimiter.length);
            }
            if (common !== undefined) {
                if (prefixes.at(-1) === common || (keyMarker !== undefined && compareKeys(common, keyMarker) <= 0 && keyMarker.startsWith(common))) continue;
                if (versions.length + prefixes.length >= maxKeys) {
                    truncated = maxKeys > 0;
                    break;
                }
                prefixes.push(common);
                next = { key: common };
                continue;
            }
            let list = store.versionsOf(operation.bucket, key);
            if (keyMarker !== undefined && versionIdMarker !== undefined && key === keyMarker) {
                const at = list.findIndex((v) => (v.versionId ?? "null") === versionIdMarker);
                // A marker deleted since the last page (an erasure deletes as it lists): resume at the versions older than it.
                list = at >= 0 ? list.slice(at + 1) : list.filter((v) => versionBefore(v.versionId ?? "null", versionIdMarker));
            }
            for (const version of list) {
                if (versions.length + prefixes.length >= maxKeys) {
                    truncated = maxKeys > 0;
                    break outer;
                }
                versions.push(version);
                next = { key, versionId: version.versionId ?? "null" };
            }
        }
        const encode = (text: string) => (operation.encodeUrl ? urlEncode(text) : text);
        const owner = { ID: this.options.registry.accountId, DisplayName: "local" };
        const latest = (version: StoredObject) => store.latest(operation.bucket, version.key) === version;
        return xmlResponse(200, "ListVersionsResult", {
            Name: operation.bucket,
            Prefix: encode(prefix),
            KeyMarker: encode(keyMarker ?? ""),
            VersionIdMarker: versionIdMarker ?? "",
            ...(truncated && next ? { NextKeyMarker: encode(next.key), ...(next.versionId !== undefined ? { NextVersionIdMarker: next.versionId } : {}) } : {}),
            ...(delimiter !== undefined ? { Delimiter: encode(delimiter) } : {}),
            MaxKeys: maxKeys,
            ...(operation.encodeUrl ? { EncodingType: "url" } : {}),
            IsTruncated: truncated,
            Version: versions
                .filter((v) => !v.deleteMarker)
                .map((v) => ({ Key: encode(v.key), VersionId: v.versionId ?? "null", IsLatest: latest(v), LastModified: isoTime(v.lastModified), ETag: v.etag, Size: v.size, Owner: owner, StorageClass: "STANDARD" })),
            DeleteMarker: versions.filter((v) => v.deleteMarker).map((v) => ({ Key: encode(v.key), VersionId: v.versionId ?? "null", IsLatest: latest(v), LastModified: isoTime(v.lastModified), Owner: owner })),
            CommonPrefixes: prefixes.map((common) => ({ Prefix: encode(common) })),
        });
    }

    /**
     * `If-Match`/`If-Unmodified-Since` failing: 412. `If-None-Match`/`If-Modified-Since` holding:
     * returns true (the caller answers 304, or 412 for a copy source). As S3 and RFC 7232 combine them.
     */
    private checkConditions(object: StoredObject, conditions: ReadConditions, fail: (condition: string) => S3Error): boolean {
        const modified = wholeSeconds(object.lastModified);
        if (conditions.ifMatch !== undefined && !etagMatches(conditions.ifMatch, object.etag)) throw fail("If-Match");
        if (conditions.ifMatch === undefined && conditions.ifUnmodifiedSince !== undefined && modified > conditions.ifUnmodifiedSince) throw fail("If-Unmodified-Since");
        if (conditions.ifNoneMatch !== undefined) return etagMatches(conditions.ifNoneMatch, object.etag);
        return conditions.ifModifiedSince !== undefined && modified <= conditions.ifModifiedSince;
    }

    /** A single `bytes=` range as S3 serves it; an unparseable header is ignored, an unsatisfiable one is 416. */
    private range(header: string | undefined, size: number): { start: number; end: number } | undefined {
        const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
        if (!match || (match[1] === "" && match[2] === "")) return undefined;
        let start: number;
        let end: number;
        if (match[1] === "") {
            const suffix = Number(match[2]);
            if (suffix === 0) throw new S3Error(416, "InvalidRange", "The requested range is not satisfiable", { RangeRequested: header!, ActualObjectSize: String(size) });
            start = Math.max(0, size - suffix);
            end = size - 1;
        } else {
            start = Number(match[1]);
            end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
            if (match[2] !== "" && Number(match[2]) < start) return undefined;
        }
        if (start >= size || size === 0) throw new S3Error(416, "InvalidRange", "The requested range is not satisfiable", { RangeRequested: header!, ActualObjectSize: String(size) });
        return { start, end };
    }

    private list(operation: Extract<S3Operation, { name: "ListObjectsV2" }>): S3Response {
        const store = this.objects!;
        const position = operation.continuationToken === undefined ? undefined : decodeToken(operation.continuationToken);
        const { prefix, delimiter, maxKeys } = operation;
        const contents: StoredObject[] = [];
        const prefixes: string[] = [];
        let last: ListPosition | undefined;
        let truncated = false;
        for (const key of store.keys(operation.bucket)) {
            if (!key.startsWith(prefix)) continue;
            if (position && (compareKeys(key, position.after) <= 0 || (position.skip !== undefined && key.startsWith(position.skip)))) continue;
            if (operation.startAfter !== undefined && compareKeys(key, operation.startAfter) <= 0) continue;
            let common: string | undefined;
            if (delimiter !== undefined) {
                const at = key.indexOf(delimiter, prefix.length);
                if (at >= 0) common = key.slice(0, at + delimiter.length);
            }
            if (common !== undefined && last?.skip === common) continue;
            if (contents.length + prefixes.length >= maxKeys) {
                truncated = maxKeys > 0;
                break;
            }
            if (common !== undefined) {
                prefixes.push(common);
                last = { after: key, skip: common };
            } else {
                contents.push(store.head(operation.bucket, key)!);
                last = { after: key };
            }
        }
        const encode = (text: string) => (operation.encodeUrl ? urlEncode(text) : text);
        const owner = { ID: this.options.registry.accountId, DisplayName: "local" };
        return xmlResponse(200, "ListBucketResult", {
            Name: operation.bucket,
            Prefix: encode(prefix),
            ...(delimiter !== undefined ? { Delimiter: encode(delimiter) } : {}),
            MaxKeys: maxKeys,
            ...(operation.encodeUrl ? { EncodingType: "url" } : {}),
            KeyCount: contents.length + prefixes.length,
            IsTruncated: truncated,
            ...(operation.continuationToken !== undefined ? { ContinuationToken: operation.continuationToken } : {}),
            ...(truncated && last ? { NextContinuationToken: encodeToken(last) } : {}),
            ...(operation.startAfter !== undefined ? { StartAfter: encode(operation.startAfter) } : {}),
            Contents: contents.map((object) => ({
                Key: encode(object.key),
                LastModified: isoTime(object.lastModified),
                ETag: object.etag,
                ...(object.checksum ? { ChecksumAlgorithm: object.checksum.algorithm, ChecksumType: "FULL_OBJECT" } : {}),
                Size: object.size,
                ...(operation.fetchOwner ? { Owner: owner } : {}),
                StorageClass: "STANDARD",
            })),
            CommonPrefixes: prefixes.map((common) => ({ Prefix: encode(common) })),
        });
    }
}

function xmlResponse(status: number, root: string, content: Record<string, unknown>, headers: Record<string, string> = {}): S3Response {
    return { status, headers: { "content-type": "application/xml", ...headers }, body: xmlDocument(root, content) };
}
