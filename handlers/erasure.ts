/**
 * Erasing an account: every note of the caller's identity, every version and delete marker under
 * its `private/<identity id>/` prefix, its Identity Pool identity, then its User Pool user, in that
 * order, within a time budget. Plain functions that take their clients, so tests call them
 * directly; account.ts is the HTTP glue. No S3 or Cognito code here: those clients come in as
 * loaders, called only when the erasure reaches their step.
 *
 * Each step starts from what is left, not from a cursor, so a call that stops (time budget spent,
 * a crash, a timeout) leaves a state the next call finishes: data goes first and the user last,
 * and a user whose data is gone can still sign in and call again.
 */
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DeleteObjectsCommandInput, DeleteObjectsCommandOutput, ListObjectVersionsCommandInput, ListObjectVersionsCommandOutput } from "@aws-sdk/client-s3";
import { isUnavailable } from "./dynamo";
import { ServiceUnavailable } from "./errors";
import type { Logger } from "./log";
import { attachmentPrefix } from "./prefix";

/**
 * What a started request may still take when the budget runs out: a DeleteObjects of 1,000 keys
 * (the S3 client's one attempt of at most 8 s, account-s3.ts) with a second to spare; the DynamoDB
 * client's three attempts of at most 1 s each fit in it. No new request starts later than this
 * before the function's timeout.
 */
export const ERASURE_RESERVE_MS = 9000;

/** DynamoDB's limit of requests in one BatchWriteItem. */
export const BATCH_WRITE_SIZE = 25;
/** S3's limit of keys in one DeleteObjects, and of entries in one ListObjectVersions page. */
export const DELETE_OBJECTS_SIZE = 1000;
/**
 * DeleteObjects requests in flight at once. One: a DeleteObjects of 1,000 keys is S3's own batch,
 * and the local S3 measured slower per key with more in flight (tools/bench/erasure.ts), its calls
 * then running past the client's timeout.
 */
export const DELETE_OBJECTS_PARALLELISM = 1;
/** BatchWriteItem requests in flight at once. */
export const BATCH_WRITE_PARALLELISM = 8;
/**
 * Attempts for a batch's unprocessed items (throttled by DynamoDB or S3) before the call leaves
 * them to the next one; waits between attempts grow exponentially with full jitter.
 */
export const UNPROCESSED_ATTEMPTS = 6;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1000;

/** The steps of an erasure, in the order they run. */
export const ERASURE_STEPS = ["notes", "files", "identity", "user"] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

/** The two S3 calls the erasure makes, shaped like the SDK's inputs and outputs (account-s3.ts). */
export interface VersionStore {
    listObjectVersions(input: ListObjectVersionsCommandInput): Promise<Pick<ListObjectVersionsCommandOutput, "Versions" | "DeleteMarkers" | "IsTruncated" | "NextKeyMarker" | "NextVersionIdMarker">>;
    deleteObjects(input: DeleteObjectsCommandInput): Promise<Pick<DeleteObjectsCommandOutput, "Errors">>;
}

/** The Cognito side (account-cognito.ts): each resolves once the identity or user no longer exists. */
export interface AccountDirectory {
    /** DeleteIdentities of one identity id; an identity already gone counts as deleted. */
    deleteIdentity(identityId: string): Promise<void>;
    /** AdminDeleteUser by `sub`; a user already gone counts as deleted. */
    deleteUser(sub: string): Promise<void>;
}

export interface ErasureDeps {
    client: DynamoDBDocumentClient;
    tableName: string;
    bucketName: string;
    /** Loads the S3 side when the notes are gone (its SDK is not loaded before). */
    objects: () => VersionStore;
    /** Loads the Cognito side when the data is gone. */
    directory: () => AccountDirectory;
    log: Logger;
    /** Epoch milliseconds after which no new request starts. */
    deadline: number;
    /** @default Date.now */
    now?: () => number;
    /** @default setTimeout-based */
    sleep?: (ms: number) => Promise<void>;
    /** Jitter source for back-off, in [0, 1). @default Math.random */
    random?: () => number;
}

export interface ErasureReport {
    /** True once notes, files, identity and user are all gone. */
    done: boolean;
    /** The steps not finished yet, in order (empty when done). */
    remaining: ErasureStep[];
    /** What this call deleted: notes, and files counted by version (each version and delete marker). */
    deleted: { notes: number; files: number };
}

