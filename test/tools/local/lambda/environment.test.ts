import { strict as assert } from "node:assert";
import { runtimeEnvironment } from "../../../../tools/local/lambda/environment";

describe("local Lambda runtime environment", () => {
    it("points the SDK's standard endpoint variables at every local service a function may call", () => {
        const env = runtimeEnvironment({
            region: "us-east-1",
            session: { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token" },
            functionName: "notes-account",
            memorySize: 256,
            runtime: "nodejs22.x",
            taskRoot: "/tmp/task",
            endpoints: { dynamodb: "http://127.0.0.1:1", s3: "http://127.0.0.1:2", cognitoIdp: "http://127.0.0.1:3", cognitoIdentity: "http://127.0.0.1:4" },
        });
        assert.deepEqual(
            [env.AWS_ENDPOINT_URL_DYNAMODB, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, env.AWS_ENDPOINT_URL_COGNITO_IDENTITY],
            ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3", "http://127.0.0.1:4"],
        );
        assert.deepEqual([env.AWS_ACCESS_KEY_ID, env.AWS_SESSION_TOKEN, env.AWS_REGION], ["ASIAEXAMPLE", "token", "us-east-1"]);
    });
});
