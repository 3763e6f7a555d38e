/**
 * A loopback HTTP server answering the four non-DynamoDB calls of the account function as S3,
 * Cognito Identity and Cognito User Pools answer them on the wire (ListObjectVersions,
 * DeleteObjects, DeleteIdentities, AdminDeleteUser), over an in-memory state. The real SDK clients
 * of handlers/account-s3.ts and handlers/account-cognito.ts talk to it through the SDK's standard
 * endpoint variables, so a test covers their wiring without the local cloud.
 */
import { createServer, IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { XMLParser } from "fast-xml-parser";

export interface FakeAws {
    endpoint: string;
    /** Keys with their version ids, by bucket key. */
    objects: Map<string, string[]>;
    identities: Set<string>;
    users: Set<string>;
    /** `<operation> <detail>` per request, in order. */
    requests: string[];
    stop(): Promise<void>;
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function body(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeAws(bucket: string): Promise<FakeAws> {
    const state = { objects: new Map<string, string[]>(), identities: new Set<string>(), users: new Set<string>(), requests: [] as string[] };
    const server: Server = createServer(async (request, response) => {
        const url = new URL(request.url ?? "/", "http://localhost");
        const text = await body(request);
        const target = String(request.headers["x-amz-target"] ?? "");
        const onBucket = url.pathname === `/${bucket}` || url.pathname === `/${bucket}/`;
        const json = (status: number, value: unknown) => {
            response.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
            response.end(JSON.stringify(value));
        };
        if (target === "AWSCognitoIdentityService.DeleteIdentities") {
            const ids: string[] = JSON.parse(text).IdentityIdsToDelete;
            state.requests.push(`DeleteIdentities ${ids.join(",")}`);
            for (const id of ids) state.identities.delete(id);
            return json(200, { UnprocessedIdentityIds: [] });
        }
        if (target === "AWSCognitoIdentityProviderService.AdminDeleteUser") {
            const { UserPoolId, Username } = JSON.parse(text);
            state.requests.push(`AdminDeleteUser ${UserPoolId} ${Username}`);
            if (!state.users.delete(Username)) return json(400, { __type: "UserNotFoundException", message: "User does not exist." });
            return json(200, {});
        }
        if (onBucket && request.method === "GET" && url.searchParams.has("versions")) {
            const prefix = url.searchParams.get("prefix") ?? "";
            state.requests.push(`ListObjectVersions ${prefix}`);
            const entries = [...state.objects].filter(([key]) => key.startsWith(prefix)).flatMap(([key, versions]) => versions.map((id) => ({ key, id })));
            const max = Number(url.searchParams.get("max-keys") ?? 1000);
            const page = entries.slice(0, max);
            response.writeHead(200, { "content-type": "application/xml" });
            return response.end(
                `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix>` +
                    `<IsTruncated>${entries.length > max}</IsTruncated>` +
                    (entries.length > max ? `<NextKeyMarker>${xml(page[page.length - 1].key)}</NextKeyMarker><NextVersionIdMarker>${page[page.length - 1].id}</NextVersionIdMarker>` : "") +
                    page.map((e) => `<Version><Key>${xml(e.key)}</Key><VersionId>${e.id}</VersionId><IsLatest>true</IsLatest></Version>`).join("") +
                    `</ListVersionsResult>`,
            );
        }
        if (onBucket && request.method === "POST" && url.searchParams.has("delete")) {
            const parsed = new XMLParser({ isArray: (name) => name === "Object" }).parse(text);
            const objects: { Key: string; VersionId?: string }[] = parsed.Delete.Object;
            state.requests.push(`DeleteObjects ${objects.length}`);
            for (const { Key, VersionId } of objects) {
                const left = (state.objects.get(Key) ?? []).filter((id) => id !== VersionId);
                if (left.length > 0) state.objects.set(Key, left);
                else state.objects.delete(Key);
            }
            response.writeHead(200, { "content-type": "application/xml" });
            return response.end(`<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`);
        }
        state.requests.push(`unexpected ${request.method} ${request.url} ${target}`);
        response.writeHead(501);
        response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        ...state,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
