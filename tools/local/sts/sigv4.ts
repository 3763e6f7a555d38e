import { Sha256 } from "@aws-sdk/checksums/sha";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, timingSafeEqual } from "node:crypto";
import type { ReceivedRequest } from "../server";
import type { SessionCredentials } from "./credentials";

export type VerifyFailure =
    | "MissingAuthentication"
    | "IncompleteSignature"
    | "InvalidAccessKey"
    | "InvalidToken"
    | "ExpiredToken"
    | "SignatureExpired"
    | "WrongScope"
    | "ContentHashMismatch"
    | "UnsupportedPayload"
    | "InvalidPayloadHash"
    | "SignatureDoesNotMatch";

/**
 * The error type AWS's JSON services (HTTP APIs, DynamoDB, Cognito) answer for each way a
 * signature can fail (`x-amzn-errortype`, `__type`).
 */
export const SIGNATURE_ERROR_TYPES: Record<VerifyFailure, string> = {
    MissingAuthentication: "MissingAuthenticationTokenException",
    IncompleteSignature: "IncompleteSignatureException",
    InvalidAccessKey: "UnrecognizedClientException",
    InvalidToken: "UnrecognizedClientException",
    ExpiredToken: "ExpiredTokenException",
    SignatureExpired: "InvalidSignatureException",
    WrongScope: "InvalidSignatureException",
    ContentHashMismatch: "InvalidSignatureException",
    UnsupportedPayload: "InvalidSignatureException",
    InvalidPayloadHash: "InvalidSignatureException",
    SignatureDoesNotMatch: "InvalidSignatureException",
};

/**
 * The error type and message DynamoDB and Cognito answer (HTTP 400) for a failed signature; they
 * word only the missing token differently, and name their own service in the scope error.
 */
export function jsonSignatureError(failure: VerifyFailure, service: string, missingToken: string): [type: string, message: string] {
    const mismatch = "The request signature we calculated does not match the signature you provided.";
    const messages: Record<VerifyFailure, string> = {
        MissingAuthentication: missingToken,
        IncompleteSignature: "The request signature does not conform to AWS standards.",
        InvalidAccessKey: "The security token included in the request is invalid.",
        InvalidToken: "The security token included in the request is invalid.",
        ExpiredToken: "The security token included in the request is expired",
        SignatureExpired: "Signature expired.",
        WrongScope: `Credential should be scoped to a valid region and to service '${service}'.`,
        ContentHashMismatch: mismatch,
        UnsupportedPayload: mismatch,
        InvalidPayloadHash: mismatch,
        SignatureDoesNotMatch: `${mismatch} Check your AWS Secret Access Key and signing method. Consult the service documentation for details.`,
    };
    return [SIGNATURE_ERROR_TYPES[failure], messages[failure]];
}

/** What a signature is checked against: an access key's secret, and its session token when it has one. */
export interface SigningKey {
    secretAccessKey: string;
    /** Temporary credentials only: a request signed with them must carry this token. */
    sessionToken?: string;
    /** Epoch milliseconds; long-term keys (no value) never expire. */
    expiration?: number;
}

export type VerifyResult<K extends SigningKey = SessionCredentials> =
    | { ok: true; session: K; signedBy: "header" | "query" }
    | { ok: false; failure: VerifyFailure; detail: string };

export interface VerifyOptions<K extends SigningKey = SessionCredentials> {
    service: "execute-api" | "s3" | "dynamodb" | "cognito-idp" | "cognito-identity";
    region: string;
    /** The keys the local cloud issued (a `CredentialStore`, or the local admin key). */
    store: { get(accessKeyId: string): K | undefined };
    /** Clock (epoch ms) for the expiry checks; tests move it. */
    now?: number;
}

