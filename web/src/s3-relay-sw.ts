/**
 * Service worker of the locally served client. Amplify Storage always talks to
 * `https://<bucket>.s3.<region>.amazonaws.com` (it takes no local endpoint). This worker sends the
 * requests for that one host name, signature untouched, to the local web server's relay path,
 * which forwards them to the local S3 with the original Host header (the signature covers it).
 * Registered as `s3-relay-sw.js?host=<bucket host>&relay=<path>`; every other request passes by.
 */

// Typed with the DOM library; the few service-worker types this file uses are declared here.
interface FetchEvent extends Event {
    readonly request: Request;
    respondWith(response: Promise<Response>): void;
}
interface ExtendableEvent extends Event {
    waitUntil(promise: Promise<unknown>): void;
}
interface ServiceWorkerScope {
    location: Location;
    addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
    addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
    skipWaiting(): Promise<void>;
    clients: { claim(): Promise<void> };
}
const worker = self as unknown as ServiceWorkerScope;

const params = new URL(worker.location.href).searchParams;
const host = params.get("host");
const relay = params.get("relay");

worker.addEventListener("install", (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener("fetch", (event) => {
    const url = new URL(event.request.url);
    if (!host || !relay || url.protocol !== "https:" || url.host !== host) return;
    event.respondWith(relayed(event.request, url));
});

async function relayed(request: Request, url: URL): Promise<Response> {
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    return fetch(`${worker.location.origin}${relay}${url.pathname.replace(/^\//, "")}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: hasBody ? await request.arrayBuffer() : undefined,
        signal: request.signal,
        cache: "no-store",
        redirect: "manual",
    });
}
