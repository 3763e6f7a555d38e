import { XMLParser, XMLValidator } from "fast-xml-parser";
import { decodeComponent, hostName, isLoopbackHost, MalformedRequest, type ReceivedRequest } from "../server";
import type { ObjectAttributes, StoredChecksum } from "./store";
import { UPLOAD_ID_PATTERN, VERSION_ID_PATTERN } from "./store";

/** An S3 error as S3 sends it: HTTP status, `<Code>`, `<Message>`. */
export class S3Error extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
        /** Extra elements of the `<Error>` document (`Key`, `BucketName`, `ArgumentName` …). */
        readonly details: Record<string, string> = {},
        /** Response headers S3 sends with this error (`x-amz-delete-marker` …). */
        readonly headers: Record<string, string> = {},
    ) {
        super(message);
    }
}

const notImplemented = (what: string) => new S3Error(501, "NotImplemented", `A header or query you provided implies functionality that is not implemented: ${what} is not emulated by the local S3.`);
const invalidArgument = (message: string, name?: string, value?: string) =>
    new S3Error(400, "InvalidArgument", message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? "" });
const malformedXml = () => new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");

/** Conditions of a read (`If-Match` …), checked against the stored object. */
export interface ReadConditions {
    ifMatch?: string;
    ifNoneMatch?: string;
    ifModifiedSince?: number;
    ifUnmodifiedSince?: number;
}

/** `response-*` query parameters: the response headers a signed GET or HEAD asks S3 to send instead. */
export const RESPONSE_OVERRIDES = {
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
    "response-content-language": "content-language",
    "response-content-type": "content-type",
    "response-expires": "expires",
} as const;

/** A checksum a client sent with a body (`x-amz-checksum-<algorithm>`, base64), and `Content-MD5`. */
export interface BodyDigests {
    checksum?: StoredChecksum;
    contentMd5?: string;
}

export type S3Operation =
    | { name: "GetObject" | "HeadObject"; bucket: string; key: string; versionId?: string; range?: string; conditions: ReadConditions; overrides: Record<string, string>; checksumMode: boolean }
    | { name: "PutObject"; bucket: string; key: string; attributes: ObjectAttributes; digests: BodyDigests; ifNoneMatch: boolean; ifMatch?: string }
    | { name: "CopyObject"; bucket: string; key: string; source: { bucket: string; key: string; versionId?: string }; replace: boolean; attributes: ObjectAttributes; sourceConditions: ReadConditions; ifNoneMatch: boolean }
    | { name: "DeleteObject"; bucket: string; key: string; versionId?: string }
    | { name: "DeleteObjects"; bucket: string; keys: string[]; objects: { key: string; versionId?: string }[]; quiet: boolean; digests: BodyDigests }
    | { name: "ListObjectVersions"; bucket: string; prefix: string; delimiter?: string; maxKeys: number; maxKeysGiven: boolean; keyMarker?: string; versionIdMarker?: string; encodeUrl: boolean }
    | { name: "ListObjectsV2"; bucket: string; prefix: string; delimiter?: string; maxKeys: number; maxKeysGiven: boolean; continuationToken?: string; startAfter?: string; encodeUrl: boolean; fetchOwner: boolean }
    | { name: "GetBucketLocation"; bucket: string }
    | { name: "CreateMultipartUpload"; bucket: string; key: string; attributes: ObjectAttributes; checksumAlgorithm?: StoredChecksum["algorithm"] }
    | { name: "UploadPart"; bucket: string; key: string; uploadId: string; partNumber: number; digests: BodyDigests }
    | { name: "CompleteMultipartUpload"; bucket: string; key: string; uploadId: string; parts: { partNumber: number; etag: string }[]; ifNoneMatch: boolean }
    | { name: "AbortMultipartUpload"; bucket: string; key: string; uploadId: string }
    | { name: "ListParts"; bucket: string; key: string; uploadId: string; maxParts: number; partNumberMarker: number };

export type S3OperationName = S3Operation["name"];

/** The IAM action and resource S3 authorizes an operation as, with its condition keys. */
export interface S3Authorization {
    action: string;
    resource: string;
    context: Record<string, string | string[]>;
}

