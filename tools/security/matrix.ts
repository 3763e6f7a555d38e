/**
 * The least-privilege matrix: every request a principal of this stack might make, with the
 * decision it MUST get written next to it, evaluated against the IAM documents the real program
 * generates by a real policy simulator (`decide()` in tools/local/iam/decide.ts, on @cloud-copilot/iam-simulate).
 *
 * Expected decisions are literals in this file, never derived from the program or from
 * NOTES_ROUTES: the matrix is the specification the generated policies are checked against.
 * "Handler" here is any of the program's functions: the five note routes' and the account route's.
 * `npm run security:matrix` prints it; test/security/matrix.test.ts asserts every cell.
 */
import { FUNCTION_NAMES as HANDLER_NAMES, type FunctionName as HandlerName } from "../../components/account";
import type { ProgramRun, RecordedResource } from "../engine/program";
import { decide, Decision } from "../local/iam/decide";

export type Expected = "Allow" | "Deny";

/** Who asks: the signed-in users' role, its trust policy (who may become it), or a function's role. */
export type Subject = "authenticated" | "trust" | `function:${HandlerName}`;

/** The names and documents of one stack, read from the program's recorded resources. */
export interface StackFacts {
    stack: string;
    region: string;
    accountId: string;
    apiId: string;
    /** `arn:aws:execute-api:<region>:<account>:<apiId>` */
    executionArn: string;
    bucket: string;
    bucketArn: string;
    bucketPolicy: string;
    tableName: string;
    tableArn: string;
    userPoolId: string;
    userPoolArn: string;
    identityPoolId: string;
    identityPoolArn: string;
    authenticated: { roleName: string; roleArn: string; trustPolicy: string; policies: string[] };
    functions: Record<HandlerName, { functionArn: string; roleName: string; roleArn: string; policies: string[]; logGroupArn: string }>;
    /** The simulated caller's Identity Pool id (`${cognito-identity.amazonaws.com:sub}`). */
    ownIdentity: string;
    /** Another signed-in user of the same pool. */
    otherIdentity: string;
}

export interface SimulatedRequest {
    action: string;
    resource: string;
    context?: Record<string, string | string[]>;
    /** Trust rows only: who asks to assume the role (default: the Cognito federated principal). */
    principal?: string;
}

export interface MatrixCase {
    subject: Subject;
    /** What is attempted, as the end of a sentence ("get an object under its own prefix"). */
    attempt: string;
    expected: Expected;
    request(facts: StackFacts): SimulatedRequest;
}

export interface MatrixResult {
    case: MatrixCase;
    request: SimulatedRequest;
    decision: Decision;
    /** The decision reduced to Allow/Deny, compared with `case.expected`. */
    outcome: Expected;
    pass: boolean;
}

const COGNITO = "cognito-identity.amazonaws.com";
const NOTE_ID = "01JD5Z8Q6T3V9K2M4N7P1R0S8W";
const ANOTHER_API_ID = "zz9zz9zz9z";
const KMS_KEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

// ---------------------------------------------------------------------------------------------
// The signed-in users' role (Identity Pool authenticated role).
// ---------------------------------------------------------------------------------------------

const route = (method: string, path: string, apiArn?: (f: StackFacts) => string) => (f: StackFacts): SimulatedRequest => ({
    action: "execute-api:Invoke",
    // As API Gateway builds it for a request: <apiArn>/<stage>/<METHOD>/<request path>.
    resource: `${apiArn ? apiArn(f) : f.executionArn}/$default/${method}${path}`,
});
const object = (action: string, key: (f: StackFacts) => string) => (f: StackFacts): SimulatedRequest => ({
    action,
    resource: `${f.bucketArn}/${key(f)}`,
});
const list = (prefix?: (f: StackFacts) => string) => (f: StackFacts): SimulatedRequest => ({
    action: "s3:ListBucket",
    resource: f.bucketArn,
    context: prefix ? { "s3:prefix": prefix(f) } : undefined,
});
const bucketAction = (action: string) => (f: StackFacts): SimulatedRequest => ({ action, resource: f.bucketArn });
const ownKey = (f: StackFacts) => `private/${f.ownIdentity}/photo.png`;
const otherKey = (f: StackFacts) => `private/${f.otherIdentity}/photo.png`;

/** Rows of one subject (typed, so each `request` gets `StackFacts` for its argument). */
const rowsOf = (subject: Subject, rows: Omit<MatrixCase, "subject">[]): MatrixCase[] => rows.map((row) => ({ subject, ...row }));

