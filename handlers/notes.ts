/**
 * The notes domain: create, read, list, update and delete a user's notes in DynamoDB. Plain
 * functions that take their dependencies, so tests call them directly; the handlers in this
 * folder are HTTP glue around them. `userId` is always the caller's Cognito identity id and is
 * the partition key of every read and write: no function accepts a user id from input.
 */
import { randomUUID } from "node:crypto";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import {
    DeleteCommand,
    DynamoDBDocumentClient,
    GetCommand,
    PutCommand,
    QueryCommand,
    UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { monotonicFactory } from "ulid";
import * as z from "zod/mini";
import { dynamo, isConditionFailed } from "./dynamo";
import { BadRequest, Forbidden, NotFound, PreconditionFailed } from "./errors";
import { createLogger, describeError, Logger } from "./log";

/** A note as clients see it. */
export interface Note {
    noteId: string;
    content: string;
    attachment?: string;
    createdAt: string;
    updatedAt: string;
    /** Starts at 1, +1 on every update; the ETag is this number in quotes. */
    version: number;
}

/** A note as stored: the client's view plus the partition key. */
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

/** The one S3 call the delete path makes; an `S3Client` satisfies it, and so does a test fake. */
export interface ObjectDeleter {
    send(command: DeleteObjectCommand): Promise<unknown>;
}

export interface DeleteNoteDeps extends NotesDeps {
    s3: ObjectDeleter;
    bucketName: string;
    /** Waits between attachment clean-up attempts; its length + 1 is the number of attempts. @default [100, 400] */
    cleanupRetryDelaysMs?: readonly number[];
    /** @default setTimeout-based */
    sleep?: (ms: number) => Promise<void>;
}

export const MAX_CONTENT_BYTES = 64 * 1024;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** Lambda's limit on a function's response: the whole serialized result, 6 MB. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;
/**
 * What a page's notes may take of that response; the rest is room for the status, the headers,
 * the page's braces and the cursor (a few hundred bytes). A page stops early rather than exceed it.
 */
export const MAX_PAGE_BYTES = LAMBDA_RESPONSE_LIMIT_BYTES - 16 * 1024;
/** S3's own limit on key length. */
const MAX_ATTACHMENT_KEY_BYTES = 1024;

const defaultNewId = monotonicFactory();
const defaultLog = createLogger();

// ---------------------------------------------------------------------------------------------
// Validation

/** Note ids as this code issues them: canonical upper-case ULIDs. */
const NOTE_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F]/;

const content = z
    .string({ error: (issue) => (issue.input === undefined ? "content is required" : "content must be a string") })
    .check(
        z.minLength(1, "content must not be empty"),
        // JSON can carry lone surrogates; DynamoDB would store them as U+FFFD, silently changing the note.
        z.refine((text) => !LONE_SURROGATE.test(text), "content must be valid Unicode text"),
        z.refine(
            (text) => Buffer.byteLength(text, "utf8") <= MAX_CONTENT_BYTES,
            `content must be at most ${MAX_CONTENT_BYTES} bytes (64 KiB) of UTF-8`,
        ),
    );

/**
 * An attachment is an S3 key under the caller's own `private/<identity id>/` prefix, which is
 * also the only prefix the caller's IAM role can write.
 */
function attachmentFor(userId: string) {
    const prefix = `private/${userId}/`;
    return z.string({ error: "attachment must be a string (an S3 key)" }).check(
        z.refine(
            (key) => key.startsWith(prefix) && key.length > prefix.length,
            `attachment must be an S3 key under your own prefix "${prefix}"`,
        ),
        z.refine(
            (key) => !key.split("/").some((segment) => segment === "." || segment === ".."),
            'attachment must not contain "." or ".." path segments',
        ),
        z.refine(
            (key) => !CONTROL_CHARACTER.test(key) && !LONE_SURROGATE.test(key),
            "attachment must not contain control characters",
        ),
        z.refine(
            (key) => Buffer.byteLength(key, "utf8") <= MAX_ATTACHMENT_KEY_BYTES,
            `attachment must be at most ${MAX_ATTACHMENT_KEY_BYTES} bytes`,
        ),
    );
}