/** Where a request is addressed: path-style (`/<bucket>/<key>`) or virtual-hosted (`<bucket>.s3.<region>.amazonaws.com`). */
export interface S3Address {
    bucket: string;
    /** Raw (still percent-encoded) key part of the path, without its leading `/`. */
    rawKey: string;
    style: "path" | "virtual-hosted";
}

/**
 * Query parameters every operation may carry: SigV4 query authentication (with the payload hash a
 * presigner may hoist, `UNSIGNED-PAYLOAD`) and the SDK's `x-id`.
 */
const AUTH_PARAMETERS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "x-amz-content-sha256"];

/** Each operation's own query parameters (besides AUTH_PARAMETERS and `x-id`). */
const OPERATION_PARAMETERS: Record<S3OperationName, readonly string[]> = {
    GetObject: [...Object.keys(RESPONSE_OVERRIDES), "versionId"],
    HeadObject: [...Object.keys(RESPONSE_OVERRIDES), "versionId"],
    PutObject: [],
    CopyObject: [],
    DeleteObject: ["versionId"],
    DeleteObjects: ["delete"],
    ListObjectVersions: ["versions", "prefix", "delimiter", "key-marker", "version-id-marker", "max-keys", "encoding-type"],
    ListObjectsV2: ["list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner"],
    GetBucketLocation: ["location"],
    CreateMultipartUpload: ["uploads"],
    UploadPart: ["partNumber", "uploadId"],
    CompleteMultipartUpload: ["uploadId"],
    AbortMultipartUpload: ["uploadId"],
    ListParts: ["uploadId", "max-parts", "part-number-marker"],
};

/** S3 sub-resources and options of operations the local S3 does not emulate: 501, never ignored. */
const UNSUPPORTED_PARAMETERS = new Set([
    "accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory", "legal-hold", "lifecycle",
    "logging", "metadataConfiguration", "metadataTable", "metrics", "notification", "object-lock", "ownershipControls", "partNumber",
    "policy", "policyStatus", "publicAccessBlock", "renameObject", "replication", "requestPayment", "restore", "retention", "select",
    "select-type", "session", "tagging", "torrent", "uploads", "versioning", "website",
]);

/** Request headers whose meaning the local S3 does not emulate: 501 rather than silently ignored. */
const UNSUPPORTED_HEADERS = [
    "x-amz-tagging", "x-amz-tagging-directive", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold",
    "x-amz-website-redirect-location", "x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-context",
    "x-amz-write-offset-bytes", "x-amz-copy-source-range",
];

const CHECKSUM_ALGORITHMS: Record<string, StoredChecksum["algorithm"]> = { crc32: "CRC32", crc32c: "CRC32C", crc64nvme: "CRC64NVME", sha1: "SHA1", sha256: "SHA256" };

/** S3's longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** Parts per upload, and the part numbers S3 accepts. */
export const MAX_PARTS = 10_000;
/** Total `x-amz-meta-*` names and values per object (S3: 2 KB). */
const MAX_METADATA_BYTES = 2048;
/** Objects in one DeleteObjects request. */
const MAX_DELETE_KEYS = 1000;

/** Characters XML 1.0 can carry: a key outside them could not be listed, so S3 clients cannot use it. */
const XML_CHARS = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/** A key as S3 accepts it, checked so that every later step (IAM, the store, a listing) sees the same string. */
export function checkKey(key: string, what = "key"): string {
    if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) throw new S3Error(400, "KeyTooLongError", "Your key is too long", { Size: String(Buffer.byteLength(key, "utf8")), MaxSizeAllowed: String(MAX_KEY_BYTES) });
    if (!XML_CHARS.test(key)) throw invalidArgument(`The ${what} contains characters XML cannot carry; the local S3 refuses it.`);
    // A "." or ".." segment is resolved away by URL parsers and file systems along the way, so the
    // key a client means is not the key every layer sees. The local S3 refuses such keys outright.
    if (key.split("/").some((segment) => segment === "." || segment === "..")) {
        throw invalidArgument(`The local S3 does not accept a ${what} with '.' or '..' segments.`, what, key);
    }
    return key;
}

