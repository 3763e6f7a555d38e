/**
 * The notes API's resources as clients see them. Types only, with no imports, so the web client
 * (web/src/notes.ts) shares them with a type-only import.
 */

/** A note as the API returns it. */
export interface Note {
    /** ULID issued by the server: sorts by creation time. */
    noteId: string;
    /** 1 byte to 64 KiB of UTF-8. */
    content: string;
    /** An S3 key under the caller's own `private/<identity id>/` prefix in the uploads bucket. */
    attachment?: string;
    createdAt: string;
    updatedAt: string;
    /** Starts at 1, +1 on every update; the ETag is this number in quotes. */
    version: number;
}

/** One page of `GET /notes`, newest first. */
export interface NotePage {
    notes: Note[];
    /** Present when more notes follow: pass it back as `?cursor=`. */
    cursor?: string;
}