const AUTHENTICATED = rowsOf("authenticated", [
    { attempt: "invoke POST /notes", expected: "Allow", request: route("POST", "/notes") },
    { attempt: "invoke GET /notes", expected: "Allow", request: route("GET", "/notes") },
    { attempt: "invoke GET /notes/{id}", expected: "Allow", request: route("GET", `/notes/${NOTE_ID}`) },
    { attempt: "invoke PUT /notes/{id}", expected: "Allow", request: route("PUT", `/notes/${NOTE_ID}`) },
    { attempt: "invoke DELETE /notes/{id}", expected: "Allow", request: route("DELETE", `/notes/${NOTE_ID}`) },
    { attempt: "invoke PATCH /notes/{id} (no such route)", expected: "Deny", request: route("PATCH", `/notes/${NOTE_ID}`) },
    { attempt: "invoke POST /notes/{id} (no such route)", expected: "Deny", request: route("POST", `/notes/${NOTE_ID}`) },
    { attempt: "invoke PUT /notes (no such route)", expected: "Deny", request: route("PUT", "/notes") },
    { attempt: "invoke DELETE /notes (no such route)", expected: "Deny", request: route("DELETE", "/notes") },
    { attempt: "invoke GET /admin (no such route)", expected: "Deny", request: route("GET", "/admin") },
    { attempt: "invoke DELETE /account", expected: "Allow", request: route("DELETE", "/account") },
    { attempt: "invoke GET /account (no such route)", expected: "Deny", request: route("GET", "/account") },
    { attempt: "invoke DELETE /account/{id} (no such route)", expected: "Deny", request: (f) => route("DELETE", `/account/${f.otherIdentity}`)(f) },
    { attempt: "invoke GET /notes on another API id", expected: "Deny", request: route("GET", "/notes", (f) => `arn:aws:execute-api:${f.region}:${f.accountId}:${ANOTHER_API_ID}`) },
    { attempt: "invoke GET /notes of this API id in another account", expected: "Deny", request: route("GET", "/notes", (f) => `arn:aws:execute-api:${f.region}:210987654321:${f.apiId}`) },
    { attempt: "get an object under its own prefix", expected: "Allow", request: object("s3:GetObject", ownKey) },
    { attempt: "put an object under its own prefix", expected: "Allow", request: object("s3:PutObject", ownKey) },
    { attempt: "delete an object under its own prefix", expected: "Allow", request: object("s3:DeleteObject", ownKey) },
    { attempt: "get an object under another identity's prefix", expected: "Deny", request: object("s3:GetObject", otherKey) },
    { attempt: "put an object under another identity's prefix", expected: "Deny", request: object("s3:PutObject", otherKey) },
    { attempt: "delete an object under another identity's prefix", expected: "Deny", request: object("s3:DeleteObject", otherKey) },
    { attempt: "abort a multipart upload under its own prefix", expected: "Allow", request: object("s3:AbortMultipartUpload", ownKey) },
    { attempt: "list the parts of a multipart upload under its own prefix", expected: "Allow", request: object("s3:ListMultipartUploadParts", ownKey) },
    { attempt: "abort a multipart upload under another identity's prefix", expected: "Deny", request: object("s3:AbortMultipartUpload", otherKey) },
    { attempt: "list the parts of a multipart upload under another identity's prefix", expected: "Deny", request: object("s3:ListMultipartUploadParts", otherKey) },
    { attempt: "abort a multipart upload at the bucket root", expected: "Deny", request: object("s3:AbortMultipartUpload", () => "photo.png") },
    { attempt: "list every multipart upload in progress in the bucket", expected: "Deny", request: bucketAction("s3:ListBucketMultipartUploads") },
    { attempt: "get an object at the bucket root", expected: "Deny", request: object("s3:GetObject", () => "photo.png") },
    { attempt: "put an object at the bucket root", expected: "Deny", request: object("s3:PutObject", () => "photo.png") },
    { attempt: "delete an object directly under private/", expected: "Deny", request: object("s3:DeleteObject", () => "private/photo.png") },
    { attempt: "get an object under a look-alike prefix (own id + suffix)", expected: "Deny", request: object("s3:GetObject", (f) => `private/${f.ownIdentity}x/photo.png`) },
    { attempt: "get its own key in another bucket", expected: "Deny", request: (f) => ({ action: "s3:GetObject", resource: `arn:aws:s3:::another-bucket/${ownKey(f)}` }) },
    { attempt: "get its own object over plain HTTP", expected: "Deny", request: (f) => ({ ...object("s3:GetObject", ownKey)(f), context: { "aws:SecureTransport": "false" } }) },
    { attempt: "list with its own prefix", expected: "Allow", request: list((f) => `private/${f.ownIdentity}/`) },
    { attempt: "list with a folder under its own prefix", expected: "Allow", request: list((f) => `private/${f.ownIdentity}/2026/`) },
    { attempt: "list without a prefix", expected: "Deny", request: list() },
    { attempt: "list with an empty prefix (bucket root)", expected: "Deny", request: list(() => "") },
    { attempt: "list with the prefix private/", expected: "Deny", request: list(() => "private/") },
    { attempt: "list with another identity's prefix", expected: "Deny", request: list((f) => `private/${f.otherIdentity}/`) },
    { attempt: "set an ACL on its own object", expected: "Deny", request: object("s3:PutObjectAcl", ownKey) },
    { attempt: "get an older version of its own object", expected: "Deny", request: object("s3:GetObjectVersion", ownKey) },
    { attempt: "delete an older version of its own object", expected: "Deny", request: object("s3:DeleteObjectVersion", ownKey) },
    { attempt: "s3:PutBucketPolicy on the bucket", expected: "Deny", request: bucketAction("s3:PutBucketPolicy") },
    { attempt: "s3:PutBucketAcl on the bucket", expected: "Deny", request: bucketAction("s3:PutBucketAcl") },
    { attempt: "s3:DeleteBucket on the bucket", expected: "Deny", request: bucketAction("s3:DeleteBucket") },
    { attempt: "s3:PutBucketCORS on the bucket", expected: "Deny", request: bucketAction("s3:PutBucketCORS") },
    { attempt: "dynamodb:GetItem on the notes table", expected: "Deny", request: (f) => ({ action: "dynamodb:GetItem", resource: f.tableArn }) },
    { attempt: "dynamodb:PutItem on the notes table", expected: "Deny", request: (f) => ({ action: "dynamodb:PutItem", resource: f.tableArn }) },
    { attempt: "dynamodb:Query on the notes table", expected: "Deny", request: (f) => ({ action: "dynamodb:Query", resource: f.tableArn }) },
    { attempt: "dynamodb:Scan on the notes table", expected: "Deny", request: (f) => ({ action: "dynamodb:Scan", resource: f.tableArn }) },
    { attempt: "lambda:InvokeFunction on the list function directly", expected: "Deny", request: (f) => ({ action: "lambda:InvokeFunction", resource: f.functions.list.functionArn }) },
    { attempt: "iam:PassRole on its own role", expected: "Deny", request: (f) => ({ action: "iam:PassRole", resource: f.authenticated.roleArn }) },
    { attempt: "iam:PutRolePolicy on its own role", expected: "Deny", request: (f) => ({ action: "iam:PutRolePolicy", resource: f.authenticated.roleArn }) },
    { attempt: "iam:CreateUser", expected: "Deny", request: (f) => ({ action: "iam:CreateUser", resource: `arn:aws:iam::${f.accountId}:user/intruder` }) },
    { attempt: "sts:AssumeRole into the delete function's role", expected: "Deny", request: (f) => ({ action: "sts:AssumeRole", resource: f.functions.delete.roleArn }) },
    { attempt: "kms:Decrypt with a key of the account", expected: "Deny", request: (f) => ({ action: "kms:Decrypt", resource: `arn:aws:kms:${f.region}:${f.accountId}:key/${KMS_KEY}` }) },
    { attempt: "kms:CreateGrant on a key of the account", expected: "Deny", request: (f) => ({ action: "kms:CreateGrant", resource: `arn:aws:kms:${f.region}:${f.accountId}:key/${KMS_KEY}` }) },
    { attempt: "cognito-idp:AdminGetUser on the User Pool", expected: "Deny", request: (f) => ({ action: "cognito-idp:AdminGetUser", resource: f.userPoolArn }) },
    { attempt: "cognito-idp:AdminDeleteUser on the User Pool", expected: "Deny", request: (f) => ({ action: "cognito-idp:AdminDeleteUser", resource: f.userPoolArn }) },
    { attempt: "cognito-identity:DeleteIdentities in the Identity Pool", expected: "Deny", request: (f) => deleteIdentities(() => f.identityPoolArn)(f) },
    { attempt: "lambda:InvokeFunction on the account function directly", expected: "Deny", request: (f) => ({ action: "lambda:InvokeFunction", resource: f.functions.account.functionArn }) },
]);

