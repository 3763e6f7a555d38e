import { Sha256 } from "@aws-sdk/checksums/sha";
import { SignatureV4 } from "@smithy/signature-v4";
import { connect } from "node:net";

/** What came back on a raw connection: undefined status when the server closed without answering. */
export interface RawResponse {
    status?: number;
    headers: Record<string, string>;
    body: string;
}

/**
 * Writes bytes to a fresh TCP connection and reads until the server closes it (or `timeoutMs`).
 * With `abortAfterWrite`, the connection is destroyed right after writing: a client that gives up
 * mid-request. Nothing is validated on the way out, so a test can send what no HTTP client would.
 */
export function sendRaw(port: number, bytes: Buffer | string, options: { timeoutMs?: number; abortAfterWrite?: boolean } = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        const chunks: Buffer[] = [];
        let settled = false;
        const finish = () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString("latin1");
            const split = text.indexOf("\r\n\r\n");
            const head = split >= 0 ? text.slice(0, split) : text;
            const [statusLine, ...lines] = head.split("\r\n");
            const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
            const headers: Record<string, string> = {};
            for (const line of lines) {
                const colon = line.indexOf(":");
                if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
            }
            resolve({ status: status === undefined ? undefined : Number(status), headers, body: split >= 0 ? text.slice(split + 4) : "" });
        };
        const timer = setTimeout(() => {
            socket.destroy();
            finish();
        }, options.timeoutMs ?? 10_000);
        socket.on("data", (chunk) => chunks.push(chunk));
        socket.on("close", finish);
        socket.on("error", (error: NodeJS.ErrnoException) => {
            // A reset after the server answered (or refused) is a normal end for a raw client.
            if (error.code === "ECONNRESET" || error.code === "EPIPE") return;
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                reject(error);
            }
        });
        socket.write(bytes, () => {
            if (options.abortAfterWrite) socket.destroy();
        });
    });
}

/** An HTTP/1.1 request as bytes: exactly these headers (Host included), `Connection: close`, the body as given. */
export function requestBytes(method: string, target: string, headers: [string, string][], body: Buffer = Buffer.alloc(0), contentLength: number | undefined = body.length): Buffer {
    const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([name, value]) => `${name}: ${value}`), "connection: close"];
    if (contentLength !== undefined && !headers.some(([name]) => name.toLowerCase() === "content-length" || name.toLowerCase() === "transfer-encoding")) lines.push(`content-length: ${contentLength}`);
    return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

/**
 * SigV4-signs a request the way the SDK would (headers and payload hash), for a host and path as
 * they go on the wire; returns the headers to send. Undefined when the signer cannot take it.
 */
export async function signedHeaders(
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    request: { service: string; region: string; method: string; host: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: Buffer },
): Promise<Record<string, string> | undefined> {
    try {
        const signer = new SignatureV4({ credentials, region: request.region, service: request.service, sha256: Sha256, uriEscapePath: request.service !== "s3" });
        const signed = await signer.sign({ method: request.method, protocol: "http:", hostname: request.host, path: request.path, query: request.query, headers: { ...request.headers, host: request.host }, body: request.body });
        return signed.headers as Record<string, string>;
    } catch {
        return undefined;
    }
}