/** The region's S3 host names: `<bucket>.s3.<region>.amazonaws.com` and `s3.<region>.amazonaws.com`. */
function awsS3Host(name: string, region: string): { bucket?: string } | undefined {
    const suffixes = [`s3.${region}.amazonaws.com`, `s3-${region}.amazonaws.com`, ...(region === "us-east-1" ? ["s3.amazonaws.com"] : [])];
    for (const suffix of suffixes) {
        if (name === suffix) return {};
        if (name.endsWith(`.${suffix}`)) {
            const bucket = name.slice(0, -suffix.length - 1);
            return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) ? { bucket } : undefined;
        }
    }
    return undefined;
}

/** True when the S3 front answers this `Host`: a loopback name, or an S3 host name of the region. */
export function s3HostAccepted(host: string | undefined, region: string): boolean {
    if (isLoopbackHost(host)) return true;
    const name = host === undefined ? undefined : hostName(host);
    return name !== undefined && awsS3Host(name, region) !== undefined;
}

/** Resolves path-style and virtual-hosted addressing into bucket and raw key. */
export function s3Address(request: ReceivedRequest, region: string): S3Address {
    const name = hostName(request.headers.host ?? "") ?? "";
    const virtual = isLoopbackHost(request.headers.host) ? undefined : awsS3Host(name, region)?.bucket;
    if (virtual !== undefined) return { bucket: virtual, rawKey: request.path.slice(1), style: "virtual-hosted" };
    const [, rawBucket = "", ...rest] = request.path.split("/");
    return { bucket: decodeComponent(rawBucket, "The bucket name"), rawKey: rest.join("/"), style: "path" };
}

const header = (request: ReceivedRequest, name: string): string | undefined => request.headers[name];

/** An HTTP date (`If-Modified-Since`) as epoch ms; undefined (ignored, as S3 ignores it) when malformed. */
function httpDate(value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
}

function readConditions(request: ReceivedRequest, prefix: string): ReadConditions {
    return {
        ifMatch: header(request, `${prefix}if-match`),
        ifNoneMatch: header(request, `${prefix}if-none-match`),
        ifModifiedSince: httpDate(header(request, `${prefix}if-modified-since`)),
        ifUnmodifiedSince: httpDate(header(request, `${prefix}if-unmodified-since`)),
    };
}

/** Content headers and `x-amz-meta-*` of a write, checked against S3's rules and what is emulated. */
function objectAttributes(request: ReceivedRequest): ObjectAttributes {
    const metadata: Record<string, string> = {};
    let metadataBytes = 0;
    for (const [name, value] of Object.entries(request.headers)) {
        if (!name.startsWith("x-amz-meta-")) continue;
        const short = name.slice("x-amz-meta-".length);
        if (short === "") throw invalidArgument("A user metadata header needs a name after x-amz-meta-.");
        metadata[short] = value;
        metadataBytes += Buffer.byteLength(short) + Buffer.byteLength(value);
    }
    if (metadataBytes > MAX_METADATA_BYTES) throw new S3Error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", { Size: String(metadataBytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) });
    const acl = header(request, "x-amz-acl");
    if ((acl !== undefined && acl !== "private" && acl !== "bucket-owner-full-control") || Object.keys(request.headers).some((h) => h.startsWith("x-amz-grant-"))) {
        throw new S3Error(400, "AccessControlListNotSupported", "The bucket does not allow ACLs");
    }
    const storageClass = header(request, "x-amz-storage-class");
    if (storageClass !== undefined && storageClass !== "STANDARD") throw notImplemented(`storage class ${storageClass}`);
    const encryption = header(request, "x-amz-server-side-encryption");
    if (encryption !== undefined && encryption !== "AES256") throw notImplemented(`server-side encryption ${encryption}`);
    return {
        contentType: header(request, "content-type"),
        contentEncoding: header(request, "content-encoding"),
        contentLanguage: header(request, "content-language"),
        contentDisposition: header(request, "content-disposition"),
        cacheControl: header(request, "cache-control"),
        expires: header(request, "expires"),
        metadata,
    };
}

