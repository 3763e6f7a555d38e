/**
 * AppSync API doors. Outside cases: AWS Security Hub control AppSync.5 ("AWS AppSync GraphQL APIs
 * should not be authenticated with API keys": the control fails if the API is authenticated with
 * an API key, the primary mode or an additional one), the same check in Prowler
 * (appsync_graphql_api_no_api_key_authentication), and the provider's documented examples
 * (aws.appsync.GraphQLApi: API key, IAM, Cognito, OIDC, Lambda, multiple providers; aws.appsync.Api:
 * Event APIs with API key, Cognito and Lambda providers).
 */
import { strict as assert } from "node:assert";
import { eventApiIamAuth, graphQlApiIamAuth } from "../../policy/appsync";
import { runResourcePolicy, UNKNOWN } from "../../policy/evaluate";

const GRAPHQL = "aws:appsync/graphQLApi:GraphQLApi";
const EVENT_API = "aws:appsync/api:Api";
const NAMESPACE = "aws:appsync/channelNamespace:ChannelNamespace";

const graphQl = (change: Record<string, any> = {}) => ({ name: "notes", authenticationType: "AWS_IAM", ...change });
const iamModes = { authType: "AWS_IAM" };
const eventApi = (change: Record<string, any> = {}) => ({
    name: "notes-events",
    eventConfig: { authProviders: [iamModes], connectionAuthModes: [iamModes], defaultPublishAuthModes: [iamModes], defaultSubscribeAuthModes: [iamModes], ...change },
});

describe("policy appsync-graphql-iam-auth", () => {
    it("passes the provider's AWS IAM Authentication example", async () => {
        assert.deepEqual((await runResourcePolicy(graphQlApiIamAuth, GRAPHQL, graphQl())).reported, []);
    });

    it("flags the provider's API Key Authentication example (Security Hub AppSync.5, Prowler's no-API-key check) and says why", async () => {
        const { reported } = await runResourcePolicy(graphQlApiIamAuth, GRAPHQL, graphQl({ authenticationType: "API_KEY" }), { name: "example" });
        assert.deepEqual(reported.map((r) => r.message), ["AppSync GraphQL API example must use authenticationType AWS_IAM, found API_KEY (an API key identifies a client; it does not authenticate a caller)."]);
    });

    it("flags the Cognito, OpenID Connect and Lambda authorizer examples", async () => {
        for (const mode of ["AMAZON_COGNITO_USER_POOLS", "OPENID_CONNECT", "AWS_LAMBDA"]) {
            const { reported } = await runResourcePolicy(graphQlApiIamAuth, GRAPHQL, graphQl({ authenticationType: mode }));
            assert.deepEqual(reported.map((r) => r.message), [`AppSync GraphQL API subject must use authenticationType AWS_IAM, found ${mode}.`]);
        }
    });

    it("flags the provider's multiple-providers example (API_KEY first, AWS_IAM additional) once, for the primary mode", async () => {
        const { reported } = await runResourcePolicy(graphQlApiIamAuth, GRAPHQL, graphQl({ authenticationType: "API_KEY", additionalAuthenticationProviders: [{ authenticationType: "AWS_IAM" }] }));
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /authenticationType AWS_IAM, found API_KEY/);
    });

    it("flags an IAM API with an API key as an additional provider: any one provider admits a caller", async () => {
        const { reported } = await runResourcePolicy(graphQlApiIamAuth, GRAPHQL, graphQl({ additionalAuthenticationProviders: [{ authenticationType: "AWS_IAM" }, { authenticationType: "API_KEY" }] }), { name: "notes-graphql" });
        assert.deepEqual(reported.map((r) => r.message), [
            "AppSync GraphQL API notes-graphql must accept only AWS_IAM: additionalAuthenticationProviders[1] is API_KEY (an API key identifies a client; it does not authenticate a caller), and any one provider admits a caller.",
        ]);
    });

    it("reports an unknown mode as not verifiable instead of passing it", async () => {
        const { reported } = await runResourcePolicy(graphQlApiIamAuth, GRAPHQL, graphQl({ authenticationType: UNKNOWN.string }));
        assert.deepEqual(reported.map((r) => r.enforcementLevel), ["advisory"]);
    });

    it("is not applicable to Event APIs", async () => {
        assert.equal((await runResourcePolicy(graphQlApiIamAuth, EVENT_API, eventApi())).notApplicable, true);
    });
});

describe("policy appsync-event-api-iam-auth", () => {
    it("passes an Event API whose providers and modes are all AWS_IAM", async () => {
        assert.deepEqual((await runResourcePolicy(eventApiIamAuth, EVENT_API, eventApi())).reported, []);
    });

    it("flags the provider's Event API example with an API key provider and API key modes, naming each", async () => {
        const apiKey = { authType: "API_KEY" };
        const { reported } = await runResourcePolicy(eventApiIamAuth, EVENT_API, eventApi({ authProviders: [apiKey], connectionAuthModes: [apiKey], defaultPublishAuthModes: [apiKey], defaultSubscribeAuthModes: [apiKey] }), { name: "example" });
        assert.deepEqual(
            reported.map((r) => r.message.split(":")[1].trim()),
            ["authProviders[0], an auth provider, is API_KEY (an API key identifies a client; it does not authenticate a caller).", "connectionAuthModes[0], a connection auth mode, is API_KEY (an API key identifies a client; it does not authenticate a caller).", "defaultPublishAuthModes[0], a default publish auth mode, is API_KEY (an API key identifies a client; it does not authenticate a caller).", "defaultSubscribeAuthModes[0], a default subscribe auth mode, is API_KEY (an API key identifies a client; it does not authenticate a caller)."],
        );
        assert.match(reported[0].message, /^AppSync Event API example must use AWS_IAM only:/);
    });

    it("flags the Cognito and Lambda provider examples alongside an IAM one", async () => {
        const { reported } = await runResourcePolicy(eventApiIamAuth, EVENT_API, eventApi({ authProviders: [iamModes, { authType: "AMAZON_COGNITO_USER_POOLS" }, { authType: "AWS_LAMBDA" }] }));
        assert.deepEqual(reported.map((r) => /authProviders\[(\d)\], an auth provider, is (\w+)/.exec(r.message)?.slice(1).join(" ")), ["1 AMAZON_COGNITO_USER_POOLS", "2 AWS_LAMBDA"]);
    });

    it("reads eventConfig as a one-element list too (v6 shape)", async () => {
        const { reported } = await runResourcePolicy(eventApiIamAuth, EVENT_API, { name: "events", eventConfig: [{ ...eventApi().eventConfig, connectionAuthModes: [{ authType: "API_KEY" }] }] });
        assert.equal(reported.length, 1);
    });

    it("flags a channel namespace whose publish or subscribe override is not AWS_IAM, and passes one without overrides", async () => {
        const { reported } = await runResourcePolicy(eventApiIamAuth, NAMESPACE, { apiId: "abc", name: "chat", publishAuthModes: [iamModes], subscribeAuthModes: [{ authType: "API_KEY" }] }, { name: "chat" });
        assert.deepEqual(reported.map((r) => r.message), [
            "AppSync channel namespace chat must use AWS_IAM only: subscribeAuthModes[0], a subscribe auth mode, is API_KEY (an API key identifies a client; it does not authenticate a caller).",
        ]);
        assert.deepEqual((await runResourcePolicy(eventApiIamAuth, NAMESPACE, { apiId: "abc", name: "chat" })).reported, []);
    });
});
