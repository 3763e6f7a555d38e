/**
 * erasure: `DELETE /account`'s work against the local cloud (prod stack: versioned bucket). A user
 * with `notes` notes and no files, and another with `files` files and no notes, are erased by the
 * account function's own code (handlers/erasure.ts with the S3 and Cognito sides it ships), call
 * after call as a client would, each call with the time budget of the function's timeout. Counted:
 * the wall time and every AWS request, against the fewest a complete erasure can take (one
 * BatchWriteItem per 25 notes and one Query; one ListObjectVersions and one DeleteObjects per 1,000
 * file versions).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ACCOUNT_TIMEOUT_SECONDS } from "../../components/account";
import { DYNAMO_CLIENT_SETTINGS } from "../../handlers/dynamo";
import { AccountDirectory, BATCH_WRITE_SIZE, DELETE_OBJECTS_SIZE, eraseAccount, ERASURE_RESERVE_MS, VersionStore } from "../../handlers/erasure";
import { ServiceUnavailable } from "../../handlers/errors";
import { createLogger, describeError } from "../../handlers/log";
import { FlowUser, NotesClient } from "../client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../local/process";
import { nowMs, round } from "./stats";

export interface ErasureFigures {
    /** How many notes and files the measured users had. */
    notes: number;
    files: number;
    /** Wall time of the whole erasure, all calls, per 1,000 notes and per 1,000 files. */
    wallMsPer1000Notes: number;
    wallMsPer1000Files: number;
    /** AWS requests per 1,000 notes (Query, BatchWriteItem) and per 1,000 files (ListObjectVersions, DeleteObjects). */
    requestsPer1000Notes: number;
    requestsPer1000Files: number;
    /** The fewest requests a complete erasure can take, per 1,000. */
    minimumRequestsPer1000Notes: number;
    minimumRequestsPer1000Files: number;
    /** The longest single call, against the function's timeout. */
    maxCallMs: number;
    timeoutMs: number;
}

export interface ErasureDetails {
    calls: { notes: number; files: number };
    /** Calls answered 503 (and called again). */
    unavailable: number;
    requests: Record<string, number>;
    seedMs: { notes: number; files: number };
}

/** The account function's timeout. */
const TIMEOUT_MS = ACCOUNT_TIMEOUT_SECONDS * 1000;
const SEED_PARALLELISM = 16;

async function inParallel(count: number, limit: number, task: (index: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
        while (next < count) await task(next++);
    }));
}

