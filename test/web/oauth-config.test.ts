import { strict as assert } from "node:assert";
import { amplifyConfig } from "../../web/src/amplify";
import { parseClientConfig } from "../../web/src/config";
import { localClientConfig } from "../../web/local";

const OUTPUTS = {
    region: "us-east-1",
    userPoolId: "us-east-1_AbCdEfGhI",
    userPoolClientId: "3n4b5c6d7e8f9g0h1i2j3k4l5m",
    identityPoolId: "us-east-1:1f2e3d4c-5b6a-4789-8abc-def012345678",
    apiUrl: "https://abc123defg.execute-api.us-east-1.amazonaws.com/",
    bucketName: "notes-storage-uploads-1a2b3c4",
    tableName: "notes-storage-notes-5d6e7f8",
};
const OAUTH = {
    domain: "notes-login.auth.us-east-1.amazoncognito.com",
    scopes: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
    redirectSignIn: ["https://notes.example.com/"],
    redirectSignOut: ["https://notes.example.com/"],
    responseType: "code" as const,
    providers: ["Google", "Corp"],
};

describe("the web client with sign-in providers", () => {
    it("keeps the stack's oauth output and hands Amplify exactly loginWith.oauth, without the buttons' list", () => {
        const config = parseClientConfig({ ...OUTPUTS, oauth: OAUTH, authFlowType: "USER_SRP_AUTH" });
        assert.deepEqual(config.oauth, OAUTH);
        const { providers: _providers, ...expected } = OAUTH;
        const oauth = amplifyConfig(config).Auth!.Cognito.loginWith!.oauth!;
        assert.deepEqual(JSON.parse(JSON.stringify(oauth)), expected);
    });

    it("configures no oauth when the stack has no providers", () => {
        const config = parseClientConfig({ ...OUTPUTS, authFlowType: "USER_SRP_AUTH" });
        assert.equal(config.oauth, undefined);
        assert.deepEqual(amplifyConfig(config).Auth!.Cognito.loginWith, { email: true });
    });

    it("refuses a malformed oauth output, naming it", () => {
        for (const oauth of [{ ...OAUTH, responseType: "token" }, { ...OAUTH, domain: "https://x.example.com" }, { ...OAUTH, providers: [] }, "oauth"]) {
            assert.throws(() => parseClientConfig({ ...OUTPUTS, oauth, authFlowType: "USER_SRP_AUTH" }), /oauth must have a domain/);
        }
    });

    it("points the local client at the local managed login", () => {
        const local = { ...OUTPUTS, oauth: { ...OAUTH, domain: "localhost:40123" }, endpoints: { cognitoIdp: "http://127.0.0.1:1", cognitoIdentity: "http://127.0.0.1:2", s3: "http://127.0.0.1:3", dynamodb: "http://127.0.0.1:4" } };
        assert.equal(localClientConfig(local).oauth?.domain, "localhost:40123");
        assert.equal(parseClientConfig(localClientConfig(local)).oauth?.domain, "localhost:40123");
    });
});
