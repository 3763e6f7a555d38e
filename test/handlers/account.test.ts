import { strict as assert } from "node:assert";
import { BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ERASURE_RESERVE_MS } from "../../handlers/erasure";
import { signedInUser, type HttpApiEvent } from "../../handlers/http";
import { httpEvent, HttpEventInput, TEST_IDENTITY_POOL_ID } from "../../tools/local/apigateway/event";
import { LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { localLambdaEnv } from "../../tools/local/lambda/environment";
import { FakeAws, startFakeAws } from "../support/fake-aws";
import { loadHandlerModules, LambdaHandler } from "../support/handlers";
import { captureLogs, CapturedLogs } from "../support/logs";

const POOL = "us-east-1_Example01";
const PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const ALICE = { identityId: "us-east-1:11111111-1111-4111-8111-111111111111", sub: "aaaaaaaa-1111-4111-8111-111111111111" };
const BOB = { identityId: "us-east-1:22222222-2222-4222-8222-222222222222", sub: "bbbbbbbb-2222-4222-8222-222222222222" };
const BUCKET = "notes-uploads-test";

/** The event of DELETE /account signed with a user's Identity Pool credentials, `amr` as Cognito Identity writes it. */
function accountEvent(user: { identityId: string; sub: string }, input: Partial<HttpEventInput> = {}, amr?: string[]): HttpApiEvent {
    const event = httpEvent({ identityId: user.identityId, method: "DELETE", path: "/account", ...input });
    event.requestContext!.authorizer!.iam!.cognitoIdentity!.amr = amr ?? ["authenticated", PROVIDER, `${PROVIDER}:CognitoSignIn:${user.sub}`];
    return event;
}

describe("signedInUser: the User Pool user behind Identity Pool credentials", () => {
    const expected = { providerName: PROVIDER, identityPoolId: TEST_IDENTITY_POOL_ID };

    it("reads the identity id and the sub of this stack's User Pool sign-in", () => {
        assert.deepEqual(signedInUser(accountEvent(ALICE), expected), ALICE);
    });

    const refused: [string, () => HttpApiEvent][] = [
        ["no Cognito identity", () => httpEvent({ identityId: null, method: "DELETE", path: "/account" })],
        ["an unauthenticated identity", () => accountEvent(ALICE, {}, ["unauthenticated"])],
        ["no sign-in entry in amr", () => accountEvent(ALICE, {}, ["authenticated", PROVIDER])],
        ["a sign-in to another User Pool", () => accountEvent(ALICE, {}, ["authenticated", `cognito-idp.us-east-1.amazonaws.com/us-east-1_Other0001:CognitoSignIn:${ALICE.sub}`])],
        ["a sign-in to the same pool id in another Region", () => accountEvent(ALICE, {}, ["authenticated", `cognito-idp.eu-west-1.amazonaws.com/${POOL}:CognitoSignIn:${ALICE.sub}`])],
        ["two sign-ins", () => accountEvent(ALICE, {}, ["authenticated", `${PROVIDER}:CognitoSignIn:${ALICE.sub}`, `${PROVIDER}:CognitoSignIn:${BOB.sub}`])],
        ["a sub that is not a UUID", () => accountEvent(ALICE, {}, ["authenticated", `${PROVIDER}:CognitoSignIn:alice`])],
        ["a sub with a suffix", () => accountEvent(ALICE, {}, ["authenticated", `${PROVIDER}:CognitoSignIn:${ALICE.sub}:extra`])],
        ["a provider with a prefix", () => accountEvent(ALICE, {}, ["authenticated", `evil.${PROVIDER}:CognitoSignIn:${ALICE.sub}`])],
        [
            "credentials of another Identity Pool",
            () => {
                const event = accountEvent(ALICE);
                event.requestContext!.authorizer!.iam!.cognitoIdentity!.identityPoolId = "us-east-1:99999999-9999-4999-8999-999999999999";
                return event;
            },
        ],
        ["amr that is not a list", () => accountEvent(ALICE, {}, `${PROVIDER}:CognitoSignIn:${ALICE.sub}` as unknown as string[])],
    ];
    for (const [what, event] of refused) {
        it(`refuses ${what} with Forbidden`, () => {
            assert.throws(() => signedInUser(event(), expected), (error: Error) => error.name === "Forbidden");
        });
    }
});

describe("DELETE /account (handlers/account.ts with its real SDK clients against dynalite and a loopback S3 and Cognito)", function () {
    this.timeout(60_000);
    let db: LocalDynamo;
    let aws: FakeAws;
    let account: { handler: LambdaHandler };
    let restoreEnv: () => void;
    let logs: CapturedLogs;
    const context = (remainingMs: number) => ({ awsRequestId: "lambda-req-1", getRemainingTimeInMillis: () => remainingMs });

    before(async () => {
        db = await startDynalite();
        aws = await startFakeAws(BUCKET);
        const loaded = loadHandlerModules(["account"], {
            ...localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint, bucketName: BUCKET, s3Endpoint: aws.endpoint }),
            AWS_ENDPOINT_URL_COGNITO_IDENTITY: aws.endpoint,
            AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: aws.endpoint,
            USER_POOL_ID: POOL,
            USER_POOL_PROVIDER_NAME: PROVIDER,
            IDENTITY_POOL_ID: TEST_IDENTITY_POOL_ID,
        });
        account = loaded.account;
        restoreEnv = loaded.restoreEnv;
    });
    after(async () => {
        restoreEnv?.();
        await aws?.stop();
        await db?.stop();
    });
    beforeEach(() => {
        logs = captureLogs();
        aws.requests.length = 0;
    });
    afterEach(() => logs.restore());

    async function seed(user: { identityId: string; sub: string }, notes: number, files: number): Promise<void> {
        const items = Array.from({ length: notes }, (_, i) => ({ userId: user.identityId, noteId: `01JD${String(i).padStart(22, "0")}`, content: "x", version: 1 }));
        for (let i = 0; i < items.length; i += 25) {
            await db.client.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
        }
        for (let i = 0; i < files; i++) aws.objects.set(`private/${user.identityId}/file-${i}.png`, [`v${i}a`, `v${i}b`]);
        aws.identities.add(user.identityId);
        aws.users.add(user.sub);
    }

    async function notesOf(userId: string): Promise<number> {
        const { Count } = await db.client.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": userId }, Select: "COUNT" }));
        return Count ?? 0;
    }

    it("answers 202 with what remains when the budget allows no work, and touches nothing", async () => {
        await seed(ALICE, 3, 1);
        const response = await account.handler(accountEvent(ALICE), context(ERASURE_RESERVE_MS));
        assert.equal(response.statusCode, 202);
        assert.equal(response.headers["content-type"], "application/json");
        assert.deepEqual(JSON.parse(response.body!), { remaining: ["notes", "files", "identity", "user"], deleted: { notes: 0, files: 0 } });
        assert.equal(await notesOf(ALICE.identityId), 3);
        assert.deepEqual(aws.requests, []);
    });

    it("erases the caller's notes, file versions, identity and user, answers 204, and 204 again", async () => {
        await seed(ALICE, 60, 3);
        await seed(BOB, 4, 2);
        const response = await account.handler(accountEvent(ALICE), context(20_000));
        assert.equal(response.statusCode, 204, response.body);
        assert.equal(response.body, undefined);
        assert.equal(await notesOf(ALICE.identityId), 0);
        assert.equal(await notesOf(BOB.identityId), 4);
        assert.deepEqual([...aws.objects.keys()].filter((key) => key.includes(ALICE.identityId)), []);
        assert.equal([...aws.objects.keys()].filter((key) => key.includes(BOB.identityId)).length, 2);
        assert.deepEqual(aws.requests, [
            `ListObjectVersions private/${ALICE.identityId}/`,
            "DeleteObjects 6",
            `DeleteIdentities ${ALICE.identityId}`,
            `AdminDeleteUser ${POOL} ${ALICE.sub}`,
        ]);
        assert.ok(aws.identities.has(BOB.identityId) && aws.users.has(BOB.sub) && !aws.users.has(ALICE.sub));

        const again = await account.handler(accountEvent(ALICE), context(20_000));
        assert.equal(again.statusCode, 204);
        const line = logs.lines.find((l) => l.message === "Account erasure");
        assert.deepEqual(line?.deleted, { notes: 60, files: 6 });
    });

    it("ignores identity ids and usernames in the path, query, body and headers: only the signed-in caller is erased", async () => {
        await seed(ALICE, 5, 1);
        await seed(BOB, 5, 1);
        const response = await account.handler(
            accountEvent(ALICE, {
                path: `/account?identityId=${encodeURIComponent(BOB.identityId)}&username=${BOB.sub}`,
                pathParameters: { id: BOB.identityId, username: BOB.sub },
                body: { identityId: BOB.identityId, username: BOB.sub, sub: BOB.sub, userId: BOB.identityId },
                headers: { "x-amz-cognito-identity-id": BOB.identityId, "x-username": BOB.sub, "x-identity-id": BOB.identityId },
            }),
            context(20_000),
        );
        assert.equal(response.statusCode, 204, response.body);
        assert.equal(await notesOf(ALICE.identityId), 0);
        assert.equal(await notesOf(BOB.identityId), 5);
        assert.ok(aws.objects.has(`private/${BOB.identityId}/file-0.png`));
        assert.ok(aws.identities.has(BOB.identityId) && aws.users.has(BOB.sub));
        assert.ok(aws.requests.every((line) => !line.includes(BOB.identityId) && !line.includes(BOB.sub)), aws.requests.join("\n"));
    });

    it("answers 403 to a sign-in from another User Pool, before anything is read or deleted", async () => {
        await seed(ALICE, 2, 1);
        const response = await account.handler(
            accountEvent(ALICE, {}, ["authenticated", `cognito-idp.us-east-1.amazonaws.com/us-east-1_Other0001:CognitoSignIn:${ALICE.sub}`]),
            context(20_000),
        );
        assert.equal(response.statusCode, 403);
        assert.match(JSON.parse(response.body!).message, /another User Pool/);
        assert.equal(await notesOf(ALICE.identityId), 2);
        assert.deepEqual(aws.requests, []);
    });

    it("fails its cold start with a message naming a missing variable", () => {
        assert.throws(
            () => loadHandlerModules(["account"], { TABLE_NAME: "t", BUCKET_NAME: "b", USER_POOL_ID: POOL, USER_POOL_PROVIDER_NAME: PROVIDER, IDENTITY_POOL_ID: undefined }),
            /IDENTITY_POOL_ID is required/,
        );
    });
});
