import { strict as assert } from "node:assert";
import { runProgramIsolated } from "../../tools/engine/program";
import { EXPECTED_ROUTES } from "../support/expected-api";
import { runFixtureProgram } from "../support/fixture-program";
import { asList, named, ofType, policyStatements, ProgramRun, RecordedResource, single, STACKS, stackRun, stackSetting } from "../support/program";

const SUB = "${cognito-identity.amazonaws.com:sub}";

for (const stack of STACKS) {
    describe(`NotesAuth (${stack} stack)`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await stackRun(stack);
        });

        it("signs users up with email as username, verified by an emailed code", () => {
            const pool = single(run, "aws:cognito/userPool:UserPool");
            assert.deepEqual(pool.inputs.usernameAttributes, ["email"]);
            assert.deepEqual(pool.inputs.autoVerifiedAttributes, ["email"]);
            // Cognito's default sender takes no custom subject or message: it sends its own text.
            assert.deepEqual(pool.inputs.verificationMessageTemplate, { defaultEmailOption: "CONFIRM_WITH_CODE" });
            assert.deepEqual(pool.inputs.accountRecoverySetting, { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] });
        });

        it("chooses the stack's feature plan and sends email through Cognito's default sender unless SES is set", () => {
            const pool = single(run, "aws:cognito/userPool:UserPool");
            assert.equal(pool.inputs.userPoolTier, stackSetting(run, "userPoolTier"));
            assert.equal(stackSetting(run, "emailSourceArn"), "");
            assert.deepEqual(pool.inputs.emailConfiguration, { emailSendingAccount: "COGNITO_DEFAULT" });
        });

        it("enforces the stack's password policy and deletion protection", () => {
            const pool = single(run, "aws:cognito/userPool:UserPool");
            assert.deepEqual(pool.inputs.passwordPolicy, {
                minimumLength: stackSetting(run, "passwordMinimumLength"),
                requireLowercase: true,
                requireUppercase: true,
                requireNumbers: true,
                requireSymbols: stackSetting(run, "passwordRequireSymbols"),
                temporaryPasswordValidityDays: 3,
            });
            assert.equal(pool.inputs.deletionProtection, stackSetting(run, "deletionProtection") ? "ACTIVE" : "INACTIVE");
            assert.equal(pool.options.retainOnDelete, stackSetting(run, "retainOnDelete"));
        });

        it("gives the web client no secret, SRP and refresh only, and hides whether a user exists", () => {
            const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
            assert.equal(client.inputs.userPoolId, single(run, "aws:cognito/userPool:UserPool").id);
            assert.equal(client.inputs.generateSecret, false);
            assert.deepEqual(client.inputs.explicitAuthFlows, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]);
            assert.equal(client.inputs.preventUserExistenceErrors, "ENABLED");
        });

        it("revokes refresh tokens on sign-out and lets the web client read email only and write nothing but email", () => {
            const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
            assert.equal(client.inputs.enableTokenRevocation, true);
            assert.deepEqual(client.inputs.readAttributes, ["email", "email_verified"]);
            assert.deepEqual(client.inputs.writeAttributes, ["email"]);
        });

        it("offers TOTP as an optional second factor, and no SMS or email factor", () => {
            const pool = single(run, "aws:cognito/userPool:UserPool");
            assert.equal(pool.inputs.mfaConfiguration, "OPTIONAL");
            assert.deepEqual(pool.inputs.softwareTokenMfaConfiguration, { enabled: true });
            assert.equal(pool.inputs.smsConfiguration, undefined);
            assert.equal(pool.inputs.emailMfaConfiguration, undefined);
        });

        it("keeps the old email address until the new one is verified", () => {
            const pool = single(run, "aws:cognito/userPool:UserPool");
            assert.deepEqual(pool.inputs.userAttributeUpdateSettings, { attributesRequireVerificationBeforeUpdates: ["email"] });
        });

        it("has no unauthenticated identities and trusts only this User Pool and client", () => {
            const identityPool = single(run, "aws:cognito/identityPool:IdentityPool");
            const pool = single(run, "aws:cognito/userPool:UserPool");
            const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
            assert.equal(identityPool.inputs.allowUnauthenticatedIdentities, false);
            assert.equal(identityPool.inputs.allowClassicFlow, false);
            assert.deepEqual(identityPool.inputs.cognitoIdentityProviders, [
                { providerName: `cognito-idp.${run.region}.amazonaws.com/${pool.id}`, clientId: client.id, serverSideTokenCheck: true },
            ]);
            assert.match(identityPool.inputs.identityPoolName, /^[\w ]+$/);
        });

        it("names the Identity Pool after nothing a rename changes, ignores name changes and retains it with the data", () => {
            const identityPool = single(run, "aws:cognito/identityPool:IdentityPool");
            assert.equal(identityPool.inputs.identityPoolName, "notes users");
            assert.deepEqual(identityPool.options.ignoreChanges, ["identityPoolName"]);
            assert.equal(identityPool.options.retainOnDelete, stackSetting(run, "retainOnDelete"));
        });

        it("lets only authenticated identities of this Identity Pool assume the role", () => {
            const role = named(run, "notes-auth-authenticated");
            const identityPool = single(run, "aws:cognito/identityPool:IdentityPool");
            assert.deepEqual(policyStatements(role.inputs.assumeRolePolicy), [
                {
                    Effect: "Allow",
                    Principal: { Federated: "cognito-identity.amazonaws.com" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: { "cognito-identity.amazonaws.com:aud": identityPool.id },
                        "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
                    },
                },
            ]);
        });

        it("allows this API's five note routes, DELETE /account and the caller's own private prefix (objects and multipart uploads), nothing else", () => {
            const role = named(run, "notes-auth-authenticated");
            const policy = named(run, "notes-auth-authenticated-policy");
            assert.equal(policy.inputs.role, role.id);
            const api = single(run, "aws:apigatewayv2/api:Api");
            const bucketArn = named(run, "notes-storage-uploads").state.arn;
            // The routes' ARNs in any order (IAM does not care), each written out in EXPECTED_ROUTES.
            const statements = policyStatements(policy.inputs.policy).map((s) => (s.Sid === "InvokeNotesApi" ? { ...s, Resource: asList(s.Resource).sort() } : s));
            assert.deepEqual(statements, [
                {
                    Sid: "InvokeNotesApi",
                    Effect: "Allow",
                    Action: "execute-api:Invoke",
                    Resource: [...Object.values(EXPECTED_ROUTES).map((route) => `${api.state.executionArn}${route.arnSuffix}`), `${api.state.executionArn}/*/DELETE/account`].sort(),
                },
                {
                    Sid: "OwnFiles",
                    Effect: "Allow",
                    Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    Resource: `${bucketArn}/private/${SUB}/*`,
                },
                {
                    Sid: "OwnMultipartUploads",
                    Effect: "Allow",
                    Action: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                    Resource: `${bucketArn}/private/${SUB}/*`,
                },
                {
                    Sid: "ListOwnFiles",
                    Effect: "Allow",
                    Action: "s3:ListBucket",
                    Resource: bucketArn,
                    Condition: { StringLike: { "s3:prefix": [`private/${SUB}/`, `private/${SUB}/*`] } },
                },
            ]);
        });

        it("names no wildcard resource and no wildcard service action in the user role", () => {
            const statements = policyStatements(named(run, "notes-auth-authenticated-policy").inputs.policy);
            for (const statement of statements) {
                assert.equal(statement.Effect, "Allow");
                assert.equal(statement.NotAction, undefined);
                assert.equal(statement.NotResource, undefined);
                for (const resource of asList(statement.Resource)) {
                    assert.notEqual(resource, "*");
                    assert.ok(!/^arn:aws:[^:]+:[^:]*:[^:]*:\*$/.test(resource), `${resource} is a whole-service wildcard`);
                }
                for (const action of asList(statement.Action)) assert.ok(!action.includes("*"), `${action} is a wildcard action`);
            }
        });

        it("binds the role as the Identity Pool's authenticated role only", () => {
            const attachment = single(run, "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment");
            assert.equal(attachment.inputs.identityPoolId, single(run, "aws:cognito/identityPool:IdentityPool").id);
            assert.deepEqual(attachment.inputs.roles, { authenticated: named(run, "notes-auth-authenticated").state.arn });
        });
    });
}

