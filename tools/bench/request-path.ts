/**
 * requestPath: GET /notes/{id} at a fixed concurrency, two ways, against the same database and the
 * same deployed bundle: the handler called directly (in this process, as a warm Lambda would run
 * it), and a SigV4-signed HTTP request through the local gateway (signature check, IAM decision
 * against the program's authenticated-role policy, payload 2.0 event, the function in its worker
 * thread, DynamoDB). The difference of the medians is what the gateway costs per request.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { signedFetch } from "../client/client";
import { CredentialStore } from "../local/sts/credentials";
import { LocalFunction } from "../local/lambda/functions";
import { LocalGateway } from "../local/apigateway/gateway";
import { decide } from "../local/iam/decide";
import { LocalApi, LocalRegistry } from "../local/registry";
import { httpEvent, newIdentityId } from "../local/apigateway/event";
import { BENCH_TMP } from "./builds";
import { DeployedFunction, functionEnvironment, unpack } from "./deployed";
import { BenchDynamo, seedNotes } from "./dynamo";
import { closedLoop, LoadResult, median, percentile, round, timeRuns } from "./stats";

export interface RequestPathFigures {
    directP50: number;
    directP99: number;
    gatewayP50: number;
    gatewayP99: number;
    /** Gateway requests per second at the benchmark's concurrency. */
    rps: number;
}

export interface RequestPathDetails {
    concurrency: number;
    requests: number;
    directRps: number;
    /** The same two paths one request at a time: the gateway's own cost without queueing. */
    sequential: { directP50: number; gatewayP50: number; requests: number };
    /** Median time of signature verification + IAM decision inside the gateway, under load. */
    gatewayAuthP50: number;
    /** Where the gateway's cost goes, each part timed alone (median ms, sequential). */
    parts: { iamDecisionMs: number; clientSignMs: number };
}

/** What the program deploys that the gateway needs: the API id and the authenticated role's policy. */
export interface DeployedAuth {
    apiId: string;
    roleName: string;
    /** The role's `execute-api:Invoke` policy document, as the program generated it. */
    invokePolicy: string;
    region: string;
    accountId: string;
}

const QUIET = { LOG_LEVEL: "warn" };
const BLOCKS = 6;

export interface RequestPathOptions {
    requests: number;
    concurrency: number;
    sequentialRequests: number;
    warmup: number;
}

