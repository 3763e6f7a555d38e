/** PUT /notes/{id}: change a note's content/attachment; `If-Match` makes it conditional (412). */
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { etag, header, httpHandler, jsonBody, pathId } from "./http";
import { updateNote } from "./notes";

const deps = { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME") };

export const handler = httpHandler(async ({ userId, event, log }) => {
    const note = await updateNote({ ...deps, log }, userId, pathId(event), jsonBody(event), header(event, "if-match"));
    return { statusCode: 200, body: note, headers: { etag: etag(note) } };
});
