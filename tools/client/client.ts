import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** Temporary AWS credentials as a client holds them. */
export interface ClientCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

export interface SignedFetchOptions {
    method?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    /** Credentials to sign with; omit to send the request unsigned. */
    credentials?: ClientCredentials;
    region: string;
    service?: "execute-api" | "s3";
    /** Signing time (tests send stale signatures with it). */
    signingDate?: Date;
}

export interface SimpleResponse {
    status: number;
    headers: Headers;
    text: string;
    json<T = any>(): T;
}

/**
 * Sends an HTTP request signed with AWS Signature Version 4 by the AWS SDK's own signer, the way
 * `aws4fetch` or Amplify's `post()`/`get()` sign calls to an IAM-authorized API.
 */
export async function signedFetch(url: string, options: SignedFetchOptions): Promise<SimpleResponse> {
    const target = new URL(url);
    const method = options.method ?? "GET";
    const body = options.body === undefined ? undefined : typeof options.body === "string" ? Buffer.from(options.body) : options.body;
    let headers: Record<string, string> = { host: target.host, ...(options.headers ?? {}) };
    if (options.credentials) {
        const query: Record<string, string | string[]> = {};
        for (const [key, value] of target.searchParams) {
            const existing = query[key];
            query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
        }
        const service = options.service ?? "execute-api";
        const signer = new SignatureV4({
            credentials: options.credentials,
            region: options.region,
            service,
            sha256: Sha256,
            uriEscapePath: service !== "s3",
        });
        const signed = await signer.sign(
            { method, protocol: target.protocol, hostname: target.hostname, port: target.port ? Number(target.port) : undefined, path: target.pathname, query, headers, body },
            { signingDate: options.signingDate },
        );
        headers = signed.headers as Record<string, string>;
    }
    const { host: _host, ...sendHeaders } = headers;
    const response = await fetch(target, { method, headers: sendHeaders, body });
    const text = await response.text();
    return {
        status: response.status,
        headers: response.headers,
        text,
        json: () => JSON.parse(text),
    };
}