/** `Content-MD5` and at most one `x-amz-checksum-*` header of a body; verified against it later. */
function bodyDigests(request: ReceivedRequest): BodyDigests {
    const md5 = header(request, "content-md5");
    if (md5 !== undefined && (!/^[A-Za-z0-9+/]{22}==$/.test(md5) || Buffer.from(md5, "base64").length !== 16)) {
        throw new S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    const found = Object.keys(CHECKSUM_ALGORITHMS).filter((name) => header(request, `x-amz-checksum-${name}`) !== undefined);
    if (found.length > 1) throw new S3Error(400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    const declared = header(request, "x-amz-sdk-checksum-algorithm");
    if (declared !== undefined && (found.length === 0 || CHECKSUM_ALGORITHMS[found[0]] !== declared.toUpperCase())) {
        throw new S3Error(400, "InvalidRequest", `x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.`);
    }
    if (header(request, "x-amz-trailer") !== undefined) throw notImplemented("trailing checksums (x-amz-trailer)");
    if (found.length === 0) return { contentMd5: md5 };
    const value = header(request, `x-amz-checksum-${found[0]}`)!;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new S3Error(400, "InvalidRequest", `Value for x-amz-checksum-${found[0]} header is invalid.`);
    return { contentMd5: md5, checksum: { algorithm: CHECKSUM_ALGORITHMS[found[0]], value } };
}

function integerParameter(value: string, name: string, min: number, max: number): number {
    if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
        throw invalidArgument(`${name} must be an integer between ${min} and ${max}, inclusive`, name, value);
    }
    return Number(value);
}

/** What ListObjectsV2 and ListObjectVersions take alike: prefix, delimiter, max-keys and encoding-type. */
function listingParameters(query: Record<string, string>) {
    const prefix = query.prefix ?? "";
    if (prefix !== "") checkKey(prefix, "prefix");
    const encoding = query["encoding-type"];
    if (encoding !== undefined && encoding !== "url") throw invalidArgument("Invalid Encoding Method specified in Request", "encoding-type", encoding);
    return {
        prefix,
        delimiter: query.delimiter === "" ? undefined : query.delimiter,
        maxKeys: query["max-keys"] === undefined ? 1000 : Math.min(1000, integerParameter(query["max-keys"], "max-keys", 0, 2147483647)),
        maxKeysGiven: query["max-keys"] !== undefined,
        encodeUrl: encoding === "url",
    };
}

/** Which operation a request is, from its method, whether it names a key, its sub-resources and headers. */
function operationName(method: string, hasKey: boolean, query: Record<string, string>, request: ReceivedRequest): S3OperationName {
    const has = (name: string) => name in query;
    const unsupported = Object.keys(query).find((name) => UNSUPPORTED_PARAMETERS.has(name));
    if (!hasKey) {
        if (method === "GET" && has("location")) return "GetBucketLocation";
        if (method === "GET" && has("versions")) return "ListObjectVersions";
        if (method === "POST" && has("delete")) return "DeleteObjects";
        if (method === "GET" && !unsupported) {
            if (query["list-type"] === "2") return "ListObjectsV2";
            throw notImplemented("ListObjects (version 1); use ListObjectsV2");
        }
        if (!["GET", "HEAD", "PUT", "POST", "DELETE"].includes(method)) throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
        throw notImplemented(`${method} on a bucket${unsupported ? ` with ?${unsupported}` : ""}`);
    }
    const copySource = header(request, "x-amz-copy-source") !== undefined;
    switch (method) {
        case "GET":
            if (has("uploadId")) return "ListParts";
            if (unsupported) throw notImplemented(`GetObject with ?${unsupported}`);
            return "GetObject";
        case "HEAD":
            if (unsupported) throw notImplemented(`HeadObject with ?${unsupported}`);
            return "HeadObject";
        case "PUT":
            if (has("uploadId") || has("partNumber")) {
                if (copySource) throw notImplemented("UploadPartCopy");
                return "UploadPart";
            }
            if (unsupported) throw notImplemented(`PUT with ?${unsupported}`);
            return copySource ? "CopyObject" : "PutObject";
        case "POST":
            if (has("uploads")) return "CreateMultipartUpload";
            if (has("uploadId")) return "CompleteMultipartUpload";
            throw notImplemented(`POST on an object${unsupported ? ` with ?${unsupported}` : ""}`);
        case "DELETE":
            if (has("uploadId")) return "AbortMultipartUpload";
            if (unsupported) throw notImplemented(`DELETE with ?${unsupported}`);
            return "DeleteObject";
        default:
            throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    }
}

/**
 * Parses a request into exactly one S3 operation of the allow-list, everything validated before
 * any signature, policy or store sees it: the key (at most 1,024 UTF-8 bytes, no dot segments,
 * characters XML can carry), each query parameter (only the operation's own, each once), the
 * upload id (the store's own format), the part number (1–10,000), the copy source, the headers
 * whose meaning is not emulated (501). XML bodies are parsed separately, after the signature
 * check (`withBody`). Throws S3Error.
 */
export function parseS3Request(request: ReceivedRequest, region: string): S3Operation {
    const address = s3Address(request, region);
    const bucket = address.bucket;
    const key = address.rawKey === "" ? "" : checkKey(decodeS3(address.rawKey, "The object key"));
    const queryAuth = request.query["X-Amz-Signature"] !== undefined || request.query["X-Amz-Algorithm"] !== undefined;
    if (queryAuth && request.headers.authorization !== undefined) throw invalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", "Authorization", request.headers.authorization);

    // Each parameter once. In a presigned request, `x-amz-*` parameters are hoisted headers.
    const query: Record<string, string> = Object.create(null);
    for (const [name, value] of request.params) {
        if (name in query) throw invalidArgument(`The query parameter ${name} appears more than once.`, name, value);
        query[name] = value;
    }
    if (queryAuth) {
        for (const [name, value] of Object.entries(query)) {
            if (!/^x-amz-(meta-.+|checksum-[a-z0-9]+|sdk-checksum-algorithm|acl|storage-class|server-side-encryption)$/.test(name)) continue;
            if (request.headers[name] === undefined) request.headers[name] = value;
            delete query[name];
        }
    }
    const unsupportedHeader = UNSUPPORTED_HEADERS.find((name) => request.headers[name] !== undefined);
    if (unsupportedHeader) throw notImplemented(`the ${unsupportedHeader} header`);
    const expectedOwner = request.headers["x-amz-expected-bucket-owner"];

    const name = operationName(request.method, key !== "", query, request);
    const allowed = new Set([...OPERATION_PARAMETERS[name], ...AUTH_PARAMETERS, "x-id"]);
    for (const parameter of Object.keys(query)) {
        if (!allowed.has(parameter)) {
            if (UNSUPPORTED_PARAMETERS.has(parameter)) throw notImplemented(`${name} with ?${parameter}`);
            throw invalidArgument(`${name} does not take the query parameter ${parameter}.`, parameter, query[parameter]);
        }
    }
    const uploadId = () => {
        const value = query.uploadId;
        if (!UPLOAD_ID_PATTERN.test(value)) throw new S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", { UploadId: value });
        return value;
    };
    const ifNoneMatch = () => {
        const value = header(request, "if-none-match");
        if (value === undefined) return false;
        if (value.trim() !== "*") throw notImplemented("If-None-Match with a value other than * on a write");
        return true;
    };
    const versionId = () => (query.versionId === undefined ? undefined : checkVersionId(query.versionId));
    const operation = ((): S3Operation => {
        switch (name) {
            case "GetObject":
            case "HeadObject": {
                const overrides: Record<string, string> = {};
                for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) if (query[parameter] !== undefined) overrides[header] = query[parameter];
                return { name, bucket, key, versionId: versionId(), range: header(request, "range"), conditions: readConditions(request, ""), overrides, checksumMode: header(request, "x-amz-checksum-mode") === "ENABLED" };
            }
            case "PutObject":
                return { name, bucket, key, attributes: objectAttributes(request), digests: bodyDigests(request), ifNoneMatch: ifNoneMatch(), ifMatch: header(request, "if-match") };
            case "CopyObject": {
                const directive = header(request, "x-amz-metadata-directive") ?? "COPY";
                if (directive !== "COPY" && directive !== "REPLACE") throw invalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", directive);
                if (header(request, "if-match") !== undefined) throw notImplemented("If-Match on CopyObject");
                return {
                    name,
                    bucket,
                    key,
                    source: copySource(header(request, "x-amz-copy-source")!),
                    replace: directive === "REPLACE",
                    attributes: objectAttributes(request),
                    sourceConditions: readConditions(request, "x-amz-copy-source-"),
                    ifNoneMatch: ifNoneMatch(),
                };
            }
            case "DeleteObject":
                return { name, bucket, key, versionId: versionId() };
            case "DeleteObjects":
                if (query.delete !== "") throw invalidArgument("The delete parameter takes no value.", "delete", query.delete);
                // The keys come from the body, parsed after the signature check (`withBody`).
                return { name, bucket, keys: [], objects: [], quiet: false, digests: bodyDigests(request) };
            case "ListObjectVersions": {
                if (query.versions !== "") throw invalidArgument("The versions parameter takes no value.", "versions", query.versions);
                const listing = listingParameters(query);
                const keyMarker = query["key-marker"] === "" ? undefined : query["key-marker"];
                if (keyMarker !== undefined) checkKey(keyMarker, "key-marker");
                const versionIdMarker = query["version-id-marker"] === "" ? undefined : query["version-id-marker"];
                if (versionIdMarker !== undefined) {
                    if (keyMarker === undefined) throw invalidArgument("A version-id marker cannot be specified without a key marker.", "version-id-marker", versionIdMarker);
                    checkVersionId(versionIdMarker);
                }
                return {
                    name,
                    bucket,
                    ...listing,
                    keyMarker,
                    versionIdMarker,
                };
            }
            case "ListObjectsV2": {
                const listing = listingParameters(query);
                const fetchOwner = query["fetch-owner"];
                if (fetchOwner !== undefined && fetchOwner !== "true" && fetchOwner !== "false") throw invalidArgument("Invalid fetch-owner value", "fetch-owner", fetchOwner);
                const startAfter = query["start-after"];
                if (startAfter !== undefined) checkKey(startAfter, "start-after");
                return {
                    name,
                    bucket,
                    ...listing,
                    continuationToken: query["continuation-token"],
                    startAfter,
                    fetchOwner: fetchOwner === "true",
                };
            }
            case "GetBucketLocation":
                return { name, bucket };
            case "CreateMultipartUpload": {
                const algorithm = header(request, "x-amz-checksum-algorithm");
                if (algorithm !== undefined && !Object.values(CHECKSUM_ALGORITHMS).includes(algorithm.toUpperCase() as StoredChecksum["algorithm"])) {
                    throw invalidArgument("Checksum algorithm provided is unsupported.", "x-amz-checksum-algorithm", algorithm);
                }
                return { name, bucket, key, attributes: objectAttributes(request), checksumAlgorithm: algorithm?.toUpperCase() as StoredChecksum["algorithm"] | undefined };
            }
            case "UploadPart":
                if (query.partNumber === undefined || query.uploadId === undefined) throw invalidArgument("UploadPart needs both partNumber and uploadId.");
                return { name, bucket, key, partNumber: integerParameter(query.partNumber, "partNumber", 1, MAX_PARTS), uploadId: uploadId(), digests: bodyDigests(request) };
            case "CompleteMultipartUpload":
                return { name, bucket, key, uploadId: uploadId(), parts: [], ifNoneMatch: ifNoneMatch() };
            case "AbortMultipartUpload":
                return { name, bucket, key, uploadId: uploadId() };
            case "ListParts":
                return {
                    name,
                    bucket,
                    key,
                    uploadId: uploadId(),
                    maxParts: query["max-parts"] === undefined ? 1000 : Math.min(1000, integerParameter(query["max-parts"], "max-parts", 0, 2147483647)),
                    partNumberMarker: query["part-number-marker"] === undefined ? 0 : integerParameter(query["part-number-marker"], "part-number-marker", 0, MAX_PARTS),
                };
        }
    })();
    if (expectedOwner !== undefined && !/^\d{12}$/.test(expectedOwner)) throw invalidArgument("x-amz-expected-bucket-owner must be an account id.", "x-amz-expected-bucket-owner", expectedOwner);
    return operation;
}

