/**
 * What every response of the reference client carries, wherever it is served: CloudFront's
 * response headers policy (components/site.ts) and `npm start`'s web server (web/server.ts) both
 * take their headers from here, so a Content-Security-Policy mistake fails locally, in the browser
 * test, before it ships.
 *
 * The policy is delivered in two parts, and the browser enforces both (a request must pass each):
 * - the **header** (`headerPolicy()`), the same for every stack: everything but `connect-src`, with
 *   `frame-ancestors 'none'`, which works only in a header;
 * - a **`<meta>` in index.html** (`documentPolicy(connectSources(config))`), written per stack with
 *   the content: the same directives plus `default-src 'none'` and the stack's exact `connect-src`
 *   (no `'self'` where deployed: the page's configuration is in index.html, not fetched).
 * The header cannot name the API: the API's CORS names the site's origin, so a header naming the
 * API would make the distribution wait for the API and the API for the distribution. index.html is
 * an object in the bucket, created after both, so it can name anything.
 */
import { bucketHost, type WebClientConfig } from "./src/config";

/** HSTS: two years (the hstspreload.org minimum), subdomains included. */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;
export const FRAME_OPTION = "DENY";
export const REFERRER_POLICY = "strict-origin-when-cross-origin";

/**
 * Directives both parts carry. No `'unsafe-inline'` or `'unsafe-eval'` anywhere: the page has no
 * inline script or style, and Amplify JS v6 needs neither. (Its configuration is a JSON data block,
 * `<script type="application/json">`: never executed, so `script-src` does not govern it.) `data:` images: index.html's empty
 * favicon (`data:,`), which keeps browsers from asking for /favicon.ico. `worker-src 'self'`: the
 * local client's S3 relay (a service worker, web/src/s3-relay-sw.ts).
 */
const SHARED_DIRECTIVES: readonly (readonly [string, readonly string[]])[] = [
    ["script-src", ["'self'"]],
    ["style-src", ["'self'"]],
    ["img-src", ["'self'", "data:"]],
    ["font-src", ["'self'"]],
    ["media-src", ["'none'"]],
    ["manifest-src", ["'self'"]],
    ["worker-src", ["'self'"]],
    ["frame-src", ["'none'"]],
    ["object-src", ["'none'"]],
    ["base-uri", ["'self'"]],
    ["form-action", ["'self'"]],
];

function render(directives: readonly (readonly [string, readonly string[]])[]): string {
    return directives.map(([name, sources]) => `${name} ${sources.join(" ")}`).join("; ");
}

/**
 * The Content-Security-Policy header: no `default-src` and no `connect-src`, which would otherwise
 * cap the document's `connect-src` (two policies are enforced together, so the stricter wins).
 */
export function headerPolicy(): string {
    return render([...SHARED_DIRECTIVES, ["frame-ancestors", ["'none'"]]]);
}

/** The `<meta>` policy of index.html: everything not listed is refused (`default-src 'none'`). */
export function documentPolicy(connect: readonly string[]): string {
    return render([["default-src", ["'none'"]], ["connect-src", connect], ...SHARED_DIRECTIVES]);
}

/** The DNS suffix of AWS endpoints in a Region (`amazonaws.com.cn` in China). */
function dnsSuffix(region: string): string {
    return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/**
 * Everything the page may fetch: exactly the origins of the stack a browser calls, the API, the
 * regional Cognito User Pool and Identity endpoints (the local ones when the config names them),
 * the uploads bucket's host, which Amplify Storage always calls, and, when the stack has sign-in
 * providers (`oauth`), the managed login, whose `/oauth2/token` Amplify calls to finish a redirect
 * sign-in. No `'self'` for the deployed client: the page reads its configuration from index.html
 * itself (`withConfig`, web/build.ts), so it fetches nothing from its own origin.
 *
 * Locally (`s3Relay`, only ever set by `npm start`) the list ends with `'self'`: the service worker
 * answers the page's requests for the bucket's host with the web server's responses from
 * `<page origin>/s3-relay/…`, and browsers check a response's final URL against `connect-src`
 * too (Chromium refuses the relayed PutObject without it).
 */
export function connectSources(config: Pick<WebClientConfig, "region" | "apiUrl" | "bucketName" | "endpoints" | "oauth" | "s3Relay">): string[] {
    const suffix = dnsSuffix(config.region);
    return [
        new URL(config.apiUrl).origin,
        new URL(config.endpoints?.cognitoIdp ?? `https://cognito-idp.${config.region}.${suffix}`).origin,
        new URL(config.endpoints?.cognitoIdentity ?? `https://cognito-identity.${config.region}.${suffix}`).origin,
        `https://${bucketHost(config)}`,
        ...(config.oauth ? [new URL(`https://${config.oauth.domain}`).origin] : []),
        ...(config.s3Relay ? ["'self'"] : []),
    ];
}

/** The security headers of every response, as HTTP header lines (lower-case names). */
export function securityHeaders(): Record<string, string> {
    return {
        "strict-transport-security": `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`,
        "x-content-type-options": "nosniff",
        "x-frame-options": FRAME_OPTION,
        "referrer-policy": REFERRER_POLICY,
        "content-security-policy": headerPolicy(),
    };
}

/** Puts the document policy in index.html, first in `<head>` after the charset (it governs only what follows it). */
export function withDocumentPolicy(html: string, policy: string): string {
    const charset = /<meta charset="utf-8">\n?/i;
    if (!charset.test(html)) throw new Error('index.html must start its <head> with <meta charset="utf-8">: the policy goes right after it');
    const escaped = policy.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
    return html.replace(charset, (found) => `${found}    <meta http-equiv="Content-Security-Policy" content="${escaped}">\n`);
}

/** Content types of the client's files (by extension). */
export const CONTENT_TYPES: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
};

export function contentTypeOf(file: string): string {
    const dot = file.lastIndexOf(".");
    return CONTENT_TYPES[dot >= 0 ? file.slice(dot) : ""] ?? "application/octet-stream";
}

/** Content-hashed files never change under their name: a year, and no revalidation. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** Files whose name stays while their content changes (index.html, config.json …): always revalidate. */
export const REVALIDATE = "no-cache";
