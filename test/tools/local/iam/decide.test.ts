import { strict as assert } from "node:assert";
import { decide, substituteVariables } from "../../../../tools/local/iam/decide";

const ACCOUNT = "123456789012";
const API = `arn:aws:execute-api:us-east-1:${ACCOUNT}:a1b2c3d4e5`;
const SUB = "${cognito-identity.amazonaws.com:sub}";
const ALICE = "us-east-1:11111111-1111-4111-a111-111111111111";
const BOB = "us-east-1:22222222-2222-4222-a222-222222222222";

const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });

/** The authenticated role policy the contract describes, for bucket `uploads-abc1234`. */
const rolePolicy = doc(
    {
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: ["GET", "POST"].flatMap((method) => [`${API}/$default/${method}/notes`, `${API}/$default/${method}/notes/*`]),
    },
    {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: `arn:aws:s3:::uploads-abc1234/private/${SUB}/*`,
    },
    {
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::uploads-abc1234",
        Condition: { StringLike: { "s3:prefix": [`private/${SUB}/`, `private/${SUB}/*`] } },
    },
);

describe("local IAM decisions", () => {
    it("allows an action on a resource an Allow statement names, with a wildcard path", async () => {
        assert.equal(await decide({ policies: [rolePolicy], action: "execute-api:Invoke", resource: `${API}/$default/GET/notes/01HZX` }), "Allow");
    });

    it("implicitly denies a method the policy does not list", async () => {
        assert.equal(await decide({ policies: [rolePolicy], action: "execute-api:Invoke", resource: `${API}/$default/DELETE/notes/01HZX` }), "ImplicitDeny");
    });

    it("implicitly denies another API id and another stage", async () => {
        const other = `arn:aws:execute-api:us-east-1:${ACCOUNT}:zzzzzzzzzz/$default/GET/notes`;
        assert.equal(await decide({ policies: [rolePolicy], action: "execute-api:Invoke", resource: other }), "ImplicitDeny");
        assert.equal(await decide({ policies: [rolePolicy], action: "execute-api:Invoke", resource: `${API}/prod/GET/notes` }), "ImplicitDeny");
    });

    it("resolves the identity-id variable so a caller reaches only its own prefix", async () => {
        const own = `arn:aws:s3:::uploads-abc1234/private/${ALICE}/photo.png`;
        const other = `arn:aws:s3:::uploads-abc1234/private/${BOB}/photo.png`;
        const variables = { "cognito-identity.amazonaws.com:sub": ALICE };
        assert.equal(await decide({ policies: [rolePolicy], action: "s3:PutObject", resource: own, variables }), "Allow");
        assert.equal(await decide({ policies: [rolePolicy], action: "s3:GetObject", resource: other, variables }), "ImplicitDeny");
        assert.equal(await decide({ policies: [rolePolicy], action: "s3:GetObject", resource: own }), "ImplicitDeny");
    });

    it("applies a StringLike condition on s3:prefix for ListBucket", async () => {
        const variables = { "cognito-identity.amazonaws.com:sub": ALICE };
        const bucket = "arn:aws:s3:::uploads-abc1234";
        const list = (prefix: string) => decide({ policies: [rolePolicy], action: "s3:ListBucket", resource: bucket, variables, context: { "s3:prefix": prefix } });
        assert.equal(await list(`private/${ALICE}/`), "Allow");
        assert.equal(await list(`private/${ALICE}/2024/`), "Allow");
        assert.equal(await list(`private/${BOB}/`), "ImplicitDeny");
        assert.equal(await list(""), "ImplicitDeny");
    });

    it("lets an explicit Deny win over an Allow, in an identity or a resource policy", async () => {
        const deny = doc({ Effect: "Deny", Action: "execute-api:Invoke", Resource: `${API}/*/GET/notes/*` });
        const resource = `${API}/$default/GET/notes/01HZX`;
        assert.equal(await decide({ policies: [rolePolicy, deny], action: "execute-api:Invoke", resource }), "ExplicitDeny");

        const bucketPolicy = doc({
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: ["arn:aws:s3:::uploads-abc1234", "arn:aws:s3:::uploads-abc1234/*"],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        });
        const own = `arn:aws:s3:::uploads-abc1234/private/${ALICE}/a.txt`;
        const variables = { "cognito-identity.amazonaws.com:sub": ALICE };
        const over = (secure: string) =>
            decide({ policies: [rolePolicy], resourcePolicy: bucketPolicy, action: "s3:GetObject", resource: own, variables, context: { "aws:SecureTransport": secure } });
        assert.equal(await over("false"), "ExplicitDeny");
        assert.equal(await over("true"), "Allow");
    });

    it("treats NotAction as every action except the listed ones", async () => {
        const policy = doc({ Effect: "Allow", NotAction: "s3:DeleteObject", Resource: "arn:aws:s3:::b/*" });
        assert.equal(await decide({ policies: [policy], action: "s3:GetObject", resource: "arn:aws:s3:::b/k" }), "Allow");
        assert.equal(await decide({ policies: [policy], action: "s3:DeleteObject", resource: "arn:aws:s3:::b/k" }), "ImplicitDeny");
    });

    it("matches StringEquals and ForAnyValue conditions on request context", async () => {
        const policy = doc({
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: "arn:aws:s3:::b",
            Condition: { StringEquals: { "s3:delimiter": "/" }, "ForAnyValue:StringLike": { "aws:TagKeys": ["team*"] } },
        });
        const list = (context: Record<string, string | string[]>) => decide({ policies: [policy], action: "s3:ListBucket", resource: "arn:aws:s3:::b", context });
        assert.equal(await list({ "s3:delimiter": "/", "aws:TagKeys": ["x", "team-a"] }), "Allow");
        assert.equal(await list({ "s3:delimiter": "/", "aws:TagKeys": ["x"] }), "ImplicitDeny");
        assert.equal(await list({ "s3:delimiter": ",", "aws:TagKeys": ["team-a"] }), "ImplicitDeny");
    });

    it("refuses to decide on a document that is not IAM JSON", async () => {
        await assert.rejects(decide({ policies: ["{ not json"], action: "s3:GetObject", resource: "arn:aws:s3:::b/k" }));
    });

    it("answers repeated requests from memory without mixing up callers", async () => {
        const file = `arn:aws:s3:::uploads-abc1234/private/${ALICE}/photo.png`;
        const ask = (caller: string) =>
            decide({ policies: [rolePolicy], action: "s3:GetObject", resource: file, variables: { "cognito-identity.amazonaws.com:sub": caller } });
        for (let round = 0; round < 3; round++) {
            assert.equal(await ask(ALICE), "Allow");
            assert.equal(await ask(BOB), "ImplicitDeny");
        }
    });

    it("does not remember a failure as a decision", async () => {
        const broken = { policies: ["{ not json"], action: "s3:GetObject", resource: "arn:aws:s3:::b/k" };
        await assert.rejects(decide(broken));
        await assert.rejects(decide(broken));
    });

    it("substitutes only the variables it is given and keeps IAM's escapes", () => {
        const text = '"private/${cognito-identity.amazonaws.com:sub}/${aws:username}/${*}"';
        assert.equal(substituteVariables(text, { "cognito-identity.amazonaws.com:sub": ALICE }), `"private/${ALICE}/\${aws:username}/\${*}"`);
    });
});