/** Percent-decoding for S3 paths: a malformed escape or invalid UTF-8 is S3's 400 InvalidURI. */
function decodeS3(text: string, what: string): string {
    try {
        return decodeComponent(text, what);
    } catch (error) {
        if (error instanceof MalformedRequest) throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
        throw error;
    }
}

/** A version id of the store's shape, or S3's 400 "Invalid version id specified". */
function checkVersionId(value: string): string {
    if (!VERSION_ID_PATTERN.test(value)) throw invalidArgument("Invalid version id specified", "versionId", value);
    return value;
}

/**
 * `x-amz-copy-source`: `[/]<bucket>/<url-encoded key>`, optionally `?versionId=…`. Anything else
 * after a `?` is refused, and the key is checked like any key, so the source that is authorized is
 * the source that is read.
 */
export function copySource(header: string): { bucket: string; key: string; versionId?: string } {
    const invalid = () => invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.", "x-amz-copy-source", header);
    let value = header.trim();
    const question = value.indexOf("?");
    let versionId: string | undefined;
    if (question >= 0) {
        const version = /^versionId=([^&]*)$/.exec(value.slice(question + 1));
        if (!version) throw invalid();
        versionId = checkVersionId(version[1]);
        value = value.slice(0, question);
    }
    if (value.startsWith("/")) value = value.slice(1);
    let decoded: string;
    try {
        decoded = decodeComponent(value, "x-amz-copy-source");
    } catch {
        throw invalid();
    }
    if (decoded.startsWith("arn:")) throw notImplemented("copying from an access point");
    const slash = decoded.indexOf("/");
    if (slash <= 0 || slash === decoded.length - 1) throw invalid();
    return { bucket: decoded.slice(0, slash), key: checkKey(decoded.slice(slash + 1), "copy source key"), ...(versionId !== undefined ? { versionId } : {}) };
}