// ---------------------------------------------------------------------------------------------
// The authenticated role's trust policy: who may obtain its credentials.
// ---------------------------------------------------------------------------------------------

const webIdentity = (overrides: { aud?: (f: StackFacts) => string; amr?: (f: StackFacts) => string[]; principal?: string } = {}) =>
    (f: StackFacts): SimulatedRequest => ({
        action: "sts:AssumeRoleWithWebIdentity",
        resource: f.authenticated.roleArn,
        principal: overrides.principal ?? COGNITO,
        context: {
            [`${COGNITO}:aud`]: overrides.aud ? overrides.aud(f) : f.identityPoolId,
            // What Cognito puts in `amr` for a User Pool sign-in.
            [`${COGNITO}:amr`]: overrides.amr
                ? overrides.amr(f)
                : ["authenticated", `cognito-idp.${f.region}.amazonaws.com/${f.userPoolId}`, `cognito-idp.${f.region}.amazonaws.com/${f.userPoolId}:CognitoSignIn:3f1b0c2e`],
        },
    });

const TRUST = rowsOf("trust", [
    { attempt: "sts:AssumeRoleWithWebIdentity from this Identity Pool, amr authenticated", expected: "Allow", request: webIdentity() },
    { attempt: "sts:AssumeRoleWithWebIdentity from another Identity Pool", expected: "Deny", request: webIdentity({ aud: (f) => `${f.region}:99999999-9999-4999-8999-999999999999` }) },
    { attempt: "sts:AssumeRoleWithWebIdentity as an unauthenticated identity", expected: "Deny", request: webIdentity({ amr: () => ["unauthenticated"] }) },
    { attempt: "sts:AssumeRoleWithWebIdentity through another identity provider", expected: "Deny", request: webIdentity({ principal: "accounts.google.com" }) },
    {
        attempt: "sts:AssumeRole by the account root",
        expected: "Deny",
        request: (f) => ({ action: "sts:AssumeRole", resource: f.authenticated.roleArn, principal: `arn:aws:iam::${f.accountId}:root` }),
    },
]);

