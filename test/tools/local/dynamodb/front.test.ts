import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { strict as assert } from "node:assert";
import { Server } from "node:http";
import { AddressInfo } from "node:net";
import { CredentialStore } from "../../../../tools/local/sts/credentials";
import { dynamoResources, LocalDynamoFront } from "../../../../tools/local/dynamodb/front";
import { waitUntilActive } from "../../../../tools/local/dynamodb/dynalite";
import { LocalRegistry } from "../../../../tools/local/registry";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const TABLE = "notes-abc1234";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/list-role`;
const ADMIN = { accessKeyId: "AKIAADMINADMINADMIN0", secretAccessKey: "admin-secret-admin-secret-admin-secret00" };

describe("local DynamoDB front (what the functions call)", () => {
    let dynalite: Server;
    let front: LocalDynamoFront;
    let client: DynamoDBClient;
    let endpoint: string;
    const store = new CredentialStore();

    before(async () => {
        dynalite = require("dynalite")({ createTableMs: 0 });
        await new Promise<void>((resolve) => dynalite.listen(0, "127.0.0.1", () => resolve()));
        const backend = `http://127.0.0.1:${(dynalite.address() as AddressInfo).port}`;
        const admin = new DynamoDBClient({ region: REGION, endpoint: backend, credentials: { accessKeyId: "x", secretAccessKey: "x" } });
        await admin.send(
            new CreateTableCommand({
                TableName: TABLE,
                AttributeDefinitions: [{ AttributeName: "userId", AttributeType: "S" }, { AttributeName: "noteId", AttributeType: "S" }],
                KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }, { AttributeName: "noteId", KeyType: "RANGE" }],
                BillingMode: "PAY_PER_REQUEST",
            }),
        );
        await waitUntilActive(admin, TABLE);
        const registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("list-role", { name: "list-role", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set(
            "list-role",
            new Map([["table", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["dynamodb:Query"], Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}` }] })]]),
        );
        front = new LocalDynamoFront({ backend, registry, store, admin: ADMIN, log: () => undefined });
        const session = store.mint({ roleArn: ROLE_ARN, sessionName: "list" });
        endpoint = `http://127.0.0.1:${await front.listen(0)}`;
        client = new DynamoDBClient({
            region: REGION,
            endpoint,
            credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken },
            maxAttempts: 1,
        });
    });

    after(async () => {
        await front.close();
        await new Promise<void>((resolve) => dynalite.close(() => resolve()));
    });

    it("passes an operation the function role allows through to the table", async () => {
        const result = await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": { S: "u1" } } }));
        assert.equal(result.Count, 0);
    });

    it("refuses an operation the function role does not allow with DynamoDB's AccessDeniedException", async () => {
        await assert.rejects(
            client.send(new PutItemCommand({ TableName: TABLE, Item: { userId: { S: "u1" }, noteId: { S: "n1" } } })),
            (error: any) => error.name === "AccessDeniedException" && /is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table\/notes-abc1234/.test(error.message),
        );
        const after = await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": { S: "u1" } } }));
        assert.equal(after.Count, 0, "nothing was written");
    });

    it("lets the local admin key call every action, as an account administrator", async () => {
        const admin = new DynamoDBClient({ region: REGION, endpoint, credentials: ADMIN, maxAttempts: 1 });
        await admin.send(new PutItemCommand({ TableName: TABLE, Item: { userId: { S: "u2" }, noteId: { S: "n1" } } }));
        const found = await admin.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": { S: "u2" } } }));
        assert.equal(found.Count, 1);
        const wrong = new DynamoDBClient({ region: REGION, endpoint, credentials: { ...ADMIN, secretAccessKey: "not-the-admin-secret" }, maxAttempts: 1 });
        await assert.rejects(wrong.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": { S: "u2" } } })), (error: any) => error.name === "InvalidSignatureException");
    });

    it("refuses a request signed with a wrong secret", async () => {
        const session = store.mint({ roleArn: ROLE_ARN, sessionName: "forged" });
        const forged = new DynamoDBClient({ region: REGION, endpoint, credentials: { accessKeyId: session.accessKeyId, secretAccessKey: "wrong", sessionToken: session.sessionToken }, maxAttempts: 1 });
        await assert.rejects(forged.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": { S: "u1" } } })), (error: any) => error.name === "InvalidSignatureException");
    });

    it("names the table, the index or every batch table as the resource", () => {
        const arn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
        assert.deepEqual(dynamoResources({ TableName: "t" }, REGION, ACCOUNT), [arn("t")]);
        assert.deepEqual(dynamoResources({ TableName: "t", IndexName: "byDate" }, REGION, ACCOUNT), [`${arn("t")}/index/byDate`]);
        assert.deepEqual(dynamoResources({ RequestItems: { a: [], b: [] } }, REGION, ACCOUNT), [arn("a"), arn("b")]);
    });
});