const xmlParser = new XMLParser({
    ignoreAttributes: true,
    ignoreDeclaration: true,
    parseTagValue: false,
    trimValues: false,
    processEntities: true,
    // Numeric character references (&#46;) are XML; fast-xml-parser decodes them with its HTML entities.
    htmlEntities: true,
    isArray: (_name, jpath) => jpath === "Delete.Object" || jpath === "CompleteMultipartUpload.Part",
});

/** Parses an XML body with a real parser: well-formed, no DTD, only XML's own entities. */
function parseXml(body: Buffer): Record<string, any> {
    const text = body.toString("utf8");
    if (!Buffer.from(text, "utf8").equals(body)) throw malformedXml();
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformedXml();
    for (const [, entity] of text.matchAll(/&([^;\s<&]*);/g)) {
        if (!/^(lt|gt|amp|apos|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6})$/.test(entity)) throw malformedXml();
    }
    if (XMLValidator.validate(text) !== true) throw malformedXml();
    return xmlParser.parse(text);
}

/** The text of an element that must hold text only (no child elements); MalformedXML otherwise. */
function text(value: unknown): string {
    if (typeof value !== "string") throw malformedXml();
    return value;
}

/** Only whitespace between elements, and only the expected child elements. */
function onlyElements(node: unknown, allowed: string[]): Record<string, unknown> {
    if (node === "") return {};
    if (node === null || typeof node !== "object" || Array.isArray(node)) throw malformedXml();
    for (const [name, value] of Object.entries(node)) {
        if (name === "#text") {
            if (typeof value !== "string" || value.trim() !== "") throw malformedXml();
            continue;
        }
        if (!allowed.includes(name)) throw malformedXml();
    }
    return node as Record<string, unknown>;
}