// ---------------------------------------------------------------------------------------------
// Each function's role. One literal row per function; columns are the DynamoDB actions.
// ---------------------------------------------------------------------------------------------

const TABLE_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem"] as const;
type TableAction = (typeof TABLE_ACTIONS)[number];
const A = "Allow" as const;
const D = "Deny" as const;

/** The decision each function's role must get for each action on the notes table. */
const FUNCTION_TABLE_ACCESS: Record<HandlerName, Record<TableAction, Expected>> = {
    //       GetItem     PutItem     UpdateItem     DeleteItem     Query     Scan     BatchGetItem     BatchWriteItem
    create: { GetItem: D, PutItem: A, UpdateItem: D, DeleteItem: D, Query: D, Scan: D, BatchGetItem: D, BatchWriteItem: D },
    list: { GetItem: D, PutItem: D, UpdateItem: D, DeleteItem: D, Query: A, Scan: D, BatchGetItem: D, BatchWriteItem: D },
    get: { GetItem: A, PutItem: D, UpdateItem: D, DeleteItem: D, Query: D, Scan: D, BatchGetItem: D, BatchWriteItem: D },
    update: { GetItem: A, PutItem: D, UpdateItem: A, DeleteItem: D, Query: D, Scan: D, BatchGetItem: D, BatchWriteItem: D },
    delete: { GetItem: A, PutItem: D, UpdateItem: D, DeleteItem: A, Query: D, Scan: D, BatchGetItem: D, BatchWriteItem: D },
    account: { GetItem: D, PutItem: D, UpdateItem: D, DeleteItem: D, Query: A, Scan: D, BatchGetItem: D, BatchWriteItem: A },
};

/** Only the delete function removes attachments (under any user's prefix: it acts for the caller it verified). */
const FUNCTION_DELETES_ATTACHMENTS: Record<HandlerName, Expected> = { create: D, list: D, get: D, update: D, delete: A, account: A };

/** Only the account function erases: every version of a file, the caller's identity and its user. */
const FUNCTION_ERASES_ACCOUNTS: Record<HandlerName, Expected> = { create: D, list: D, get: D, update: D, delete: D, account: A };

