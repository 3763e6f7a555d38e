/** GET /notes/{id}: one of the caller's notes, with its version as the ETag. */
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { etag, httpHandler, pathId } from "./http";
import { getNote } from "./notes";

const deps = { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME") };

export const handler = httpHandler(async ({ userId, event, log }) => {
    const note = await getNote({ ...deps, log }, userId, pathId(event));
    return { statusCode: 200, body: note, headers: { etag: etag(note) } };
});
