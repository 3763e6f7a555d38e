import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ClientCredentials } from "../../tools/client/client";

/**
 * Signs a POST for `signedBody` and sends `sentBody` with the same signed headers: a body changed
 * in transit. `keepHashHeader: false` also drops `x-amz-content-sha256`, so only the signature
 * itself covers the body.
 */
export async function sendTamperedPost(
    url: string,
    credentials: ClientCredentials,
    region: string,
    signedBody: string,
    sentBody: string,
    keepHashHeader = true,
): Promise<Response> {
    const target = new URL(url);
    const signer = new SignatureV4({ credentials, region, service: "execute-api", sha256: Sha256 });
    const signed = await signer.sign({
        method: "POST",
        protocol: target.protocol,
        hostname: target.hostname,
        port: Number(target.port),
        path: target.pathname,
        query: {},
        headers: { host: target.host, "content-type": "application/json" },
        body: signedBody,
    });
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    if (!keepHashHeader) delete headers["x-amz-content-sha256"];
    return fetch(target, { method: "POST", headers, body: sentBody });
}
