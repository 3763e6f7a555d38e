/** POST /notes: create a note for the caller. 201 with the note and its ETag. */
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { etag, httpHandler, jsonBody } from "./http";
import { createNote } from "./notes";

const deps = { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME") };

export const handler = httpHandler(async ({ userId, event, log }) => {
    const note = await createNote({ ...deps, log }, userId, jsonBody(event));
    return { statusCode: 201, body: note, headers: { etag: etag(note) } };
});