/** Another function's log group, for the "cannot write another function's logs" row. */
const NEIGHBOUR: Record<HandlerName, HandlerName> = { create: "list", list: "get", get: "update", update: "delete", delete: "account", account: "create" };

const listVersions = (prefix?: string) => (f: StackFacts): SimulatedRequest => ({
    action: "s3:ListBucketVersions",
    resource: f.bucketArn,
    context: prefix === undefined ? undefined : { "s3:prefix": prefix.replace("<other>", f.otherIdentity) },
});
const ANOTHER_POOL = "us-east-1_Another01";
/** DeleteIdentities has no resource type: IAM names the pool in `cognito-identity:IdentityPoolArn`. */
const deleteIdentities = (pool?: (f: StackFacts) => string) => (f: StackFacts): SimulatedRequest => ({
    action: "cognito-identity:DeleteIdentities",
    resource: "*",
    context: pool ? { "cognito-identity:IdentityPoolArn": pool(f) } : undefined,
});
const ANOTHER_IDENTITY_POOL = "us-east-1:99999999-9999-4999-8999-999999999999";

/** The account function's erasure rights, each with the nearest thing it must not do. */
function erasureCases(handler: HandlerName): Omit<MatrixCase, "subject">[] {
    const erases = FUNCTION_ERASES_ACCOUNTS[handler];
    const rows: Omit<MatrixCase, "subject">[] = [
        { attempt: "s3:DeleteObjectVersion of a file version under private/<id>/", expected: erases, request: object("s3:DeleteObjectVersion", otherKey) },
        { attempt: "s3:ListBucketVersions with a prefix under private/", expected: erases, request: listVersions("private/<other>/") },
        { attempt: "cognito-identity:DeleteIdentities in this Identity Pool", expected: erases, request: deleteIdentities((f) => f.identityPoolArn) },
        { attempt: "cognito-idp:AdminDeleteUser on this User Pool", expected: erases, request: (f) => ({ action: "cognito-idp:AdminDeleteUser", resource: f.userPoolArn }) },
    ];
    if (erases === "Deny") return rows;
    rows.push(
        { attempt: "s3:DeleteObjectVersion outside private/", expected: "Deny", request: object("s3:DeleteObjectVersion", () => "public/photo.png") },
        { attempt: "s3:DeleteObjectVersion in another bucket", expected: "Deny", request: (f) => ({ action: "s3:DeleteObjectVersion", resource: `arn:aws:s3:::another-bucket/${otherKey(f)}` }) },
        { attempt: "s3:GetObjectVersion of a file version", expected: "Deny", request: object("s3:GetObjectVersion", otherKey) },
        { attempt: "s3:ListBucketVersions without a prefix", expected: "Deny", request: listVersions() },
        { attempt: "s3:ListBucketVersions with an empty prefix (bucket root)", expected: "Deny", request: listVersions("") },
        { attempt: "s3:ListBucketVersions with a prefix outside private/", expected: "Deny", request: listVersions("public/") },
        { attempt: "s3:ListBucket (it lists versions only)", expected: "Deny", request: list(() => "private/") },
        { attempt: "s3:PutBucketVersioning on the bucket", expected: "Deny", request: bucketAction("s3:PutBucketVersioning") },
        { attempt: "s3:PutLifecycleConfiguration on the bucket", expected: "Deny", request: bucketAction("s3:PutLifecycleConfiguration") },
        { attempt: "s3:DeleteBucket on the bucket", expected: "Deny", request: bucketAction("s3:DeleteBucket") },
        { attempt: "dynamodb:DeleteTable on the notes table", expected: "Deny", request: (f) => ({ action: "dynamodb:DeleteTable", resource: f.tableArn }) },
        {
            attempt: "cognito-identity:DeleteIdentities in another Identity Pool",
            expected: "Deny",
            request: deleteIdentities((f) => `arn:aws:cognito-identity:${f.region}:${f.accountId}:identitypool/${ANOTHER_IDENTITY_POOL}`),
        },
        { attempt: "cognito-identity:DeleteIdentities without a pool in the request", expected: "Deny", request: deleteIdentities() },
        { attempt: "cognito-identity:DeleteIdentityPool on this Identity Pool", expected: "Deny", request: (f) => ({ action: "cognito-identity:DeleteIdentityPool", resource: f.identityPoolArn }) },
        { attempt: "cognito-identity:ListIdentities of this Identity Pool", expected: "Deny", request: (f) => ({ action: "cognito-identity:ListIdentities", resource: f.identityPoolArn }) },
        {
            attempt: "cognito-idp:AdminDeleteUser on another User Pool",
            expected: "Deny",
            request: (f) => ({ action: "cognito-idp:AdminDeleteUser", resource: `arn:aws:cognito-idp:${f.region}:${f.accountId}:userpool/${ANOTHER_POOL}` }),
        },
        { attempt: "cognito-idp:DeleteUserPool on this User Pool", expected: "Deny", request: (f) => ({ action: "cognito-idp:DeleteUserPool", resource: f.userPoolArn }) },
        { attempt: "cognito-idp:AdminGetUser on this User Pool", expected: "Deny", request: (f) => ({ action: "cognito-idp:AdminGetUser", resource: f.userPoolArn }) },
        { attempt: "cognito-idp:AdminDisableUser on this User Pool", expected: "Deny", request: (f) => ({ action: "cognito-idp:AdminDisableUser", resource: f.userPoolArn }) },
        { attempt: "cognito-idp:AdminUserGlobalSignOut on this User Pool", expected: "Deny", request: (f) => ({ action: "cognito-idp:AdminUserGlobalSignOut", resource: f.userPoolArn }) },
    );
    return rows;
}

