/**
 * The note store: create, read, list, update and delete a user's notes in DynamoDB. Plain
 * functions that take their dependencies, so tests call them directly; the route files in this
 * folder are HTTP glue around them. `userId` is always the caller's Cognito identity id and is
 * the partition key of every read and write: no function accepts a user id from input.
 */
import { randomUUID } from "node:crypto";
import {
    DeleteCommand,
    DynamoDBDocumentClient,
    GetCommand,
    PutCommand,
    QueryCommand,
    UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { monotonicFactory } from "ulid";
import { AttachmentDeps, removeAttachment } from "./attachments";
import { dynamo, isConditionFailed } from "./dynamo";
import { NotFound, PreconditionFailed } from "./errors";
import { createLogger, Logger } from "./log";
import type { Note, NotePage } from "./types";
import { checkNoteId, checkUser, encodeCursor, IfMatch, parseCreate, parseIfMatch, parseListQuery, parseUpdate } from "./validation";

// The content limit belongs to what createNote accepts; callers that size notes read it here.
export { MAX_CONTENT_BYTES } from "./validation";

/** A note as stored: the client's view plus the partition key (and an update's write token). */
export interface StoredNote extends Note {
    userId: string;
}

export interface NotesDeps {
    client: DynamoDBDocumentClient;
    tableName: string;
    log?: Logger;
    /** @default () => new Date() */
    now?: () => Date;
    /** @default a monotonic ULID factory (sortable, unique within one process) */
    newId?: () => string;
    /** Per-request token an update writes with the note, to recognise its own earlier attempt. @default randomUUID */
    newWriteToken?: () => string;
}

export interface DeleteNoteDeps extends NotesDeps, AttachmentDeps {}

/** Lambda's limit on a function's response: the whole serialized result, 6 MB. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;
/**
 * What a page's notes may take of that response; the rest is room for the status, the headers,
 * the page's braces and the cursor (a few hundred bytes). A page stops early rather than exceed it.
 */
export const MAX_PAGE_BYTES = LAMBDA_RESPONSE_LIMIT_BYTES - 16 * 1024;

const defaultNewId = monotonicFactory();
const defaultLog = createLogger();

/** The client's view of a stored item: without the partition key and the bookkeeping (`writeToken`). */
function toNote(item: Record<string, unknown>): Note {
    const { noteId, content, attachment, createdAt, updatedAt, version } = item as unknown as StoredNote;
    return { noteId, content, ...(typeof attachment === "string" ? { attachment } : {}), createdAt, updatedAt, version };
}

export async function createNote(deps: NotesDeps, userId: string, input: unknown): Promise<Note> {
    checkUser(userId);
    const body = parseCreate(userId, input);
    const now = (deps.now?.() ?? new Date()).toISOString();
    const item: StoredNote = {
        userId,
        noteId: (deps.newId ?? defaultNewId)(),
        content: body.content,
        createdAt: now,
        updatedAt: now,
        version: 1,
    };
    if (body.attachment !== undefined) item.attachment = body.attachment;
    try {
        await dynamo(() =>
            deps.client.send(
                new PutCommand({
                    TableName: deps.tableName,
                    Item: item,
                    // Ids are unique by construction; the condition makes "create" unable to overwrite.
                    ConditionExpression: "attribute_not_exists(noteId)",
                }),
            ),
        );
    } catch (error) {
        // The id was minted by this call and nobody else knows it, so an item already under it is
        // this very write: the SDK retried a request (after a timeout) whose first attempt landed.
        if (!isConditionFailed(error)) throw error;
        (deps.log ?? defaultLog).warn("Create retried after its first attempt was stored", { noteId: item.noteId });
    }
    return toNote(item as unknown as Record<string, unknown>);
}

/** The stored item, bookkeeping attributes included. */
async function readItem(deps: NotesDeps, userId: string, noteId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await dynamo(() =>
        deps.client.send(
            new GetCommand({ TableName: deps.tableName, Key: { userId, noteId }, ConsistentRead: true }),
        ),
    );
    return Item;
}

export async function getNote(deps: NotesDeps, userId: string, noteId: string): Promise<Note> {
    checkUser(userId);
    checkNoteId(noteId);
    const item = await readItem(deps, userId, noteId);
    if (!item) throw new NotFound();
    return toNote(item);
}

/** The caller's notes, newest first (ULIDs sort by creation time), one page at a time. */
export async function listNotes(deps: NotesDeps, userId: string, query: unknown): Promise<NotePage> {
    checkUser(userId);
    const { limit, after } = parseListQuery(query);
    let startKey: Record<string, unknown> | undefined = after === undefined ? undefined : { userId, noteId: after };

    const notes: Note[] = [];
    let bytes = 0;
    let more = false;
    // One Query returns at most 1 MB, and a page must fit a Lambda response, so keep reading until
    // the page is full, the byte budget is spent, or the partition ends. Asking for one extra item
    // tells whether another page exists, so the last page never carries a cursor.
    // The budget counts what Lambda counts: the handler's result serialized as JSON, where the
    // body is itself a JSON string, so each note is escaped twice (`"` takes 4 bytes, not 2).
    while (true) {
        const page = await dynamo(() =>
            deps.client.send(
                new QueryCommand({
                    TableName: deps.tableName,
                    KeyConditionExpression: "userId = :userId",
                    ExpressionAttributeValues: { ":userId": userId },
                    ScanIndexForward: false,
                    Limit: limit - notes.length + 1,
                    ExclusiveStartKey: startKey,
                }),
            ),
        );
        for (const item of page.Items ?? []) {
            const note = toNote(item);
            const size = responseBytes(note);
            if (notes.length === limit || (notes.length > 0 && bytes + size > MAX_PAGE_BYTES)) {
                more = true;
                break;
            }
            notes.push(note);
            bytes += size;
        }
        if (more || !page.LastEvaluatedKey) break;
        startKey = page.LastEvaluatedKey;
    }
    const last = notes[notes.length - 1];
    return more && last ? { notes, cursor: encodeCursor(last.noteId) } : { notes };
}

/** A note's share of the Lambda response: its JSON, escaped again inside the body string, plus a comma. */
function responseBytes(note: Note): number {
    return Buffer.byteLength(JSON.stringify(JSON.stringify(note)), "utf8") - 2 + 1;
}

/** The condition that makes a write hit only an existing note, at an `If-Match` version if given. */
function writeCondition(ifMatch: IfMatch | undefined) {
    const values: Record<string, number> = {};
    let expression = "attribute_exists(noteId)";
    if (ifMatch && "versions" in ifMatch) {
        // Only weak tags: nothing can match. Version 0 never exists, so the write fails its
        // condition and the caller still learns 404 (gone) versus 412 (changed).
        const versions = ifMatch.versions.length > 0 ? ifMatch.versions : [0];
        const names = versions.map((version, i) => {
            values[`:v${i}`] = version;
            return `:v${i}`;
        });
        expression += ` AND #version IN (${names.join(", ")})`;
    }
    return { expression, values, usesVersion: Object.keys(values).length > 0 };
}

/** After a failed conditional write, given the note as it is now: 404 if it is gone, else its version did not match. */
function conditionFailure(current: Record<string, unknown> | undefined, ifMatch: IfMatch | undefined): never {
    if (ifMatch !== undefined && current) throw new PreconditionFailed();
    throw new NotFound();
}

/**
 * Changes `content` and/or `attachment` (null removes it) of an existing note and bumps its
 * version. With `If-Match` the write succeeds only at that version (else 412); without it the
 * last write wins. Never creates a note (404 instead).
 */
export async function updateNote(
    deps: NotesDeps,
    userId: string,
    noteId: string,
    input: unknown,
    ifMatchHeader?: string,
): Promise<Note> {
    checkUser(userId);
    checkNoteId(noteId);
    const body = parseUpdate(userId, input);
    const ifMatch = parseIfMatch(ifMatchHeader);
    const condition = writeCondition(ifMatch);
    // Written with the update and refused by the condition when already there: when the SDK
    // retries an UpdateItem whose first attempt landed (its answer lost to a timeout), the retry
    // fails and finds its own token on the note, instead of applying twice or answering 412.
    const writeToken = (deps.newWriteToken ?? randomUUID)();

    const set = ["#updatedAt = :updatedAt", "#version = #version + :one", "#writeToken = :writeToken"];
    const remove: string[] = [];
    const names: Record<string, string> = { "#updatedAt": "updatedAt", "#version": "version", "#writeToken": "writeToken" };
    const values: Record<string, unknown> = {
        ":updatedAt": (deps.now?.() ?? new Date()).toISOString(),
        ":one": 1,
        ":writeToken": writeToken,
        ...condition.values,
    };
    if (body.content !== undefined) {
        set.push("#content = :content");
        names["#content"] = "content";
        values[":content"] = body.content;
    }
    if (body.attachment !== undefined) {
        names["#attachment"] = "attachment";
        if (body.attachment === null) remove.push("#attachment");
        else {
            set.push("#attachment = :attachment");
            values[":attachment"] = body.attachment;
        }
    }
    try {
        const { Attributes } = await dynamo(() =>
            deps.client.send(
                new UpdateCommand({
                    TableName: deps.tableName,
                    Key: { userId, noteId },
                    UpdateExpression: `SET ${set.join(", ")}${remove.length > 0 ? ` REMOVE ${remove.join(", ")}` : ""}`,
                    ConditionExpression: `${condition.expression} AND (attribute_not_exists(#writeToken) OR #writeToken <> :writeToken)`,
                    ExpressionAttributeNames: names,
                    ExpressionAttributeValues: values,
                    ReturnValues: "ALL_NEW",
                }),
            ),
        );
        return toNote(Attributes ?? {});
    } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const current = await readItem(deps, userId, noteId);
        if (current?.writeToken === writeToken) {
            (deps.log ?? defaultLog).warn("Update retried after its first attempt was stored", { noteId });
            return toNote(current);
        }
        return conditionFailure(current, ifMatch);
    }
}

