/**
 * What a request may carry, checked before anything is read or written: the note body (zod/mini
 * schemas), the note id, the list query and its cursor, and `If-Match`. Each check throws
 * `BadRequest` with a message that names the field (`Forbidden` for a missing identity).
 */
import * as z from "zod/mini";
import { BadRequest, Forbidden } from "./errors";
import { attachmentPrefix } from "./prefix";

export const MAX_CONTENT_BYTES = 64 * 1024;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** S3's own limit on key length. */
const MAX_ATTACHMENT_KEY_BYTES = 1024;

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

export { attachmentPrefix };

/** An attachment is an S3 key under the caller's own prefix. */
function attachmentFor(userId: string) {
    const prefix = attachmentPrefix(userId);
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

/** The body of `POST /notes`. */
export function parseCreate(userId: string, input: unknown): { content: string; attachment?: string } {
    return parse(createSchema(userId), input);
}

/** The body of `PUT /notes/{id}`: at least one field; `attachment: null` removes the attachment. */
export function parseUpdate(userId: string, input: unknown): { content?: string; attachment?: string | null } {
    return parse(updateSchema(userId), input);
}

/** The query of `GET /notes`: the page size, and the note id to continue after (from the cursor). */
export function parseListQuery(query: unknown): { limit: number; after?: string } {
    const parsed = parse(listQuerySchema, query ?? {});
    return {
        limit: parsed.limit === undefined ? DEFAULT_PAGE_SIZE : Number(parsed.limit),
        after: parsed.cursor === undefined ? undefined : decodeCursor(parsed.cursor),
    };
}

/** The identity every store function is keyed by; the HTTP glue has checked it already, tests call the store directly. */
export function checkUser(userId: string): void {
    if (typeof userId !== "string" || userId === "") throw new Forbidden("Forbidden: no caller identity");
}

export function checkNoteId(noteId: string): void {
    if (!NOTE_ID.test(noteId)) throw new BadRequest("Note id must be a 26-character ULID");
}

/**
 * `If-Match` values: `*` (any current version) or one or more strong ETags `"<version>"` (the
 * form `etag()` in http.ts writes). Weak ETags never match (RFC 9110 uses strong comparison for
 * If-Match), so a list of only weak tags leaves nothing that can match.
 */
export function parseIfMatch(value: string | undefined): IfMatch | undefined {
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

export type IfMatch = { any: true } | { versions: number[] };

// Cursors: the last returned noteId, base64url-encoded. Only the sort key travels; the store
// rebuilds the partition key from the caller, so a cursor can never reach another user's notes.

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
