/**
 * Drives Cognito's OAuth 2.0 redirect flow without a browser, as Amplify's signInWithRedirect does:
 * PKCE S256, `state`, the managed login, a provider's sign-in page, the code exchange. TLS to the
 * local managed login trusts the data directory's certificate (and nothing else).
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { certificateFiles } from "../../tools/local/cognito-idp/oauth/certificate";

export interface RawAnswer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

export function oauthHttp(dataDir: string) {
    const ca = readFileSync(certificateFiles(dataDir).cert);
    return function send(url: string, options: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
        const target = new URL(url);
        const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
        const headers = { ...(body ? { "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)) } : {}), ...options.headers };
        return new Promise((resolve, reject) => {
            const make = target.protocol === "https:" ? httpsRequest : httpRequest;
            const req = make(target, { method: options.method ?? (body ? "POST" : "GET"), headers, ...(target.protocol === "https:" ? { ca } : {}) }, (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (chunk) => (text += chunk));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
            });
            req.on("error", reject);
            req.end(body);
        });
    };
}

export function pkce(): { verifier: string; challenge: string } {
    const verifier = randomBytes(32).toString("base64url");
    return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The hidden and visible fields of the stand-in's sign-in form, as a browser would submit them. */
export function formFields(html: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
        fields[name] = value.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
    }
    return fields;
}

export const location = (answer: RawAnswer): string => {
    const value = answer.headers.location;
    if (typeof value !== "string") throw new Error(`expected a redirect, got ${answer.status}: ${answer.body.slice(0, 300)}`);
    return value;
};

/** The local-oauth stack's passphrase, published in Pulumi.local-oauth.yaml on purpose. */
export const LOCAL_OAUTH_PASSPHRASE = { PULUMI_CONFIG_PASSPHRASE: "local-oauth-not-a-secret" };