/**
 * Deletes a note, then its attachment object.
 *
 * Order matters. The note record goes first, in one conditional delete (existence and
 * `If-Match`), so the note is either fully there or fully gone. Only then is the attachment
 * removed, with retries (attachments.ts). If S3 keeps failing, the result is an orphaned object
 * under the caller's own prefix (logged with its key for a later sweep), never a note whose
 * attachment has vanished. Deleting the object first would risk exactly that when the record
 * delete then fails (412, throttling).
 */
export async function deleteNote(
    deps: DeleteNoteDeps,
    userId: string,
    noteId: string,
    ifMatchHeader?: string,
): Promise<void> {
    checkUser(userId);
    checkNoteId(noteId);
    const ifMatch = parseIfMatch(ifMatchHeader);
    const condition = writeCondition(ifMatch);
    const log = deps.log ?? defaultLog;
    let old: Record<string, unknown> | undefined;
    try {
        const result = await dynamo(() =>
            deps.client.send(
                new DeleteCommand({
                    TableName: deps.tableName,
                    Key: { userId, noteId },
                    ConditionExpression: condition.expression,
                    ExpressionAttributeNames: condition.usesVersion ? { "#version": "version" } : undefined,
                    ExpressionAttributeValues: condition.usesVersion ? condition.values : undefined,
                    ReturnValues: "ALL_OLD",
                }),
            ),
        );
        old = result.Attributes;
    } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const current = ifMatch !== undefined || sdkRetried(error) ? await readItem(deps, userId, noteId) : undefined;
        if (sdkRetried(error) && !current) {
            // The SDK sent the delete again (after a timeout) and the note is gone: the earlier
            // attempt removed it, and its answer, with the attachment key, was lost.
            log.warn("Delete retried after its first attempt removed the note; attachment may be orphaned", { noteId });
            return;
        }
        return conditionFailure(current, ifMatch);
    }
    const key = old?.attachment;
    if (typeof key === "string") await removeAttachment(deps, log, userId, noteId, key);
}

/** The SDK's retry middleware records how many attempts a failed call took. */
function sdkRetried(error: unknown): boolean {
    return ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;
}
