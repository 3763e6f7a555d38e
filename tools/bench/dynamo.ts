import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { monotonicFactory } from "ulid";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../local/dynamodb/dynalite";
import { localLambdaEnv } from "../local/lambda/environment";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A dynalite server in a child process, and a document client bound to it for seeding. */
export interface BenchDynamo {
    endpoint: string;
    tableName: string;
    client: DynamoDBDocumentClient;
    /** The environment a deployed function gets, pointed at this database. */
    lambdaEnv(): Record<string, string>;
    stop(): Promise<void>;
}

export async function startBenchDynamo(): Promise<BenchDynamo> {
    const child: ChildProcess = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "dynamo-server.ts")], {
        cwd: REPO_ROOT,
        stdio: ["pipe", "pipe", "inherit"],
    });
    const { endpoint, tableName } = await new Promise<{ endpoint: string; tableName: string }>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        lines.once("line", (line) => resolve(JSON.parse(line)));
        child.once("exit", (code) => reject(new Error(`the dynalite process exited with ${code} before it was ready`)));
    });
    const connected = connectBenchDynamo({ endpoint, tableName });
    let stopped: Promise<void> | undefined;
    return {
        ...connected,
        stop: () =>
            (stopped ??= new Promise<void>((resolve) => {
                void connected.stop();
                if (child.exitCode !== null) return resolve();
                const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
                child.once("exit", () => {
                    clearTimeout(timer);
                    resolve();
                });
                child.stdin!.end();
            })),
    };
}

/** A client of a dynalite server that another process started (a benchmark child on another Node.js). */
export function connectBenchDynamo({ endpoint, tableName }: { endpoint: string; tableName: string }): BenchDynamo {
    const raw = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    return {
        endpoint,
        tableName,
        client: DynamoDBDocumentClient.from(raw),
        lambdaEnv: () => localLambdaEnv({ tableName, dynamoEndpoint: endpoint }),
        stop: async () => raw.destroy(),
    };
}

const newId = monotonicFactory();

/**
 * Writes `count` notes for a user with BatchWriteItem (25 per call, a few calls in flight) and
 * returns their ids in creation order. Items have the shape `createNote` stores, with an
 * attachment under the user's prefix when `withAttachment` is set.
 */
export async function seedNotes(db: BenchDynamo, userId: string, count: number, contentBytes = 200, withAttachment = false): Promise<string[]> {
    const content = "n".repeat(contentBytes);
    const now = new Date().toISOString();
    const ids = Array.from({ length: count }, () => newId());
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += 25) batches.push(ids.slice(i, i + 25));
    let next = 0;
    const writer = async () => {
        while (next < batches.length) {
            let requests = batches[next++].map((noteId) => ({
                PutRequest: { Item: { userId, noteId, content, createdAt: now, updatedAt: now, version: 1, ...(withAttachment ? { attachment: `private/${userId}/${noteId}.bin` } : {}) } },
            }));
            // dynalite never throttles, but honour UnprocessedItems as a real client must.
            while (requests.length > 0) {
                const result = await db.client.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: requests } }));
                requests = (result.UnprocessedItems?.[db.tableName] ?? []) as typeof requests;
            }
        }
    };
    await Promise.all(Array.from({ length: 4 }, writer));
    return ids;
}