/** Counts of what one call did, shared by the steps. */
interface Progress {
    notes: number;
    files: number;
}

/**
 * Erases what is left of the account of `user`, as far as the time budget allows. `done` is true
 * only when every step has finished in this call; otherwise `remaining` names the step it stopped
 * in and those after it.
 */
export async function eraseAccount(deps: ErasureDeps, user: { identityId: string; sub: string }): Promise<ErasureReport> {
    const progress: Progress = { notes: 0, files: 0 };
    const stopAt = (step: ErasureStep): ErasureReport => ({ done: false, remaining: ERASURE_STEPS.slice(ERASURE_STEPS.indexOf(step)), deleted: progress });

    if (!(await eraseNotes(deps, user.identityId, progress))) return stopAt("notes");
    if (!(await eraseFiles(deps, user.identityId, progress))) return stopAt("files");
    if (!hasTime(deps)) return stopAt("identity");
    const directory = deps.directory();
    await unavailableAs503(() => directory.deleteIdentity(user.identityId));
    if (!hasTime(deps)) return stopAt("user");
    await unavailableAs503(() => directory.deleteUser(user.sub));
    return { done: true, remaining: [], deleted: progress };
}

function hasTime(deps: ErasureDeps): boolean {
    return (deps.now ?? Date.now)() < deps.deadline;
}

/** Throttling, 5xx and network failures of any AWS call become 503 + Retry-After; the next call resumes. */
async function unavailableAs503<T>(call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (error) {
        if (isUnavailable(error)) throw new ServiceUnavailable(1, error);
        throw error;
    }
}

