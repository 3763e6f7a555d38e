import { del, get, post, put } from "aws-amplify/api";
import { fetchAuthSession } from "aws-amplify/auth";
import type { Note } from "../../handlers/types";
import { NOTES_API } from "./amplify";

export type { Note };

/** A note with the `ETag` of the version it was read or written at (send it back as `If-Match`). */
export interface VersionedNote {
    note: Note;
    etag: string;
}

/** An API answer other than 2xx, with its status and the API's `{"message"}`. */
export class ApiFailure extends Error {
    constructor(
        readonly status: number,
        message: string,
        readonly errorType?: string,
    ) {
        super(message);
        this.name = "ApiFailure";
    }
}

/** The session can no longer produce credentials (signed out, or the refresh token expired). */
export class SessionExpired extends Error {
    constructor() {
        super("The session has expired");
        this.name = "SessionExpired";
    }
}

type Call = { response: Promise<{ statusCode: number; headers: Record<string, string>; body: { text(): Promise<string> } }> };

/**
 * Runs one API call signed with the Identity Pool credentials. Amplify would send the request
 * unsigned when it has no credentials, and the API would answer 403: say "session expired" instead.
 */
export async function call<T>(send: () => Call): Promise<{ body: T; headers: Record<string, string>; status: number }> {
    const { credentials } = await fetchAuthSession();
    if (!credentials) throw new SessionExpired();
    try {
        const { statusCode, headers, body } = await send().response;
        const text = await body.text();
        return { status: statusCode, headers, body: (text ? JSON.parse(text) : undefined) as T };
    } catch (error) {
        throw await toApiFailure(error);
    }
}

/** Amplify's RestApiError carries the raw response; the API's errors are `{"message": "…"}`. */
async function toApiFailure(error: unknown): Promise<unknown> {
    const response = (error as { response?: { statusCode: number; headers: Record<string, string>; body?: string } }).response;
    if (!response) return error;
    let message = (error as Error).message;
    try {
        const parsed = JSON.parse(response.body ?? "");
        if (typeof parsed?.message === "string") message = parsed.message;
        else if (typeof parsed?.Message === "string") message = parsed.Message;
    } catch {
        // not JSON: keep Amplify's message
    }
    return new ApiFailure(response.statusCode, message, response.headers["x-amzn-errortype"]);
}

export async function listNotes(cursor?: string): Promise<{ notes: Note[]; cursor?: string }> {
    const { body } = await call<{ notes: Note[]; cursor?: string }>(() =>
        get({ apiName: NOTES_API, path: "/notes", options: cursor ? { queryParams: { cursor } } : {} }),
    );
    return body;
}

export async function getNote(noteId: string): Promise<VersionedNote> {
    const { body, headers } = await call<Note>(() => get({ apiName: NOTES_API, path: `/notes/${encodeURIComponent(noteId)}` }));
    return { note: body, etag: headers.etag };
}

export async function createNote(content: string, attachment?: string): Promise<VersionedNote> {
    const { body, headers } = await call<Note>(() =>
        post({ apiName: NOTES_API, path: "/notes", options: { body: attachment === undefined ? { content } : { content, attachment } } }),
    );
    return { note: body, etag: headers.etag };
}

/** Changes content and/or attachment (`null` removes it); with `etag`, only if the note is still at that version (else 412). */
export async function updateNote(noteId: string, changes: { content?: string; attachment?: string | null }, etag?: string): Promise<VersionedNote> {
    const { body, headers } = await call<Note>(() =>
        put({ apiName: NOTES_API, path: `/notes/${encodeURIComponent(noteId)}`, options: { body: changes, headers: etag ? { "if-match": etag } : {} } }),
    );
    return { note: body, etag: headers.etag };
}

/** Deletes the note and its attachment; with `etag`, only if the note is still at that version (else 412). */
export async function deleteNote(noteId: string, etag?: string): Promise<void> {
    await call(() => del({ apiName: NOTES_API, path: `/notes/${encodeURIComponent(noteId)}`, options: { headers: etag ? { "if-match": etag } : {} } }));
}
