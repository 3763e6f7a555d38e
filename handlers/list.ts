/** GET /notes?limit=&cursor=: the caller's notes, newest first, one page at a time. */
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { httpHandler } from "./http";
import { listNotes } from "./notes";

const deps = { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME") };

export const handler = httpHandler(async ({ userId, event, log }) => ({
    statusCode: 200,
    body: await listNotes({ ...deps, log }, userId, event.queryStringParameters ?? {}),
}));