/** Full-jitter exponential back-off before attempt `attempt + 1`. */
function backoff(deps: ErasureDeps, attempt: number): Promise<void> {
    const ms = Math.floor((deps.random ?? Math.random)() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
    return (deps.sleep ?? ((wait: number) => new Promise<void>((resolve) => setTimeout(resolve, wait))))(ms);
}

/**
 * Runs `task` over `items` with at most `limit` in flight, starting none once the budget is spent.
 * True when every task ran and returned true. Waits for the tasks in flight before it returns or
 * rethrows the first failure, so nothing runs on after the response.
 */
async function boundedAll<T>(deps: ErasureDeps, items: readonly T[], limit: number, task: (item: T) => Promise<boolean>): Promise<boolean> {
    let next = 0;
    let complete = true;
    let failure: unknown;
    const worker = async () => {
        while (next < items.length && failure === undefined) {
            if (!hasTime(deps)) {
                complete = false;
                return;
            }
            const item = items[next++];
            try {
                if (!(await task(item))) complete = false;
            } catch (error) {
                failure ??= error;
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failure !== undefined) throw failure;
    return complete && next >= items.length;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
    const result: T[][] = [];
    for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
    return result;
}

type NoteKey = { userId: string; noteId: string };

/**
 * Deletes the caller's notes: one Query page of keys at a time (up to 1 MB read), deleted in
 * BatchWriteItem requests of 25, 8 in flight. True when the partition is empty.
 */
async function eraseNotes(deps: ErasureDeps, userId: string, progress: Progress): Promise<boolean> {
    let startKey: Record<string, unknown> | undefined;
    while (hasTime(deps)) {
        const page = await unavailableAs503(() =>
            deps.client.send(
                new QueryCommand({
                    TableName: deps.tableName,
                    KeyConditionExpression: "#user = :user",
                    ExpressionAttributeNames: { "#user": "userId", "#note": "noteId" },
                    ExpressionAttributeValues: { ":user": userId },
                    ProjectionExpression: "#user, #note",
                    ExclusiveStartKey: startKey,
                }),
            ),
        );
        // The key condition names the caller; this re-check means no stored value could ever
        // make the erasure touch another partition.
        const keys = (page.Items ?? []).map((item) => ({ userId: item.userId, noteId: item.noteId }) as NoteKey).filter((key) => key.userId === userId);
        const finished = await boundedAll(deps, chunks(keys, BATCH_WRITE_SIZE), BATCH_WRITE_PARALLELISM, (batch) => deleteNoteBatch(deps, batch, progress));
        if (!finished) return false;
        if (page.LastEvaluatedKey === undefined) return true;
        startKey = page.LastEvaluatedKey;
    }
    return false;
}

/** One BatchWriteItem of up to 25 deletes, its unprocessed items retried with back-off. True when all are gone. */
async function deleteNoteBatch(deps: ErasureDeps, batch: NoteKey[], progress: Progress): Promise<boolean> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
        const result = await unavailableAs503(() =>
            deps.client.send(new BatchWriteCommand({ RequestItems: { [deps.tableName]: pending.map((Key) => ({ DeleteRequest: { Key } })) } })),
        );
        const unprocessed = (result.UnprocessedItems?.[deps.tableName] ?? []).map((request) => request.DeleteRequest?.Key as NoteKey);
        progress.notes += pending.length - unprocessed.length;
        if (unprocessed.length === 0) return true;
        if (attempt >= UNPROCESSED_ATTEMPTS || !hasTime(deps)) {
            deps.log.warn("Notes left for the next erasure call", { unprocessed: unprocessed.length, attempts: attempt });
            return false;
        }
        await backoff(deps, attempt);
        pending = unprocessed;
    }
}

type Version = { Key: string; VersionId?: string };

/**
 * Deletes every version and delete marker under the caller's prefix (on an unversioned bucket,
 * each object's single `null` version): ListObjectVersions pages of 1,000, listed one after the
 * other, each removed by one DeleteObjects (DELETE_OBJECTS_PARALLELISM in flight). A page is listed only when a
 * delete can start at once and the budget allows, so no listing is wasted when the budget runs
 * out. True when nothing is left under the prefix.
 */
async function eraseFiles(deps: ErasureDeps, userId: string, progress: Progress): Promise<boolean> {
    const prefix = attachmentPrefix(userId);
    const inFlight = new Set<Promise<void>>();
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
    let more = true;
    let complete = true;
    let failure: unknown;
    while (more && failure === undefined) {
        if (inFlight.size >= DELETE_OBJECTS_PARALLELISM) await Promise.race(inFlight);
        if (failure !== undefined || !hasTime(deps)) break;
        const s3 = deps.objects();
        const page = await unavailableAs503(() => s3.listObjectVersions({ Bucket: deps.bucketName, Prefix: prefix, MaxKeys: DELETE_OBJECTS_SIZE, ...markers }));
        const versions: Version[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
            .filter((entry): entry is Version => typeof entry.Key === "string" && entry.Key.startsWith(prefix))
            .map(({ Key, VersionId }) => ({ Key, VersionId }));
        for (const batch of chunks(versions, DELETE_OBJECTS_SIZE)) {
            const deleting: Promise<void> = deleteVersionBatch(deps, batch, progress).then(
                (deleted) => {
                    if (!deleted) complete = false;
                },
                (error: unknown) => {
                    failure ??= error;
                },
            );
            inFlight.add(deleting);
            void deleting.finally(() => inFlight.delete(deleting));
        }
        more = page.IsTruncated === true;
        markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return complete && !more;
}

/** One DeleteObjects of up to 1,000 versions, the keys S3 reports as failed retried with back-off. */
async function deleteVersionBatch(deps: ErasureDeps, batch: Version[], progress: Progress): Promise<boolean> {
    const s3 = deps.objects();
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
        const result = await unavailableAs503(() => s3.deleteObjects({ Bucket: deps.bucketName, Delete: { Objects: pending, Quiet: true } }));
        const errors = result.Errors ?? [];
        const refused = errors.find((error) => error.Code === "AccessDenied");
        if (refused) throw new Error(`DeleteObjects refused ${refused.Key}: ${refused.Code} ${refused.Message ?? ""}`.trim());
        const retry = errors.filter((error): error is Version => typeof error.Key === "string").map(({ Key, VersionId }) => ({ Key, VersionId }));
        progress.files += pending.length - retry.length;
        if (retry.length === 0) return true;
        if (attempt >= UNPROCESSED_ATTEMPTS || !hasTime(deps)) {
            deps.log.warn("Files left for the next erasure call", { failed: retry.length, attempts: attempt, codes: [...new Set(errors.map((error) => error.Code))] });
            return false;
        }
        await backoff(deps, attempt);
        pending = retry;
    }
}