/** `fn` is the get function as the program deploys it: its package, handler setting and environment. */
export async function measureRequestPath(
    db: BenchDynamo,
    auth: DeployedAuth,
    deployed: DeployedFunction,
    options: RequestPathOptions,
): Promise<{ figures: RequestPathFigures; details: RequestPathDetails }> {
    const identityId = newIdentityId();
    const [noteId] = await seedNotes(db, identityId, 1);
    const lambdaEnv = db.lambdaEnv();
    // Request logs at "warn" on both paths alike: the benchmark measures the request path, not the terminal.
    const functionEnv = { ...functionEnvironment(deployed, { TABLE_NAME: lambdaEnv.TABLE_NAME, BUCKET_NAME: lambdaEnv.BUCKET_NAME }), ...QUIET };

    // Direct: the deployed package loaded in this process, with the function's environment.
    const direct = unpack(deployed, path.join(BENCH_TMP, "request-path", `direct-${process.version}`));
    Object.assign(process.env, lambdaEnv, functionEnv);
    const handler: (event: unknown, context: unknown) => Promise<{ statusCode: number }> = require(direct.module)[direct.exportName];
    const sendDirect = async () => {
        const response = await handler(httpEvent({ identityId, method: "GET", path: `/notes/${noteId}` }), { awsRequestId: "direct" });
        if (response.statusCode !== 200) throw new Error(`direct GET answered ${response.statusCode}`);
    };

    // Gateway: registry, role, function and route as the local cloud materializes them.
    const registry = new LocalRegistry(auth.region, auth.accountId);
    const store = new CredentialStore();
    const roleArn = `arn:aws:iam::${auth.accountId}:role/${auth.roleName}`;
    registry.roles.set(auth.roleName, { name: auth.roleName, arn: roleArn, assumeRolePolicy: "{}" });
    registry.inlinePolicies.set(auth.roleName, new Map([["invoke", auth.invokePolicy]]));
    const fnName = "notes-api-get";
    const fnArn = `arn:aws:lambda:${auth.region}:${auth.accountId}:function:${fnName}`;
    const fn = new LocalFunction(
        { name: fnName, arn: fnArn, files: deployed.files, handler: deployed.entry, environment: functionEnv, timeoutSeconds: 10, roleArn: `arn:aws:iam::${auth.accountId}:role/notes-api-get-role` },
        path.join(BENCH_TMP, "request-path", `gateway-${process.version}`),
        () => ({ AWS_REGION: lambdaEnv.AWS_REGION, AWS_ACCESS_KEY_ID: lambdaEnv.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: lambdaEnv.AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint }),
    );
    registry.functions.set(fnName, fn);
    registry.permissions.push({ action: "lambda:InvokeFunction", functionRef: fnName, principal: "apigateway.amazonaws.com", sourceArn: `arn:aws:execute-api:${auth.region}:${auth.accountId}:${auth.apiId}/*/*/notes/{id}` });
    const api: LocalApi = {
        id: auth.apiId,
        name: "notes-api-http",
        routes: new Map([["GET /notes/{id}", { routeKey: "GET /notes/{id}", authorizationType: "AWS_IAM", target: "integrations/get" }]]),
        integrations: new Map([["get", { functionArn: fnArn, payloadFormatVersion: "2.0", type: "AWS_PROXY" }]]),
        stages: new Set(["$default"]),
    };
    registry.apis.set(api.id, api);
    const gateway = new LocalGateway({ api, registry, store, log: () => undefined, recordTimings: true });
    const url = `http://127.0.0.1:${await gateway.listen(0)}/notes/${noteId}`;
    const session = store.mint({ roleArn, sessionName: "CognitoIdentityCredentials", identityId, identityPoolId: `${auth.region}:00000000-0000-4000-8000-000000000000`, amr: ["authenticated"] });
    const credentials = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
    const sendGateway = async () => {
        const response = await signedFetch(url, { credentials, region: auth.region });
        if (response.status !== 200) throw new Error(`gateway GET answered ${response.status}: ${response.text}`);
    };

    try {
        // Warm both paths (JIT, SDK clients, the worker's first load, keep-alive sockets).
        await closedLoop(options.warmup, options.concurrency, sendDirect);
        await closedLoop(options.warmup, options.concurrency, sendGateway);
        const seqDirect = await closedLoop(options.sequentialRequests, 1, sendDirect);
        const seqGateway = await closedLoop(options.sequentialRequests, 1, sendGateway);
        gateway.timings.length = 0;
        // Alternating blocks, so a change in machine load hits both paths alike.
        const directRun: LoadResult = { latenciesMs: [], elapsedMs: 0, rps: 0 };
        const gatewayRun: LoadResult = { latenciesMs: [], elapsedMs: 0, rps: 0 };
        const perBlock = Math.ceil(options.requests / BLOCKS);
        for (let block = 0; block < BLOCKS; block++) {
            for (const [run, send] of [[directRun, sendDirect], [gatewayRun, sendGateway]] as const) {
                const result = await closedLoop(perBlock, options.concurrency, send);
                run.latenciesMs.push(...result.latenciesMs);
                run.elapsedMs += result.elapsedMs;
            }
        }
        for (const run of [directRun, gatewayRun]) run.rps = (run.latenciesMs.length / run.elapsedMs) * 1000;
        const resource = `arn:aws:execute-api:${auth.region}:${auth.accountId}:${auth.apiId}/$default/GET/notes/${noteId}`;
        const iamDecision = await timeRuns(options.sequentialRequests, async () => {
            const decision = await decide({ policies: registry.policiesOf(roleArn), action: "execute-api:Invoke", resource, principal: session.principalArn, accountId: auth.accountId, variables: { "cognito-identity.amazonaws.com:sub": identityId } });
            if (decision !== "Allow") throw new Error(`the IAM decision for ${resource} was ${decision}`);
        });
        const signer = new SignatureV4({ credentials, region: auth.region, service: "execute-api", sha256: Sha256 });
        const target = new URL(url);
        const clientSign = await timeRuns(options.sequentialRequests, () =>
            signer.sign({ method: "GET", protocol: "http:", hostname: target.hostname, port: Number(target.port), path: target.pathname, query: {}, headers: { host: target.host } }),
        );
        return {
            figures: {
                directP50: round(percentile(directRun.latenciesMs, 50), 3),
                directP99: round(percentile(directRun.latenciesMs, 99), 3),
                gatewayP50: round(percentile(gatewayRun.latenciesMs, 50), 3),
                gatewayP99: round(percentile(gatewayRun.latenciesMs, 99), 3),
                rps: round(gatewayRun.rps, 1),
            },
            details: {
                concurrency: options.concurrency,
                requests: options.requests,
                directRps: round(directRun.rps, 1),
                sequential: {
                    directP50: round(percentile(seqDirect.latenciesMs, 50), 3),
                    gatewayP50: round(percentile(seqGateway.latenciesMs, 50), 3),
                    requests: options.sequentialRequests,
                },
                gatewayAuthP50: round(percentile(gateway.timings.map((t) => t.authMs), 50), 3),
                parts: { iamDecisionMs: round(median(iamDecision), 3), clientSignMs: round(median(clientSign), 3) },
            },
        };
    } finally {
        await gateway.close();
        await fn.stop();
    }
}