function functionCases(handler: HandlerName): MatrixCase[] {
    const access = FUNCTION_TABLE_ACCESS[handler];
    const rows: Omit<MatrixCase, "subject">[] = TABLE_ACTIONS.map((action) => ({
        attempt: `dynamodb:${action} on the notes table`,
        expected: access[action],
        request: (f: StackFacts) => ({ action: `dynamodb:${action}`, resource: f.tableArn }),
    }));
    for (const action of TABLE_ACTIONS.filter((name) => access[name] === "Allow")) {
        rows.push({
            attempt: `dynamodb:${action} on another table`,
            expected: "Deny",
            request: (f) => ({ action: `dynamodb:${action}`, resource: `arn:aws:dynamodb:${f.region}:${f.accountId}:table/another-table` }),
        });
    }
    rows.push(
        { attempt: "s3:DeleteObject of an attachment under private/<id>/", expected: FUNCTION_DELETES_ATTACHMENTS[handler], request: object("s3:DeleteObject", otherKey) },
        { attempt: "s3:DeleteObject outside private/", expected: "Deny", request: object("s3:DeleteObject", () => "public/photo.png") },
        { attempt: "s3:GetObject of an attachment", expected: "Deny", request: object("s3:GetObject", otherKey) },
        { attempt: "s3:PutObject of an attachment", expected: "Deny", request: object("s3:PutObject", otherKey) },
        {
            attempt: "logs:PutLogEvents to its own log group",
            expected: "Allow",
            request: (f) => ({ action: "logs:PutLogEvents", resource: `${f.functions[handler].logGroupArn}:log-stream:2026/11/24/[$LATEST]0123456789abcdef` }),
        },
        {
            attempt: `logs:PutLogEvents to the ${NEIGHBOUR[handler]} function's log group`,
            expected: "Deny",
            request: (f) => ({ action: "logs:PutLogEvents", resource: `${f.functions[NEIGHBOUR[handler]].logGroupArn}:log-stream:2026/11/24/[$LATEST]0123456789abcdef` }),
        },
        { attempt: "iam:PassRole on its own role", expected: "Deny", request: (f) => ({ action: "iam:PassRole", resource: f.functions[handler].roleArn }) },
        { attempt: "kms:Decrypt with a key of the account", expected: "Deny", request: (f) => ({ action: "kms:Decrypt", resource: `arn:aws:kms:${f.region}:${f.accountId}:key/${KMS_KEY}` }) },
        ...erasureCases(handler),
    );
    return rowsOf(`function:${handler}`, rows);
}

/** The whole matrix, in print order. */
export const MATRIX: readonly MatrixCase[] = [...AUTHENTICATED, ...TRUST, ...HANDLER_NAMES.flatMap(functionCases)];

// ---------------------------------------------------------------------------------------------
// Reading a stack, evaluating a case.
// ---------------------------------------------------------------------------------------------