export async function measureErasure(options: { notes: number; files: number; log?: (line: string) => void }): Promise<{ figures: ErasureFigures; details: ErasureDetails }> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "notes-bench-erasure-"));
    let cloud: LocalCloudProcess | undefined;
    const saved = { ...process.env };
    try {
        cloud = await startLocalCloudProcess(dataDir, ["--stack", "prod"], 120_000);
        const { region, endpoints, tableName, bucketName, userPoolId } = cloud.outputs;
        const client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        const [withNotes, withFiles] = await Promise.all([client.newUser("bench-notes"), client.newUser("bench-files")]);
        const table = DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials: { accessKeyId: "local", secretAccessKey: "local" }, ...DYNAMO_CLIENT_SETTINGS, maxAttempts: 10 }));

        // Seed: notes straight into the table, files with the admin key.
        let started = nowMs();
        const content = "n".repeat(200);
        await inParallel(Math.ceil(options.notes / 25), SEED_PARALLELISM, (batch) =>
            table.send(
                new BatchWriteCommand({
                    RequestItems: {
                        [tableName]: Array.from({ length: Math.min(25, options.notes - batch * 25) }, (_, i) => {
                            const n = batch * 25 + i;
                            return { PutRequest: { Item: { userId: withNotes.identityId, noteId: `01JD${String(n).padStart(22, "0")}`, content, createdAt: "2026-12-01T00:00:00.000Z", updatedAt: "2026-12-01T00:00:00.000Z", version: 1 } } };
                        }),
                    },
                }),
            ),
        );
        const seedNotesMs = nowMs() - started;
        started = nowMs();
        const adminS3 = new S3Client({ region, endpoint: endpoints.s3, forcePathStyle: true, credentials: cloud.adminCredentials, requestChecksumCalculation: "WHEN_REQUIRED" });
        await inParallel(options.files, SEED_PARALLELISM, (i) => adminS3.send(new PutObjectCommand({ Bucket: bucketName, Key: `private/${withFiles.identityId}/file-${String(i).padStart(6, "0")}.txt`, Body: "f" })));
        const seedFilesMs = nowMs() - started;
        options.log?.(`erasure: seeded ${options.notes} notes in ${round(seedNotesMs)} ms and ${options.files} files in ${round(seedFilesMs)} ms`);

        // The account function's S3 and Cognito sides read region, credentials and endpoints from the environment.
        Object.assign(process.env, {
            AWS_REGION: region,
            AWS_ACCESS_KEY_ID: cloud.adminCredentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: cloud.adminCredentials.secretAccessKey,
            AWS_ENDPOINT_URL_S3: endpoints.s3,
            AWS_ENDPOINT_URL_COGNITO_IDENTITY: endpoints.cognitoIdentity,
            AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoints.cognitoIdp,
        });
        delete process.env.AWS_SESSION_TOKEN;
        const requests: Record<string, number> = {};
        const count = (name: string) => (requests[name] = (requests[name] ?? 0) + 1);
        const counted = {
            send: (command: { constructor: { name: string } }) => {
                count(command.constructor.name.replace(/Command$/, ""));
                return table.send(command as never);
            },
        } as unknown as DynamoDBDocumentClient;
        const store: VersionStore = (require("../../handlers/account-s3") as typeof import("../../handlers/account-s3")).createVersionStore();
        const directory: AccountDirectory = (require("../../handlers/account-cognito") as typeof import("../../handlers/account-cognito")).createAccountDirectory(userPoolId);
        const objects: VersionStore = {
            listObjectVersions: (input) => (count("ListObjectVersions"), store.listObjectVersions(input)),
            deleteObjects: (input) => (count("DeleteObjects"), store.deleteObjects(input)),
        };
        const accounts: AccountDirectory = {
            deleteIdentity: (id) => (count("DeleteIdentities"), directory.deleteIdentity(id)),
            deleteUser: (sub) => (count("AdminDeleteUser"), directory.deleteUser(sub)),
        };
        const silent = createLogger({}, () => undefined);
        let maxCallMs = 0;
        let unavailable = 0;
        const erase = async (user: FlowUser): Promise<{ ms: number; calls: number }> => {
            const sub = JSON.parse(Buffer.from(user.idToken.split(".")[1], "base64url").toString("utf8")).sub as string;
            const begun = nowMs();
            for (let calls = 1; calls <= 10_000; calls++) {
                const callStarted = nowMs();
                let report;
                try {
                    report = await eraseAccount(
                        { client: counted, tableName, bucketName, objects: () => objects, directory: () => accounts, log: silent, deadline: Date.now() + TIMEOUT_MS - ERASURE_RESERVE_MS },
                        { identityId: user.identityId, sub },
                    );
                } catch (error) {
                    // A 503 (Retry-After): the client calls again, as the reference client does.
                    if (!(error instanceof ServiceUnavailable) || ++unavailable > 20) throw error;
                    options.log?.(`erasure: call ${calls} answered 503 (${JSON.stringify(describeError(error.cause)).slice(0, 300)}); calling again`);
                    continue;
                } finally {
                    maxCallMs = Math.max(maxCallMs, nowMs() - callStarted);
                }
                if (report.done) return { ms: nowMs() - begun, calls };
            }
            throw new Error("the erasure did not finish in 10,000 calls");
        };
        const notesRun = await erase(withNotes);
        const noteRequests = (requests.Query ?? 0) + (requests.BatchWrite ?? 0);
        options.log?.(`erasure: ${options.notes} notes in ${round(notesRun.ms)} ms, ${notesRun.calls} calls, ${noteRequests} requests`);
        const filesRun = await erase(withFiles);
        const fileRequests = (requests.ListObjectVersions ?? 0) + (requests.DeleteObjects ?? 0);
        options.log?.(`erasure: ${options.files} files in ${round(filesRun.ms)} ms, ${filesRun.calls} calls, ${fileRequests} requests`);
        table.destroy();

        const per1000 = (value: number, of: number) => round((value / of) * 1000);
        return {
            figures: {
                notes: options.notes,
                files: options.files,
                wallMsPer1000Notes: per1000(notesRun.ms, options.notes),
                wallMsPer1000Files: per1000(filesRun.ms, options.files),
                requestsPer1000Notes: per1000(noteRequests, options.notes),
                requestsPer1000Files: per1000(fileRequests, options.files),
                minimumRequestsPer1000Notes: per1000(Math.ceil(options.notes / BATCH_WRITE_SIZE) + 1, options.notes),
                minimumRequestsPer1000Files: per1000(2 * Math.ceil(options.files / DELETE_OBJECTS_SIZE), options.files),
                maxCallMs: round(maxCallMs),
                timeoutMs: TIMEOUT_MS,
            },
            details: { calls: { notes: notesRun.calls, files: filesRun.calls }, unavailable, requests, seedMs: { notes: round(seedNotesMs), files: round(seedFilesMs) } },
        };
    } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
        await cloud?.stop();
        rmSync(dataDir, { recursive: true, force: true });
    }
}