/**
 * Completes an operation whose input is in its XML body (DeleteObjects' keys, the parts of a
 * CompleteMultipartUpload), with the one parse that both authorization and execution use.
 */
export function withBody(operation: S3Operation, body: Buffer): S3Operation {
    if (operation.name === "DeleteObjects") {
        const root = onlyElements(parseXml(body), ["Delete"]);
        const doc = onlyElements(root.Delete, ["Object", "Quiet"]);
        const objects = (doc.Object ?? []) as unknown[];
        if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml();
        const entries = objects.map((object) => {
            const element = onlyElements(object, ["Key", "VersionId", "ETag", "LastModifiedTime", "Size"]);
            if (element.ETag !== undefined || element.LastModifiedTime !== undefined || element.Size !== undefined) throw notImplemented("conditional deletes in DeleteObjects");
            const key = text(element.Key);
            if (key === "") throw new S3Error(400, "UserKeyMustBeSpecified", "The request was not valid: a key must be specified.");
            return { key: checkKey(key), ...(element.VersionId !== undefined ? { versionId: checkVersionId(text(element.VersionId)) } : {}) };
        });
        const quiet = doc.Quiet === undefined ? "false" : text(doc.Quiet).trim();
        if (quiet !== "true" && quiet !== "false") throw malformedXml();
        return { ...operation, keys: entries.map((e) => e.key), objects: entries, quiet: quiet === "true" };
    }
    if (operation.name === "CompleteMultipartUpload") {
        const root = onlyElements(parseXml(body), ["CompleteMultipartUpload"]);
        const doc = onlyElements(root.CompleteMultipartUpload, ["Part"]);
        const parts = ((doc.Part ?? []) as unknown[]).map((part) => {
            const element = onlyElements(part, ["PartNumber", "ETag", "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"]);
            const number = text(element.PartNumber).trim();
            if (!/^\d{1,5}$/.test(number) || Number(number) < 1 || Number(number) > MAX_PARTS) throw new S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
            return { partNumber: Number(number), etag: text(element.ETag).trim() };
        });
        if (parts.length === 0) throw malformedXml();
        return { ...operation, parts };
    }
    return operation;
}