describe("NotesAuth with allowUserPasswordAuth", () => {
    it("adds USER_PASSWORD_AUTH to the client only when the stack asks for it", async () => {
        const run = await stackRun("dev", { "notes-infra:allowUserPasswordAuth": "true" });
        const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
        assert.deepEqual(client.inputs.explicitAuthFlows, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]);
    });
});

describe("NotesAuth with the mfa setting", () => {
    it("requires TOTP at every sign-in with mfa: required", async () => {
        const run = await stackRun("prod", { "notes-infra:mfa": "required" });
        const pool = single(run, "aws:cognito/userPool:UserPool");
        assert.equal(pool.inputs.mfaConfiguration, "ON");
        assert.deepEqual(pool.inputs.softwareTokenMfaConfiguration, { enabled: true });
    });

    it("turns MFA off, with no software-token block (Cognito refuses one when MFA is off), with mfa: off", async () => {
        const run = await stackRun("dev", { "notes-infra:mfa": "off" });
        const pool = single(run, "aws:cognito/userPool:UserPool");
        assert.equal(pool.inputs.mfaConfiguration, "OFF");
        assert.equal(pool.inputs.softwareTokenMfaConfiguration, undefined);
    });
});

describe("NotesAuth with SES email", () => {
    it("sends through the stack's SES identity, as DEVELOPER, from the stack's sender, with the app's own message", async () => {
        const arn = "arn:aws:ses:us-east-1:123456789012:identity/notes.example.com";
        const run = await stackRun("prod", { "notes-infra:emailSourceArn": arn, "notes-infra:emailFrom": "Notes <no-reply@notes.example.com>" });
        const pool = single(run, "aws:cognito/userPool:UserPool");
        assert.deepEqual(pool.inputs.emailConfiguration, {
            emailSendingAccount: "DEVELOPER",
            sourceArn: arn,
            fromEmailAddress: "Notes <no-reply@notes.example.com>",
        });
        const template = pool.inputs.verificationMessageTemplate;
        assert.equal(template.defaultEmailOption, "CONFIRM_WITH_CODE");
        assert.match(template.emailSubject, /verification code/i);
        assert.match(template.emailMessage, /\{####\}/);
    });
});

/** The Identity Pool's inputs with the ids of its own component's User Pool and client replaced by placeholders. */
function poolInputs(run: ProgramRun, pool: RecordedResource): unknown {
    const siblings = run.resources.filter((resource) => resource.parent === pool.parent);
    const userPool = siblings.find((resource) => resource.type === "aws:cognito/userPool:UserPool")!;
    const client = siblings.find((resource) => resource.type === "aws:cognito/userPoolClient:UserPoolClient")!;
    return JSON.parse(JSON.stringify(pool.inputs).split(userPool.id).join("<user-pool-id>").split(client.id).join("<client-id>"));
}

describe("the Identity Pool across renames", () => {
    // A new identity_pool_name replaces the pool (ForceNew in the AWS provider), and every user
    // would get a new identity id with no access to their notes and files.
    for (const stack of STACKS) {
        it(`keeps the ${stack} stack's Identity Pool inputs and options when the stack is renamed`, async () => {
            const [original, renamed] = await Promise.all([stackRun(stack), runProgramIsolated(stack, {}, `${stack}renamed`)]);
            assert.equal(renamed.stack, `${stack}renamed`);
            const before = single(original, "aws:cognito/identityPool:IdentityPool");
            const after = single(renamed, "aws:cognito/identityPool:IdentityPool");
            assert.notEqual(after.urn, before.urn, "the rename reached the program");
            assert.deepEqual(poolInputs(renamed, after), poolInputs(original, before));
            assert.deepEqual(after.options, before.options);
        });
    }

    it("keeps the Identity Pool inputs under other component and project names", async () => {
        const [fixture, dev, prod] = await Promise.all([runFixtureProgram("renamed-components", "dev"), stackRun("dev"), stackRun("prod")]);
        const pools = ofType(fixture, "aws:cognito/identityPool:IdentityPool");
        assert.deepEqual(pools.map((pool) => pool.name).sort(), ["blue-auth-identities", "green-auth-identities"]);
        const expected = poolInputs(dev, single(dev, "aws:cognito/identityPool:IdentityPool"));
        assert.deepEqual(poolInputs(prod, single(prod, "aws:cognito/identityPool:IdentityPool")), expected);
        for (const pool of pools) {
            assert.deepEqual(poolInputs(fixture, pool), expected, pool.name);
            assert.deepEqual(pool.options, single(prod, "aws:cognito/identityPool:IdentityPool").options, `${pool.name}: retained like prod's`);
        }
    });
});
