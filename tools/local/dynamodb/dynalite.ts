/**
 * A real DynamoDB engine for tests: dynalite, in memory, in this process, on a free loopback port.
 *
 *     let db: LocalDynamo;
 *     before(async () => { db = await startDynalite(); });        // creates the notes table
 *     after(async () => { await db.stop(); });
 *     // db.client: a DynamoDBDocumentClient bound to db.endpoint; db.tableName: the table
 *
 * The table has the production key schema (hash `userId` S, range `noteId` S, on-demand).
 * `stop()` drops open keep-alive connections first, so it returns at once; calling it twice is
 * harmless. Each call starts an independent server with its own empty store.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const dynalite: (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server =
    require("dynalite");

/** dynalite checks no signatures; any static credentials do. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;
export const LOCAL_REGION = "us-east-1";

export interface LocalDynamo {
    /** `http://127.0.0.1:<port>`, suitable for `AWS_ENDPOINT_URL_DYNAMODB`. */
    endpoint: string;
    port: number;
    tableName: string;
    /** Document client (plain JS values) bound to this endpoint. */
    client: DynamoDBDocumentClient;
    /** Builds another low-level client for this endpoint, e.g. with different retry settings. */
    makeClient(config?: DynamoDBClientConfig): DynamoDBClient;
    /** Stops the server; later requests fail with a connection error. Idempotent. */
    stop(): Promise<void>;
}

/**
 * Waits for a table dynalite just created to be ACTIVE. dynalite answers CreateTable with CREATING
 * and turns the table ACTIVE in a later write of its own (even with `createTableMs: 0`); until then
 * every item request is ResourceNotFoundException, which a loaded machine does meet.
 */
export async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
    while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== "ACTIVE") {
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

export interface StartDynaliteOptions {
    /** Name of the notes table to create. @default "notes" */
    tableName?: string;
}

export async function startDynalite(options: StartDynaliteOptions = {}): Promise<LocalDynamo> {
    const tableName = options.tableName ?? "notes";
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const endpoint = `http://127.0.0.1:${port}`;
    const makeClient = (config: DynamoDBClientConfig = {}) =>
        new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...config });
    const raw = makeClient();
    await raw.send(
        new CreateTableCommand({
            TableName: tableName,
            AttributeDefinitions: [
                { AttributeName: "userId", AttributeType: "S" },
                { AttributeName: "noteId", AttributeType: "S" },
            ],
            KeySchema: [
                { AttributeName: "userId", KeyType: "HASH" },
                { AttributeName: "noteId", KeyType: "RANGE" },
            ],
            BillingMode: "PAY_PER_REQUEST",
        }),
    );
    await waitUntilActive(raw, tableName);
    const client = DynamoDBDocumentClient.from(raw);

    let stopped: Promise<void> | undefined;
    const stop = () => {
        stopped ??= new Promise<void>((resolve, reject) => {
            raw.destroy();
            server.close((err) => (err ? reject(err) : resolve()));
            server.closeAllConnections();
        });
        return stopped;
    };
    return { endpoint, port, tableName, client, makeClient, stop };
}
