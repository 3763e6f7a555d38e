/**
 * Removing a deleted note's attachment from S3: the DeleteObject, retried, and an orphaned object
 * logged with its key when S3 keeps failing. No S3 code here: the client comes in as `s3`
 * (s3.ts builds it; delete.ts loads that only for the first attachment to remove).
 */
import type { DeleteObjectCommandInput } from "@aws-sdk/client-s3";
import { describeError, Logger } from "./log";
import { attachmentPrefix } from "./validation";

/**
 * The one S3 call the delete path makes, shaped like the SDK's `send(new DeleteObjectCommand(input))`
 * (a command is its `input` here), so that this module needs no S3 code: `createObjectDeleter()` in
 * s3.ts makes the real one, tests pass a fake.
 */
export interface ObjectDeleter {
    send(command: { input: DeleteObjectCommandInput }): Promise<unknown>;
}

export interface AttachmentDeps {
    s3: ObjectDeleter;
    bucketName: string;
    /** Waits between attachment clean-up attempts; its length + 1 is the number of attempts. @default [100, 400] */
    cleanupRetryDelaysMs?: readonly number[];
    /** @default setTimeout-based */
    sleep?: (ms: number) => Promise<void>;
}

/**
 * Deletes the object `key` of a note the caller has just deleted. Never throws: a clean-up that
 * keeps failing leaves an orphaned object under the caller's own prefix, logged for a later sweep.
 */
export async function removeAttachment(deps: AttachmentDeps, log: Logger, userId: string, noteId: string, key: string): Promise<void> {
    // Keys were validated on write; this re-check means no stored value can ever make the delete
    // path touch an object outside the caller's prefix.
    if (!key.startsWith(attachmentPrefix(userId))) {
        log.error("Attachment outside the caller's prefix left in place", { noteId, key });
        return;
    }
    const delays = deps.cleanupRetryDelaysMs ?? [100, 400];
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
        try {
            await deps.s3.send({ input: { Bucket: deps.bucketName, Key: key } });
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