/** How far x-amz-date may be from the server clock (AWS: 15 minutes). */
const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** `20240102T030405Z` -> Date. */
export function parseAmzDate(value: string | undefined): Date | undefined {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

export function formatAmzDate(date: Date): string {
    return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

interface ParsedAuth {
    accessKeyId: string;
    scopeDate: string;
    scopeRegion: string;
    scopeService: string;
    signedHeaders: string[];
    signature: string;
    amzDate?: string;
    sessionToken?: string;
    expiresIn?: number;
}

function parseAuthorization(request: ReceivedRequest): ParsedAuth | { ok: false; failure: VerifyFailure; detail: string } | undefined {
    const header = request.headers.authorization;
    const q = (key: string) => {
        const value = request.query[key];
        return Array.isArray(value) ? value[0] : value;
    };
    let credential: string | undefined;
    let signedHeaders: string | undefined;
    let signature: string | undefined;
    let amzDate: string | undefined;
    let sessionToken: string | undefined;
    let expiresIn: number | undefined;
    if (header !== undefined) {
        if (!header.startsWith("AWS4-HMAC-SHA256 ")) {
            return { ok: false, failure: "IncompleteSignature", detail: `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization=${header.split(" ")[0]}` };
        }
        const fields = Object.fromEntries(
            header
                .slice("AWS4-HMAC-SHA256 ".length)
                .split(",")
                .map((part) => part.trim().split("=", 2) as [string, string]),
        );
        credential = fields.Credential;
        signedHeaders = fields.SignedHeaders;
        signature = fields.Signature;
        amzDate = request.headers["x-amz-date"];
        sessionToken = request.headers["x-amz-security-token"];
    } else if (q("X-Amz-Algorithm") !== undefined) {
        if (q("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") {
            return { ok: false, failure: "IncompleteSignature", detail: "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"" };
        }
        credential = q("X-Amz-Credential");
        signedHeaders = q("X-Amz-SignedHeaders");
        signature = q("X-Amz-Signature");
        amzDate = q("X-Amz-Date");
        sessionToken = q("X-Amz-Security-Token");
        expiresIn = Number(q("X-Amz-Expires"));
        if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604800) {
            return { ok: false, failure: "IncompleteSignature", detail: "X-Amz-Expires must be a whole number of seconds between 1 and 604800" };
        }
    } else {
        return undefined;
    }
    const missing = [
        credential ? "" : "Credential",
        signedHeaders ? "" : "SignedHeaders",
        signature ? "" : "Signature",
    ].filter(Boolean);
    if (missing.length > 0) {
        return { ok: false, failure: "IncompleteSignature", detail: missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" ") };
    }
    const scope = credential!.split("/");
    if (scope.length !== 5 || scope[4] !== "aws4_request") {
        return { ok: false, failure: "IncompleteSignature", detail: `Credential should be scoped to a valid region, not '${scope[2] ?? ""}'.` };
    }
    if (!amzDate) {
        return { ok: false, failure: "IncompleteSignature", detail: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." };
    }
    return {
        accessKeyId: scope[0],
        scopeDate: scope[1],
        scopeRegion: scope[2],
        scopeService: scope[3],
        signedHeaders: signedHeaders!.split(";"),
        signature: signature!,
        amzDate,
        sessionToken,
        expiresIn,
    };
}

function sha256Hex(body: Buffer): string {
    return createHash("sha256").update(body).digest("hex");
}

function sameSignature(a: string, b: string): boolean {
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Verifies an AWS Signature Version 4 (Authorization header or presigned query) by recomputing it
 * with the AWS SDK's own signer and the secret the local cloud issued, and comparing in constant
 * time. Checks, in AWS's order: a signature is present and well formed, the key exists, the
 * session token matches, the credentials and the signature date are current, the scope names this
 * region and service, the payload hash matches the body, and the signature matches.
 */
export async function verifySigV4<K extends SigningKey = SessionCredentials>(request: ReceivedRequest, options: VerifyOptions<K>): Promise<VerifyResult<K>> {
    const parsed = parseAuthorization(request);
    if (parsed === undefined) return { ok: false, failure: "MissingAuthentication", detail: "Missing Authentication Token" };
    if ("ok" in parsed) return parsed;
    const now = options.now ?? Date.now();

    const session = options.store.get(parsed.accessKeyId);
    if (!session) return { ok: false, failure: "InvalidAccessKey", detail: `unknown access key ${parsed.accessKeyId}` };
    if (session.sessionToken !== undefined ? parsed.sessionToken === undefined || !sameSignature(parsed.sessionToken, session.sessionToken) : parsed.sessionToken !== undefined) {
        return { ok: false, failure: "InvalidToken", detail: "the session token is missing or does not belong to the access key" };
    }
    if (session.expiration !== undefined && session.expiration <= now) return { ok: false, failure: "ExpiredToken", detail: "the credentials have expired" };

    const signedAt = parseAmzDate(parsed.amzDate);
    if (!signedAt) return { ok: false, failure: "IncompleteSignature", detail: `Invalid X-Amz-Date ${parsed.amzDate}` };
    if (parsed.expiresIn !== undefined) {
        if (signedAt.getTime() - MAX_SKEW_MS > now || signedAt.getTime() + parsed.expiresIn * 1000 < now) {
            return { ok: false, failure: "SignatureExpired", detail: `Request has expired (signed ${parsed.amzDate}, valid ${parsed.expiresIn} s)` };
        }
    } else if (Math.abs(now - signedAt.getTime()) > MAX_SKEW_MS) {
        const clock = formatAmzDate(new Date(now));
        const detail =
            signedAt.getTime() < now
                ? `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(new Date(now - MAX_SKEW_MS))} (${clock} - 15 min.)`
                : `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(new Date(now + MAX_SKEW_MS))} (${clock} + 15 min.)`;
        return { ok: false, failure: "SignatureExpired", detail };
    }
    if (parsed.scopeService !== options.service) {
        return { ok: false, failure: "WrongScope", detail: `Credential should be scoped to correct service: '${options.service}'.` };
    }
    if (parsed.scopeRegion !== options.region) {
        return { ok: false, failure: "WrongScope", detail: `Credential should be scoped to a valid region, not '${parsed.scopeRegion}'.` };
    }
    if (parsed.scopeDate !== parsed.amzDate!.slice(0, 8)) {
        return { ok: false, failure: "WrongScope", detail: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.scopeDate}' != '${parsed.amzDate!.slice(0, 8)}'` };
    }

    const signed = new Set(parsed.signedHeaders);
    if (!signed.has("host")) return { ok: false, failure: "IncompleteSignature", detail: "'Host' must be a signed header" };
    const declaredHash = request.headers["x-amz-content-sha256"];
    if (declaredHash !== undefined) {
        if (/^[0-9a-f]{64}$/.test(declaredHash)) {
            const actual = request.body.length === 0 ? EMPTY_SHA256 : sha256Hex(request.body);
            if (actual !== declaredHash) {
                return { ok: false, failure: "ContentHashMismatch", detail: "The provided 'x-amz-content-sha256' header does not match what was computed." };
            }
        } else if (declaredHash !== "UNSIGNED-PAYLOAD" || options.service !== "s3") {
            // Streaming (aws-chunked) payload signing is real SigV4 that this verifier does not do; anything else is no hash at all.
            const streaming = declaredHash.startsWith("STREAMING-");
            return { ok: false, failure: streaming ? "UnsupportedPayload" : "InvalidPayloadHash", detail: `x-amz-content-sha256 ${declaredHash} is not ${streaming ? "supported here" : "a payload hash"}` };
        }
    }

    // Re-sign only what the client signed, with the secret we issued, at the client's signing time.
    const headers: Record<string, string> = {};
    for (const name of signed) if (request.headers[name] !== undefined) headers[name] = request.headers[name];
    const query = { ...request.query };
    if (parsed.expiresIn !== undefined) delete query["X-Amz-Signature"];
    let expected: string;
    try {
        const signer = new SignatureV4({
            credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: parsed.sessionToken },
            region: parsed.scopeRegion,
            service: parsed.scopeService,
            sha256: Sha256,
            uriEscapePath: options.service !== "s3",
            applyChecksum: false,
        });
        const host = request.headers.host ?? "";
        const base = { method: request.method, protocol: "http:", hostname: host, path: request.path, query, headers, body: request.body.length ? request.body : undefined };
        if (parsed.expiresIn !== undefined) {
            for (const key of ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token"]) delete query[key];
            const presigned = await signer.presign(
                { ...base, headers: { ...headers, "x-amz-content-sha256": options.service === "s3" ? "UNSIGNED-PAYLOAD" : sha256Hex(request.body) } },
                {
                    signingDate: signedAt,
                    expiresIn: parsed.expiresIn,
                    signableHeaders: signed,
                    // Presigned S3 URLs sign UNSIGNED-PAYLOAD; the header only feeds the payload hash.
                    unsignableHeaders: new Set(["x-amz-content-sha256"]),
                    unhoistableHeaders: new Set(["x-amz-content-sha256"]),
                },
            );
            expected = String(presigned.query?.["X-Amz-Signature"] ?? "");
        } else {
            const unsignable = new Set(["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].filter((name) => !signed.has(name)));
            const result = await signer.sign(base, { signingDate: signedAt, signableHeaders: signed, unsignableHeaders: unsignable });
            expected = /Signature=([0-9a-f]+)/.exec(String(result.headers.authorization))?.[1] ?? "";
        }
    } catch {
        // Something in the request the signer cannot canonicalize: it cannot match any signature.
        return { ok: false, failure: "SignatureDoesNotMatch", detail: "the request cannot be canonicalized" };
    }
    if (!sameSignature(expected, parsed.signature)) {
        return { ok: false, failure: "SignatureDoesNotMatch", detail: "signature mismatch" };
    }
    return { ok: true, session, signedBy: parsed.expiresIn !== undefined ? "query" : "header" };
}
