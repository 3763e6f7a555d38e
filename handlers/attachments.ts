/**
 * Removing a deleted note's attachment from S3: the DeleteObject, retried, and an orphaned object
 * logged with its key when S3 keeps failing. The S3 SDK is loaded on the first clean-up, not at
 * cold start (`s3Sdk()`).
 */
import type { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { describeError, Logger } from "./log";
import { attachmentPrefix } from "./validation";

/** The one S3 call the delete path makes; an `S3Client` satisfies it, and so does a test fake. */
export interface ObjectDeleter {
    send(command: DeleteObjectCommand): Promise<unknown>;
}

export interface AttachmentDeps {
    s3: ObjectDeleter;
    bucketName: string;
    /** Waits between attachment clean-up attempts; its length + 1 is the number of attempts. @default [100, 400] */
    cleanupRetryDelaysMs?: readonly number[];
    /** @default setTimeout-based */
    sleep?: (ms: number) => Promise<void>;
}

type S3Sdk = typeof import("./s3");
let sdk: S3Sdk | undefined;

/**
 * The S3 SDK (`./s3`), loaded when an attachment is first removed. A `require` here rather than an
 * `import` at the top keeps it out of cold starts, where most deletes have no attachment to remove.
 * In a deployed bundle `./s3` is bundled on its own and compiled only now (lib/bundle.ts, "lazy
 * modules"), so it costs the cold start nothing, not even parsing.
 */
function s3Sdk(): S3Sdk {
    return (sdk ??= require("./s3") as S3Sdk);
}

/** An S3 client built when first used: what the delete function passes as `s3`. */
export function s3ClientOnFirstUse(): ObjectDeleter {
    let client: ObjectDeleter | undefined;
    return { send: (command) => (client ??= s3Sdk().createS3Client()).send(command) };
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
            await deps.s3.send(s3Sdk().deleteObjectCommand(deps.bucketName, key));
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