/** Finds the API id and the authenticated role's invoke policy among the program's resources. */
export function deployedAuth(run: { region: string; accountId: string; resources: { type: string; id: string; inputs: Record<string, any> }[] }): DeployedAuth {
    const apis = run.resources.filter((r) => r.type === "aws:apigatewayv2/api:Api");
    const invoke = run.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && typeof r.inputs.policy === "string" && r.inputs.policy.includes("execute-api:Invoke"));
    if (apis.length !== 1 || invoke.length !== 1) {
        throw new Error(`requestPath needs one HTTP API and one role policy allowing execute-api:Invoke in the program; found ${apis.length} and ${invoke.length}.`);
    }
    return { apiId: apis[0].id, roleName: String(invoke[0].inputs.role), invokePolicy: invoke[0].inputs.policy, region: run.region, accountId: run.accountId };
}

/** The same measurement in a child process on another Node.js (Lambda's), against the same database. */
export function measureRequestPathOn(
    node: { execPath: string },
    db: BenchDynamo,
    auth: DeployedAuth,
    fn: DeployedFunction,
    options: RequestPathOptions,
): Promise<{ figures: RequestPathFigures; details: RequestPathDetails }> {
    return new Promise((resolve, reject) => {
        const child = spawn(node.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "request-path-child.ts")], {
            cwd: path.resolve(__dirname, "..", ".."),
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (chunk) => (stdout += chunk));
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        child.once("error", reject);
        // A child that dies before reading its input closes the pipe: its exit code and stderr, below, say why.
        child.stdin!.on("error", () => undefined);
        child.once("exit", (code) => {
            if (code !== 0) return reject(new Error(`the request-path benchmark on ${node.execPath} exited with ${code}: ${stderr.slice(-2000)}`));
            resolve(JSON.parse(stdout.trim().split("\n").pop()!));
        });
        child.stdin!.end(JSON.stringify({ database: { endpoint: db.endpoint, tableName: db.tableName }, auth, fn, options }));
    });
}