const BODY_OBJECT = { error: "Request body must be a JSON object" } as const;

function createSchema(userId: string) {
    return z.strictObject({ content, attachment: z.optional(attachmentFor(userId)) }, BODY_OBJECT);
}

function updateSchema(userId: string) {
    return z
        .strictObject(
            { content: z.optional(content), attachment: z.optional(z.nullable(attachmentFor(userId))) },
            BODY_OBJECT,
        )
        .check(
            z.refine(
                (body) => body.content !== undefined || body.attachment !== undefined,
                "Request body must set content or attachment (null removes the attachment)",
            ),
        );
}

const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
const listQuerySchema = z.strictObject(
    {
        limit: z.optional(
            z.string({ error: LIMIT_MESSAGE }).check(
                z.regex(/^[0-9]{1,3}$/, LIMIT_MESSAGE),
                z.refine((text) => Number(text) >= 1 && Number(text) <= MAX_PAGE_SIZE, LIMIT_MESSAGE),
            ),
        ),
        cursor: z.optional(z.string({ error: "cursor must be a string" })),
    },
    { error: "Query parameters must be limit and cursor only" },
);

// zod/mini rather than classic zod: the same checks at ~16 KB of bundle instead of ~450 KB.
// Every check carries its own message because zod/mini loads no locale.
function parse<S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    const messages = new Set(
        result.error.issues.map((issue) => {
            if (issue.code === "unrecognized_keys") {
                return `Unknown field(s): ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}`;
            }
            return issue.message; // every message above names its field
        }),
    );
    throw new BadRequest([...messages].join("; "));
}

function checkUser(userId: string): void {
    if (typeof userId !== "string" || userId === "") throw new Forbidden("Forbidden: no caller identity");
}

function checkNoteId(noteId: string): void {
    if (!NOTE_ID.test(noteId)) throw new BadRequest("Note id must be a 26-character ULID");
}

/**
 * `If-Match` values: `*` (any current version) or one or more strong ETags `"<version>"`.
 * Weak ETags never match (RFC 9110 uses strong comparison for If-Match), so a list of only weak
 * tags leaves nothing that can match.
 */
export function parseIfMatch(value: string | undefined): { any: true } | { versions: number[] } | undefined {
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    if (trimmed === "*") return { any: true };
    const tags = trimmed.split(",").map((tag) => tag.trim());
    const versions: number[] = [];
    for (const tag of tags) {
        const strong = /^"([1-9][0-9]{0,14})"$/.exec(tag);
        if (strong) versions.push(Number(strong[1]));
        else if (!/^W\/"[^"]*"$/.test(tag)) {
            throw new BadRequest('If-Match must be * or a quoted version from an ETag, e.g. "3"');
        }
    }
    if (versions.length > 20) throw new BadRequest("If-Match lists too many versions");
    return { versions };
}

export function etag(note: Pick<Note, "version">): string {
    return `"${note.version}"`;
}

// ---------------------------------------------------------------------------------------------
// Cursors: the last returned noteId, base64url-encoded. Only the sort key travels; the partition
// key is rebuilt from the caller, so a cursor can never reach another user's notes.

