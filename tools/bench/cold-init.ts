/**
 * coldInit: fresh Node processes that load a handler and serve one request against the local
 * DynamoDB, timed from spawn to exit. Every kind of process runs one at a time, interleaved round
 * by round (so drift in machine load hits them alike) and in a new random order each round (so no
 * kind always runs first in a round, or always after the same neighbour), on each Node.js given: the deployed
 * package, the same handler compiled without bundling, SST v3's default bundle and `node -e ""`
 * (the floor); on Lambda's Node.js also the previous settings and one variant per lever.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { httpEvent, newIdentityId, TEST_IDENTITY_POOL_ID } from "../local/apigateway/event";
import { ERASURE_RESERVE_MS } from "../../handlers/erasure";
import { BuiltModule, compileChild, HANDLER_NAMES, HandlerName } from "./builds";
import { BenchDynamo, seedNotes } from "./dynamo";
import type { NodeBinary } from "./lambda-node";
import { median, nowMs, round, shuffled } from "./stats";

export interface ColdInitFigures {
    bundledMs: number;
    unbundledMs: number;
    nodeFloorMs: number;
    bundleBytes: number;
    bundleGzipBytes: number;
    sstMs: number;
}

/** Where the time of a median process went, from the child's own clock (for BENCHMARKS.md). */
export interface ColdInitBreakdown {
    bootMs: number;
    loadMs: number;
    requestMs: number;
    /** CPU time (user + system) of the process until it reported: boot, load and the request. */
    cpuMs: number;
    /** CommonJS files the process loaded (ES modules are not counted), and their bytes on disk. */
    modules: number;
    moduleBytes: number;
}

/** One way of starting a handler (or, without a handler, Node alone). */
export interface ColdCase {
    /** `floor`, `bundled`, `unbundled`, `sst`, `previous`, or a lever's name. */
    kind: string;
    handler?: HandlerName;
    module?: BuiltModule;
    /** The function's environment variables (the runtime's region, credentials and endpoints are added). */
    env: Record<string, string>;
    /** Started on Lambda's Node.js only (the previous settings and the levers). */
    lambdaOnly?: boolean;
    /** Environment added for one unmeasured process before the rounds (the code-cache variant writes its cache there). */
    prepareEnv?: Record<string, string>;
    /** The status the request must answer, when not the handler's success (the error-path cases). */
    expectedStatus?: number;
    /** The delete's note has an attachment, removed from a local S3 endpoint (`AWS_ENDPOINT_URL_S3`). */
    withAttachment?: boolean;
}

export interface CaseResult {
    kind: string;
    handler?: HandlerName;
    node: string;
    /** Median wall-clock ms from spawn to exit. */
    ms: number;
    breakdown: ColdInitBreakdown;
}

interface ChildRun {
    wallMs: number;
    breakdown: ColdInitBreakdown;
}