/** Reads the names, ARNs and IAM documents of a stack from a run of the real program under mocks. */
export function stackFacts(run: ProgramRun): StackFacts {
    const of = (type: string) => run.resources.filter((resource) => resource.type === type);
    const one = (type: string, predicate: (resource: RecordedResource) => boolean = () => true): RecordedResource => {
        const matches = of(type).filter(predicate);
        if (matches.length !== 1) throw new Error(`stack ${run.stack}: expected one ${type}, found ${matches.length}`);
        return matches[0];
    };
    const rolePolicies = (role: RecordedResource) =>
        of("aws:iam/rolePolicy:RolePolicy")
            .filter((policy) => policy.inputs.role === role.id)
            .map((policy) => asDocument(policy.inputs.policy, policy.name));
    const api = one("aws:apigatewayv2/api:Api");
    // The uploads bucket: the one the functions are given (the hosted site's bucket holds no user data).
    const uploads = of("aws:lambda/function:Function").map((fn) => fn.inputs.environment?.variables?.BUCKET_NAME);
    const bucket = one("aws:s3/bucket:Bucket", (resource) => uploads.includes(resource.state.bucket));
    const table = one("aws:dynamodb/table:Table");
    const userPool = one("aws:cognito/userPool:UserPool");
    const identityPool = one("aws:cognito/identityPool:IdentityPool");
    const authenticatedRole = one("aws:iam/role:Role", (role) => String(role.inputs.assumeRolePolicy).includes(`"Federated":"${COGNITO}"`));
    const bucketPolicy = one("aws:s3/bucketPolicy:BucketPolicy", (policy) => policy.inputs.bucket === bucket.id);

    const functions = {} as StackFacts["functions"];
    for (const handler of HANDLER_NAMES) {
        const fn = one("aws:lambda/function:Function", (resource) => resource.name.endsWith(`-${handler}`));
        const role = one("aws:iam/role:Role", (resource) => resource.state.arn === fn.inputs.role);
        const logGroup = one("aws:cloudwatch/logGroup:LogGroup", (resource) => resource.state.name === fn.inputs.loggingConfig?.logGroup);
        functions[handler] = { functionArn: fn.state.arn, roleName: role.state.name, roleArn: role.state.arn, policies: rolePolicies(role), logGroupArn: logGroup.state.arn };
    }
    return {
        stack: run.stack,
        region: run.region,
        accountId: run.accountId,
        apiId: api.id,
        executionArn: api.state.executionArn,
        bucket: bucket.id,
        bucketArn: bucket.state.arn,
        bucketPolicy: asDocument(bucketPolicy.inputs.policy, bucketPolicy.name),
        tableName: table.state.name,
        tableArn: table.state.arn,
        userPoolId: userPool.id,
        userPoolArn: userPool.state.arn,
        identityPoolId: identityPool.id,
        identityPoolArn: identityPool.state.arn,
        authenticated: {
            roleName: authenticatedRole.state.name,
            roleArn: authenticatedRole.state.arn,
            trustPolicy: asDocument(authenticatedRole.inputs.assumeRolePolicy, authenticatedRole.name),
            policies: rolePolicies(authenticatedRole),
        },
        functions,
        ownIdentity: `${run.region}:11111111-1111-4111-8111-111111111111`,
        otherIdentity: `${run.region}:22222222-2222-4222-8222-222222222222`,
    };
}

function asDocument(document: unknown, name: string): string {
    if (typeof document !== "string") throw new Error(`${name}: expected the IAM document as a JSON string, got ${typeof document}`);
    return document;
}

/**
 * Evaluates one case with the simulator. Every request carries `aws:SecureTransport=true` (AWS
 * APIs are HTTPS) unless the case says otherwise, and S3 requests on the uploads bucket are
 * evaluated together with its bucket policy, as S3 does.
 *
 * iam-simulate ignores `cognito-identity.amazonaws.com:sub` on non-STS actions, so `decide()`
 * substitutes it for the simulated caller's identity id before evaluation, as AWS resolves it
 * when it signs the session's requests. The trust rows pass the web-identity keys (`aud`, `amr`)
 * as request context of `sts:AssumeRoleWithWebIdentity`, where the simulator supports them.
 */
