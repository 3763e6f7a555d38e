import { downloadData, getUrl, remove, uploadData } from "aws-amplify/storage";

/**
 * A note's attachment lives at `private/<identity id>/<note id>/<file name>`: the caller's own
 * prefix, the only one the authenticated role may read or write.
 */
export function attachmentPath(noteId: string, fileName: string): ({ identityId }: { identityId?: string }) => string {
    const name = fileName.replace(/[/\\]/g, "_").slice(-200) || "file";
    return ({ identityId }) => `private/${identityId}/${noteId}/${name}`;
}

/** The file name part of an attachment path. */
export function fileNameOf(path: string): string {
    return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Uploads with overwrite protection (`If-None-Match: *`): S3 refuses, with 412 PreconditionFailed,
 * a file that is already there rather than replace it. Files over 5 MiB go up in parts.
 */
export async function uploadAttachment(noteId: string, file: Blob & { name?: string }, onProgress?: (fraction: number) => void): Promise<string> {
    const { path } = await uploadData({
        path: attachmentPath(noteId, file.name ?? "file"),
        data: file,
        options: {
            contentType: file.type || "application/octet-stream",
            preventOverwrite: true,
            onProgress: ({ transferredBytes, totalBytes }) => onProgress?.(totalBytes ? transferredBytes / totalBytes : 0),
        },
    }).result;
    return path;
}

export async function downloadAttachment(path: string): Promise<Blob> {
    const { body } = await downloadData({ path }).result;
    return body.blob();
}

/** A presigned GET URL, valid for five minutes; fails with NotFound when the file is gone. */
export async function attachmentUrl(path: string): Promise<URL> {
    const { url } = await getUrl({ path, options: { validateObjectExistence: true, expiresIn: 300 } });
    return url;
}

export async function removeAttachment(path: string): Promise<void> {
    await remove({ path });
}