/** One fresh process: spawn to exit, wall clock. */
function runChild(node: NodeBinary, args: string[], env: Record<string, string>): Promise<ChildRun> {
    return new Promise((resolve, reject) => {
        const started = nowMs();
        const child = spawn(node.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        child.once("error", reject);
        child.once("exit", (code) => {
            const wallMs = nowMs() - started;
            if (code !== 0) return reject(new Error(`cold-start child (${node.version}) ${args.join(" ").slice(0, 200)} exited with ${code}: ${stderr}`));
            if (/code cache rejected/.test(stderr)) return reject(new Error(`V8 rejected the code cache of ${args[1]} on ${node.version}`));
            // `node -e ""` (the floor) reports nothing; handler children always report before exit 0.
            const line = /^BENCH (.*)$/m.exec(stderr)?.[1];
            resolve({ wallMs, breakdown: line ? JSON.parse(line) : { bootMs: 0, loadMs: 0, requestMs: 0, cpuMs: 0, modules: 0, moduleBytes: 0 } });
        });
    });
}

/** What each handler is asked on a cold start, and the status that proves it really worked. */
function requestFor(name: HandlerName, identityId: string, noteId: () => string, accountUser: string) {
    switch (name) {
        case "create":
            return { event: httpEvent({ identityId, method: "POST", path: "/notes", body: { content: "cold start" } }), status: 201 };
        case "get":
            return { event: httpEvent({ identityId, method: "GET", path: `/notes/${noteId()}` }), status: 200 };
        case "list":
            return { event: httpEvent({ identityId, method: "GET", path: "/notes" }), status: 200 };
        case "update":
            return { event: httpEvent({ identityId, method: "PUT", path: `/notes/${noteId()}`, body: { content: "warmed" } }), status: 200 };
        case "delete":
            return { event: httpEvent({ identityId, method: "DELETE", path: `/notes/${noteId()}` }), status: 204 };
        case "account": {
            // The first call of an erasure in progress: a user of its own with notes, and a time
            // budget (ACCOUNT_COLD_REMAINING_MS) that ends after the first Query, so the call
            // answers 202 with the notes remaining, as a first call for an account with data does;
            // the S3 and Cognito sides are not needed yet (SST's bundle loads them at init).
            const event = httpEvent({ identityId: accountUser, method: "DELETE", path: "/account" });
            event.requestContext!.authorizer!.iam!.cognitoIdentity!.amr = ["authenticated", BENCH_USER_POOL_PROVIDER, `${BENCH_USER_POOL_PROVIDER}:CognitoSignIn:${randomUUID()}`];
            return { event, status: 202 };
        }
    }
}

/** The pools the account function's cold starts erase from: the caller's `amr` names this provider. */
const BENCH_USER_POOL_ID = "us-east-1_Bench0001";
const BENCH_USER_POOL_PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${BENCH_USER_POOL_ID}`;

/** The account function's pool variables for a cold start (the deployed ones name the mock run's pools). */
export const ACCOUNT_COLD_ENV = {
    USER_POOL_ID: BENCH_USER_POOL_ID,
    USER_POOL_PROVIDER_NAME: BENCH_USER_POOL_PROVIDER,
    IDENTITY_POOL_ID: TEST_IDENTITY_POOL_ID,
    // What the cold child's context reports as the time left: 5 ms over the erasure's reserve.
    BENCH_REMAINING_MS: String(ERASURE_RESERVE_MS + 5),
};

const breakdownOf = (runs: ChildRun[]): ColdInitBreakdown => ({
    bootMs: round(median(runs.map((r) => r.breakdown.bootMs))),
    loadMs: round(median(runs.map((r) => r.breakdown.loadMs))),
    requestMs: round(median(runs.map((r) => r.breakdown.requestMs))),
    cpuMs: round(median(runs.map((r) => r.breakdown.cpuMs))),
    modules: runs[0].breakdown.modules,
    moduleBytes: runs[0].breakdown.moduleBytes,
});

/**
 * Runs `samples` rounds. `nodes[0]` is Lambda's Node.js (or the machine's when it is not
 * available); cases marked `lambdaOnly` run on it alone, the others on every node.
 */
export async function measureColdStarts(
    nodes: NodeBinary[],
    cases: ColdCase[],
    db: BenchDynamo,
    options: { samples: number; log?: (line: string) => void },
): Promise<{ results: CaseResult[]; processes: number }> {
    const child = compileChild(path.join(__dirname, "cold-child.ts"), "esm");
    const identityId = newIdentityId();
    // get/update reuse one note; every delete process needs a note of its own.
    const [shared] = await seedNotes(db, identityId, 1);
    // The account function's user: notes that no cold start erases (each stops after its Query).
    const accountUser = newIdentityId();
    await seedNotes(db, accountUser, 30);
    const plan = nodes.flatMap((node, index) => cases.filter((c) => index === 0 || !c.lambdaOnly).map((c) => ({ node, c })));
    const deletesOf = (withAttachment: boolean) =>
        options.samples * plan.filter(({ c }) => c.handler === "delete" && Boolean(c.withAttachment) === withAttachment).length +
        cases.filter((c) => c.prepareEnv && c.handler === "delete" && Boolean(c.withAttachment) === withAttachment).length;
    const toDelete = await seedNotes(db, identityId, deletesOf(false) + 1);
    const withAttachment = await seedNotes(db, identityId, deletesOf(true) + 1, 200, true);
    const s3 = await startS3Endpoint();
    const runtimeEnv = { PATH: process.env.PATH ?? "", ...db.lambdaEnv() };

    const start = (node: NodeBinary, c: ColdCase, extraEnv: Record<string, string> = {}): Promise<ChildRun> => {
        const env = {
            ...runtimeEnv,
            ...c.env,
            ...(c.withAttachment || c.handler === "account" ? { AWS_ENDPOINT_URL_S3: s3.endpoint } : {}),
            ...(c.handler === "account" ? { ...ACCOUNT_COLD_ENV, AWS_ENDPOINT_URL_COGNITO_IDENTITY: s3.endpoint, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: s3.endpoint } : {}),
            ...extraEnv,
        };
        if (c.handler === undefined || c.module === undefined) return runChild(node, ["-e", ""], env);
        const notes = c.withAttachment ? withAttachment : toDelete;
        const { event, status } = requestFor(c.handler, identityId, () => (c.handler === "delete" ? notes.pop()! : shared), accountUser);
        return runChild(node, [child, c.module.module, c.module.exportName, JSON.stringify(event), String(c.expectedStatus ?? status)], env);
    };
    try {
        return await runRounds(nodes, cases, plan, start, options, s3);
    } finally {
        await s3.stop();
    }
}

/**
 * An S3 endpoint that answers every DeleteObject as S3 does (204) and counts them, so a delete
 * with an attachment runs its whole path; what S3 itself takes is not part of a cold start. For
 * the account function it also answers an empty ListObjectVersions, and DeleteIdentities and
 * AdminDeleteUser (JSON calls with `X-Amz-Target`) as Cognito does.
 */
async function startS3Endpoint(): Promise<{ endpoint: string; deletes(): number; stop(): Promise<void> }> {
    let deletes = 0;
    const server = createServer((request, response) => {
        request.resume();
        if (request.headers["x-amz-target"] !== undefined) {
            response.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end("{}");
            return;
        }
        if (request.method === "GET" && new URL(request.url ?? "/", "http://localhost").searchParams.has("versions")) {
            response.writeHead(200, { "content-type": "application/xml" }).end('<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated></ListVersionsResult>');
            return;
        }
        if (request.method === "DELETE") deletes++;
        response.writeHead(request.method === "DELETE" ? 204 : 405).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        deletes: () => deletes,
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

async function runRounds(
    nodes: NodeBinary[],
    cases: ColdCase[],
    plan: { node: NodeBinary; c: ColdCase }[],
    start: (node: NodeBinary, c: ColdCase, extraEnv?: Record<string, string>) => Promise<ChildRun>,
    options: { samples: number; log?: (line: string) => void },
    s3: { deletes(): number },
): Promise<{ results: CaseResult[]; processes: number }> {
    for (const c of cases.filter((c) => c.prepareEnv !== undefined)) await start(nodes[0], c, c.prepareEnv);

    const runs = new Map<string, ChildRun[]>();
    const key = (node: NodeBinary, c: ColdCase) => `${node.version} ${c.kind} ${c.handler ?? ""}`;
    let processes = 0;
    for (let round = 0; round < options.samples; round++) {
        for (const { node, c } of shuffled(plan)) {
            const run = await start(node, c);
            if (!runs.has(key(node, c))) runs.set(key(node, c), []);
            runs.get(key(node, c))!.push(run);
            processes++;
        }
        options.log?.(`coldInit: round ${round + 1}/${options.samples} (${processes} processes)`);
    }
    const attachmentDeletes = options.samples * plan.filter(({ c }) => c.withAttachment).length;
    if (s3.deletes() !== attachmentDeletes) throw new Error(`expected ${attachmentDeletes} attachment deletes at the S3 endpoint, saw ${s3.deletes()}`);
    const results = plan.map(({ node, c }) => {
        const samples = runs.get(key(node, c))!;
        return { kind: c.kind, handler: c.handler, node: node.version, ms: round(median(samples.map((r) => r.wallMs))), breakdown: breakdownOf(samples) };
    });
    return { results, processes };
}

/** The results.json figures of one node: the deployed bundle beside the unbundled handler, SST's bundle and the floor. */
export function coldInitFigures(results: CaseResult[], node: string, sizes: Record<HandlerName, { bytes: number; gzipBytes: number }>): Record<HandlerName, ColdInitFigures> {
    const find = (kind: string, handler?: HandlerName) => {
        const found = results.find((r) => r.node === node && r.kind === kind && r.handler === handler);
        if (!found) throw new Error(`no ${kind} cold start measured for ${handler ?? "Node"} on ${node}`);
        return found.ms;
    };
    const nodeFloorMs = find("floor");
    return Object.fromEntries(
        HANDLER_NAMES.map((handler) => [
            handler,
            {
                bundledMs: find("bundled", handler),
                unbundledMs: find("unbundled", handler),
                nodeFloorMs,
                bundleBytes: sizes[handler].bytes,
                bundleGzipBytes: sizes[handler].gzipBytes,
                sstMs: find("sst", handler),
            },
        ]),
    ) as Record<HandlerName, ColdInitFigures>;
}