/** The IAM authorizations S3 needs for an operation: every one must be allowed. */
export function s3Authorizations(operation: S3Operation): S3Authorization[] {
    const bucketArn = `arn:aws:s3:::${operation.bucket}`;
    const object = (action: string, key: string, bucket = operation.bucket): S3Authorization => ({ action, resource: `arn:aws:s3:::${bucket}/${key}`, context: {} });
    switch (operation.name) {
        case "GetObject":
        case "HeadObject":
            return [object(operation.versionId === undefined ? "s3:GetObject" : "s3:GetObjectVersion", operation.key)];
        case "PutObject":
        case "CreateMultipartUpload":
        case "UploadPart":
        case "CompleteMultipartUpload":
            return [object("s3:PutObject", operation.key)];
        case "CopyObject":
            return [object("s3:PutObject", operation.key), object(operation.source.versionId === undefined ? "s3:GetObject" : "s3:GetObjectVersion", operation.source.key, operation.source.bucket)];
        case "DeleteObject":
            return [object(operation.versionId === undefined ? "s3:DeleteObject" : "s3:DeleteObjectVersion", operation.key)];
        case "DeleteObjects":
            return operation.objects.map(({ key, versionId }) => object(versionId === undefined ? "s3:DeleteObject" : "s3:DeleteObjectVersion", key));
        case "AbortMultipartUpload":
            return [object("s3:AbortMultipartUpload", operation.key)];
        case "ListParts":
            return [object("s3:ListMultipartUploadParts", operation.key)];
        case "GetBucketLocation":
            return [{ action: "s3:GetBucketLocation", resource: bucketArn, context: {} }];
        case "ListObjectsV2":
        case "ListObjectVersions": {
            const context: Record<string, string> = { "s3:prefix": operation.prefix };
            if (operation.delimiter !== undefined) context["s3:delimiter"] = operation.delimiter;
            if (operation.maxKeysGiven) context["s3:max-keys"] = String(operation.maxKeys);
            return [{ action: operation.name === "ListObjectsV2" ? "s3:ListBucket" : "s3:ListBucketVersions", resource: bucketArn, context }];
        }
    }
}