export function encodeCursor(noteId: string): string {
    return Buffer.from(noteId, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
    const noteId = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
    if (!NOTE_ID.test(noteId) || encodeCursor(noteId) !== cursor) {
        throw new BadRequest("cursor is not valid: pass the cursor value from a previous list response");
    }
    return noteId;
}

function toNote(item: Record<string, unknown>): Note {
    const note: Note = {
        noteId: item.noteId as string,
        content: item.content as string,
        createdAt: item.createdAt as string,
        updatedAt: item.updatedAt as string,
        version: item.version as number,
    };
    if (typeof item.attachment === "string") note.attachment = item.attachment;
    return note;
}

// ---------------------------------------------------------------------------------------------
// Operations

export async function createNote(deps: NotesDeps, userId: string, input: unknown): Promise<Note> {
    checkUser(userId);
    const body = parse(createSchema(userId), input);
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

async function readNote(deps: NotesDeps, userId: string, noteId: string): Promise<Note | undefined> {
    const item = await readItem(deps, userId, noteId);
    return item ? toNote(item) : undefined;
}

export async function getNote(deps: NotesDeps, userId: string, noteId: string): Promise<Note> {
    checkUser(userId);
    checkNoteId(noteId);
    const note = await readNote(deps, userId, noteId);
    if (!note) throw new NotFound();
    return note;
}

export interface NotePage {
    notes: Note[];
    /** Present when more notes follow: pass it back as `?cursor=`. */
    cursor?: string;
}

/** The caller's notes, newest first (ULIDs sort by creation time), one page at a time. */
export async function listNotes(deps: NotesDeps, userId: string, query: unknown): Promise<NotePage> {
    checkUser(userId);
    const parsed = parse(listQuerySchema, query ?? {});
    const limit = parsed.limit === undefined ? DEFAULT_PAGE_SIZE : Number(parsed.limit);
    const cursor = parsed.cursor;
    let startKey: Record<string, unknown> | undefined =
        cursor === undefined ? undefined : { userId, noteId: decodeCursor(cursor) };

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
function writeCondition(ifMatch: ReturnType<typeof parseIfMatch>) {
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

/** After a failed conditional write: 404 if the note is gone, else its version did not match. */
async function conditionFailure(deps: NotesDeps, userId: string, noteId: string, ifMatch: unknown): Promise<never> {
    if (ifMatch !== undefined && (await readNote(deps, userId, noteId))) throw new PreconditionFailed();
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
    const body = parse(updateSchema(userId), input);
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
        if (ifMatch !== undefined && current) throw new PreconditionFailed();
        throw new NotFound();
    }
}

/**
 * Deletes a note, then its attachment object.
 *
 * Order matters. The note record goes first, in one conditional delete (existence and
 * `If-Match`), so the note is either fully there or fully gone. Only then is the attachment
 * removed, with retries. If S3 keeps failing, the result is an orphaned object under the
 * caller's own prefix (logged with its key for a later sweep), never a note whose attachment has
 * vanished. Deleting the object first would risk exactly that when the record delete then fails
 * (412, throttling).
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
        if (sdkRetried(error) && !(await readNote(deps, userId, noteId))) {
            // The SDK sent the delete again (after a timeout) and the note is gone: the earlier
            // attempt removed it, and its answer, with the attachment key, was lost.
            (deps.log ?? defaultLog).warn("Delete retried after its first attempt removed the note; attachment may be orphaned", { noteId });
            return;
        }
        return conditionFailure(deps, userId, noteId, ifMatch);
    }
    const key = old?.attachment;
    if (typeof key === "string") await removeAttachment(deps, userId, noteId, key);
}

/** The SDK's retry middleware records how many attempts a failed call took. */
function sdkRetried(error: unknown): boolean {
    return ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;
}

async function removeAttachment(deps: DeleteNoteDeps, userId: string, noteId: string, key: string): Promise<void> {
    const log = deps.log ?? defaultLog;
    // Keys were validated on write; this re-check means no stored value can ever make the delete
    // path touch an object outside the caller's prefix.
    if (!key.startsWith(`private/${userId}/`)) {
        log.error("Attachment outside the caller's prefix left in place", { noteId, key });
        return;
    }
    const delays = deps.cleanupRetryDelaysMs ?? [100, 400];
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
        try {
            await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucketName, Key: key }));
            return;
        } catch (error) {
            if (attempt > delays.length) {
                log.error("Attachment clean-up failed; object orphaned", {
                    noteId,
                    bucket: deps.bucketName,
                    key,
                    attempts: attempt,
                    error: describeError(error),
                });
                return;
            }
            log.warn("Attachment clean-up failed; retrying", { noteId, key, attempt, error: describeError(error) });
            await sleep(delays[attempt - 1]);
        }
    }
}