export async function evaluateCase(matrixCase: MatrixCase, facts: StackFacts): Promise<MatrixResult> {
    const request = matrixCase.request(facts);
    const context = { "aws:SecureTransport": "true", ...(request.context ?? {}) };
    let decision: Decision;
    if (matrixCase.subject === "trust") {
        decision = await decide({
            policies: [],
            resourcePolicy: facts.authenticated.trustPolicy,
            principal: request.principal ?? COGNITO,
            action: request.action,
            resource: request.resource,
            context,
            accountId: facts.accountId,
        });
    } else {
        const role = matrixCase.subject === "authenticated" ? facts.authenticated : facts.functions[matrixCase.subject.slice("function:".length) as HandlerName];
        const onBucket = request.action.startsWith("s3:") && (request.resource === facts.bucketArn || request.resource.startsWith(`${facts.bucketArn}/`));
        decision = await decide({
            policies: role.policies,
            resourcePolicy: onBucket ? facts.bucketPolicy : undefined,
            principal: `arn:aws:sts::${facts.accountId}:assumed-role/${role.roleName}/${matrixCase.subject === "authenticated" ? "CognitoIdentityCredentials" : "lambda"}`,
            action: request.action,
            resource: request.resource,
            context,
            variables: { [`${COGNITO}:sub`]: facts.ownIdentity },
            accountId: facts.accountId,
        });
    }
    const outcome: Expected = decision === "Allow" ? "Allow" : "Deny";
    return { case: matrixCase, request, decision, outcome, pass: outcome === matrixCase.expected };
}

export async function evaluateMatrix(facts: StackFacts, cases: readonly MatrixCase[] = MATRIX): Promise<MatrixResult[]> {
    const results: MatrixResult[] = [];
    for (const matrixCase of cases) results.push(await evaluateCase(matrixCase, facts));
    return results;
}

export function subjectLabel(subject: Subject): string {
    if (subject === "authenticated") return "the signed-in users' role";
    if (subject === "trust") return "the signed-in role's trust policy";
    return `the ${subject.slice("function:".length)} function's role`;
}

/** A case as a sentence ("the list function's role may not dynamodb:Scan on the notes table"): the test's name. */
export function caseTitle(matrixCase: MatrixCase): string {
    return `${subjectLabel(matrixCase.subject)} ${matrixCase.expected === "Allow" ? "may" : "may not"} ${matrixCase.attempt}`;
}

/** The matrix as a markdown table, one row per case. */
export function renderMarkdown(facts: StackFacts, results: readonly MatrixResult[]): string {
    const escape = (text: string) => text.replace(/\|/g, "\\|");
    const shorten = (text: string) =>
        text
            .replace(facts.executionArn, "<api>")
            .replace(facts.bucketArn, "<bucket>")
            .replace(facts.tableArn, "<table>")
            .split(facts.ownIdentity).join("<own-id>")
            .split(facts.otherIdentity).join("<other-id>")
            .split(facts.identityPoolId).join("<identity-pool>")
            .split(facts.userPoolId).join("<user-pool>");
    const contextText = (request: SimulatedRequest) =>
        Object.entries(request.context ?? {})
            .map(([key, value]) => `${key.replace(`${COGNITO}:`, "")}=${Array.isArray(value) ? `[${value.map(shorten).join(", ")}]` : value === "" ? '""' : shorten(value)}`)
            .join("; ");
    const lines = [
        `Stack \`${facts.stack}\`: \`<api>\` = \`${facts.executionArn}\`, \`<bucket>\` = \`${facts.bucketArn}\`, \`<table>\` = \`${facts.tableArn}\`, ` +
            `\`<identity-pool>\` = \`${facts.identityPoolId}\`, \`<user-pool>\` = \`${facts.userPoolId}\`, \`<own-id>\` = \`${facts.ownIdentity}\` (the caller), \`<other-id>\` = \`${facts.otherIdentity}\`.`,
        "",
        "| # | Principal | Attempt | Action | Resource | Context | Expected | Simulated | |",
        "|---|---|---|---|---|---|---|---|---|",
    ];
    results.forEach((result, index) => {
        const principal = result.case.subject === "trust" ? `trust (${result.request.principal ?? COGNITO})` : result.case.subject;
        lines.push(
            `| ${index + 1} | ${escape(principal)} | ${escape(result.case.attempt)} | \`${result.request.action}\` | \`${escape(shorten(result.request.resource))}\` | ${escape(contextText(result.request))} | ${result.case.expected} | ${result.decision} | ${result.pass ? "ok" : "**MISMATCH**"} |`,
        );
    });
    const allowed = results.filter((result) => result.outcome === "Allow").length;
    const failed = results.filter((result) => !result.pass).length;
    lines.push("", `${results.length} cells: ${allowed} allowed, ${results.length - allowed} denied, ${failed} mismatch(es).`);
    return lines.join("\n");
}
