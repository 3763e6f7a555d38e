// Measures what the local gateway adds to each request: SigV4 verification plus the IAM decision,
// timed inside the gateway around exactly those two steps, over N signed requests against the
// authenticated-role policy shape the program generates. Run:
//   node -r ts-node/register/transpile-only tools/bench/gateway-overhead.ts [requests]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { signedFetch } from "../client/client";
import { CredentialStore } from "../local/sts/credentials";
import { LocalFunction } from "../local/lambda/functions";
import { LocalGateway } from "../local/apigateway/gateway";
import { LocalApi, LocalRegistry } from "../local/registry";
import { nowMs, percentile } from "./stats";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const API_ID = "benchapi01";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/notes-auth-authenticated`;
const ROUTES = ["POST /notes", "GET /notes", "GET /notes/{id}", "PUT /notes/{id}", "DELETE /notes/{id}"];

async function main(): Promise<void> {
    const requests = Number(process.argv[2] ?? 1000);
    const dir = mkdtempSync(path.join(tmpdir(), "gateway-bench-"));
    const registry = new LocalRegistry(REGION, ACCOUNT);
    const executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}`;
    registry.roles.set("notes-auth-authenticated", { name: "notes-auth-authenticated", arn: ROLE_ARN, assumeRolePolicy: "{}" });
    registry.inlinePolicies.set(
        "notes-auth-authenticated",
        new Map([
            [
                "policy",
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Sid: "InvokeNotesApi", Effect: "Allow", Action: "execute-api:Invoke", Resource: ROUTES.map((route) => {
                                const [method, routePath] = route.split(" ");
                                return `${executionArn}/*/${method}${routePath.replace("{id}", "*")}`;
                            }) },
                        { Sid: "OwnFiles", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: "arn:aws:s3:::bench/private/${cognito-identity.amazonaws.com:sub}/*" },
                    ],
                }),
            ],
        ]),
    );
    const fnArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bench`;
    const fn = new LocalFunction(
        { name: "bench", arn: fnArn, files: { "index.js": "exports.handler = async () => ({ statusCode: 200, body: 'ok' });" }, handler: "index.handler", environment: {}, timeoutSeconds: 5, roleArn: ROLE_ARN },
        path.join(dir, "bench"),
        () => ({}),
    );
    registry.functions.set("bench", fn);
    registry.permissions.push({ action: "lambda:InvokeFunction", functionRef: "bench", principal: "apigateway.amazonaws.com", sourceArn: `${executionArn}/*/*` });
    const api: LocalApi = { id: API_ID, name: "bench", routes: new Map(), integrations: new Map([["i", { functionArn: fnArn, payloadFormatVersion: "2.0", type: "AWS_PROXY" }]]), stages: new Set(["$default"]) };
    for (const key of ROUTES) api.routes.set(key, { routeKey: key, authorizationType: "AWS_IAM", target: "integrations/i" });
    const store = new CredentialStore();
    const gateway = new LocalGateway({ api, registry, store, log: () => undefined, recordTimings: true });
    const url = `http://127.0.0.1:${await gateway.listen(0)}`;
    const session = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: `${REGION}:00000000-0000-4000-8000-000000000000` });
    const credentials = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };

    // Warm-up: first simulator call loads its IAM data set; first invoke starts the worker.
    for (let i = 0; i < 20; i++) await signedFetch(`${url}/notes/warm`, { credentials, region: REGION });
    gateway.timings.length = 0;
    const roundTrips: number[] = [];
    for (let i = 0; i < requests; i++) {
        const started = nowMs();
        const response = await signedFetch(`${url}/notes/${i}`, { method: i % 2 ? "GET" : "PUT", body: i % 2 ? undefined : '{"content":"x"}', credentials, region: REGION });
        roundTrips.push(nowMs() - started);
        if (response.status !== 200) throw new Error(`request ${i} answered ${response.status}: ${response.text}`);
    }
    const auth = gateway.timings.map((t) => t.authMs);
    const fmt = (n: number) => `${n.toFixed(2)} ms`;
    process.stdout.write(
        `gateway overhead (SigV4 verify + IAM decision) over ${auth.length} requests: median ${fmt(percentile(auth, 50))}, p99 ${fmt(percentile(auth, 99))}, max ${fmt(percentile(auth, 100))}\n` +
            `client round trip incl. signing and a trivial function: median ${fmt(percentile(roundTrips, 50))}, p99 ${fmt(percentile(roundTrips, 99))}\n`,
    );
    await gateway.close();
    await fn.stop();
    rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
