/**
 * Where a user's files live in the uploads bucket. A module of its own, without zod, so that the
 * account function's bundle (erasure.ts) shares it with the note validation without the schemas.
 */

/** The caller's own prefix in the uploads bucket, the only one its IAM role can write. */
export function attachmentPrefix(userId: string): string {
    return `private/${userId}/`;
}
