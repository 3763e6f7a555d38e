import { strict as assert } from "node:assert";
import { named, ofType, policyStatements, ProgramRun, single, STACKS, stackRun, stackSetting } from "../support/program";

for (const stack of STACKS) {
    describe(`NotesAccount: DELETE /account (${stack} stack)`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await stackRun(stack);
        });

        it("routes DELETE /account with AWS_IAM to its own function through a payload 2.0 proxy integration", () => {
            const route = named(run, "notes-account-route");
            const integration = named(run, "notes-account-integration");
            const fn = named(run, "notes-account");
            assert.equal(route.inputs.routeKey, "DELETE /account");
            assert.equal(route.inputs.authorizationType, "AWS_IAM");
            assert.equal(route.inputs.apiId, single(run, "aws:apigatewayv2/api:Api").id);
            assert.equal(route.inputs.target, `integrations/${integration.id}`);
            assert.equal(integration.inputs.integrationType, "AWS_PROXY");
            assert.equal(integration.inputs.payloadFormatVersion, "2.0");
            assert.equal(integration.inputs.integrationUri, fn.state.arn);
        });

        it("may be invoked by API Gateway only from DELETE /account of this API", () => {
            const permission = named(run, "notes-account-invoke");
            const api = single(run, "aws:apigatewayv2/api:Api");
            assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
            assert.equal(permission.inputs.action, "lambda:InvokeFunction");
            assert.equal(permission.inputs.function, named(run, "notes-account").state.name);
            assert.equal(permission.inputs.sourceArn, `${api.state.executionArn}/*/DELETE/account`);
        });

        it("runs the account bundle with its S3 and Cognito sides as files loaded on first use, and the pools it erases from", () => {
            const fn = named(run, "notes-account");
            assert.equal(fn.inputs.runtime, "nodejs22.x");
            assert.deepEqual(fn.inputs.architectures, ["arm64"]);
            assert.equal(fn.inputs.handler, "index.handler");
            assert.deepEqual(Object.keys(fn.inputs.code.assets).sort(), [
                "account-cognito.js",
                "account-cognito.js.map",
                "account-s3.js",
                "account-s3.js.map",
                "index.js",
                "index.js.map",
            ]);
            // The index bundle loads neither SDK: they are required from their own files.
            const index: string = fn.inputs.code.assets["index.js"].text;
            assert.ok(!index.includes("ListObjectVersions") && !index.includes("AdminDeleteUser") && !index.includes("DeleteIdentities"));
            assert.match(index, /require\("\.\/account-s3\.js"\)/);
            assert.match(index, /require\("\.\/account-cognito\.js"\)/);
            const pool = single(run, "aws:cognito/userPool:UserPool");
            assert.deepEqual(fn.inputs.environment.variables, {
                TABLE_NAME: single(run, "aws:dynamodb/table:Table").state.name,
                BUCKET_NAME: named(run, "notes-storage-uploads").state.bucket,
                USER_POOL_ID: pool.id,
                USER_POOL_PROVIDER_NAME: `cognito-idp.us-east-1.amazonaws.com/${pool.id}`,
                IDENTITY_POOL_ID: single(run, "aws:cognito/identityPool:IdentityPool").id,
            });
            // Each call erases what fits in its timeout: the most an HTTP API waits for (30 s), less a second.
            assert.equal(fn.inputs.timeout, 29);
            assert.equal(fn.inputs.memorySize, stackSetting(run, "lambdaMemorySize"));
            const logGroup = named(run, "notes-account-logs");
            assert.deepEqual(fn.inputs.loggingConfig, { logFormat: "JSON", logGroup: logGroup.state.name, applicationLogLevel: "INFO", systemLogLevel: "INFO" });
            assert.equal(logGroup.inputs.retentionInDays, stackSetting(run, "logRetentionDays"));
        });

        it("has a role of its own, trusted only by Lambda, with exactly these permissions", () => {
            const role = named(run, "notes-account-role");
            assert.equal(named(run, "notes-account").inputs.role, role.state.arn);
            assert.deepEqual(policyStatements(role.inputs.assumeRolePolicy), [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]);
            const policies = ofType(run, "aws:iam/rolePolicy:RolePolicy").filter((policy) => policy.inputs.role === role.id);
            assert.equal(policies.length, 1);
            const table = single(run, "aws:dynamodb/table:Table").state.arn;
            const bucket = named(run, "notes-storage-uploads").state.arn;
            const userPool = single(run, "aws:cognito/userPool:UserPool");
            const identityPool = single(run, "aws:cognito/identityPool:IdentityPool");
            assert.match(userPool.state.arn, /^arn:aws:cognito-idp:us-east-1:123456789012:userpool\//);
            assert.match(identityPool.state.arn, /^arn:aws:cognito-identity:us-east-1:123456789012:identitypool\//);
            assert.deepEqual(policyStatements(policies[0].inputs.policy), [
                { Sid: "EraseNotes", Effect: "Allow", Action: ["dynamodb:Query", "dynamodb:BatchWriteItem"], Resource: table },
                { Sid: "ListFileVersions", Effect: "Allow", Action: "s3:ListBucketVersions", Resource: bucket, Condition: { StringLike: { "s3:prefix": "private/*" } } },
                { Sid: "EraseFileVersions", Effect: "Allow", Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: `${bucket}/private/*` },
                // DeleteIdentities takes no resource ARN: the pool is in its condition key.
                {
                    Sid: "EraseIdentity",
                    Effect: "Allow",
                    Action: "cognito-identity:DeleteIdentities",
                    Resource: "*",
                    Condition: { StringEquals: { "cognito-identity:IdentityPoolArn": identityPool.state.arn } },
                },
                { Sid: "EraseUser", Effect: "Allow", Action: "cognito-idp:AdminDeleteUser", Resource: userPool.state.arn },
                { Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${named(run, "notes-account-logs").state.arn}:*` },
            ]);
        });
    });
}
