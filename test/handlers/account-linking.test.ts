import { strict as assert } from "node:assert";
import { linkFederatedUser, parseFederatedUsername, type PreSignUpEvent } from "../../handlers/account-linking";
import { createLogger } from "../../handlers/log";

const POOL = "us-east-1_AbCdEfGhI";
const LINKABLE = ["Google", "SignInWithApple", "Corp"];

interface FakeUser {
    Username: string;
    UserStatus: string;
    Enabled?: boolean;
    Attributes: { Name: string; Value: string }[];
}

const user = (username: string, email: string, status = "CONFIRMED", verified = "true"): FakeUser => ({
    Username: username,
    UserStatus: status,
    Enabled: true,
    Attributes: [
        { Name: "email", Value: email },
        { Name: "email_verified", Value: verified },
    ],
});

/** A Cognito client double: answers ListUsers with `users`, records every command. */
function fakeClient(users: FakeUser[]) {
    const sent: { name: string; input: any }[] = [];
    return {
        sent,
        async send(command: { constructor: { name: string }; input: unknown }) {
            sent.push({ name: command.constructor.name, input: command.input });
            if (command.constructor.name === "ListUsersCommand") return { Users: users };
            return {};
        },
    };
}

const event = (userName: string, attributes: Record<string, string>, triggerSource = "PreSignUp_ExternalProvider"): PreSignUpEvent => ({
    triggerSource,
    userPoolId: POOL,
    userName,
    request: { userAttributes: attributes },
});

const silent = createLogger({}, () => undefined);

describe("account linking (pre sign-up)", () => {
    it("links a Google sign-in with a verified email to the confirmed user with that email", async () => {
        const client = fakeClient([user("2f1c-uuid", "ada@example.com")]);
        const decision = await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event("Google_1098765", { email: "ada@example.com", email_verified: "true" }));
        assert.deepEqual(decision, { linked: true, provider: "Google", toUsername: "2f1c-uuid" });
        assert.deepEqual(client.sent, [
            { name: "ListUsersCommand", input: { UserPoolId: POOL, Filter: 'email = "ada@example.com"' } },
            {
                name: "AdminLinkProviderForUserCommand",
                input: {
                    UserPoolId: POOL,
                    DestinationUser: { ProviderName: "Cognito", ProviderAttributeValue: "2f1c-uuid" },
                    SourceUser: { ProviderName: "Google", ProviderAttributeName: "Cognito_Subject", ProviderAttributeValue: "1098765" },
                },
            },
        ]);
    });

    it("never links on an unverified email, and does not even look the address up", async () => {
        for (const verified of ["false", "", "True "]) {
            const client = fakeClient([user("2f1c-uuid", "ada@example.com")]);
            const decision = await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event("Google_1098765", { email: "ada@example.com", email_verified: verified }));
            assert.deepEqual(decision, { linked: false, reason: "the provider did not assert a verified email" });
            assert.deepEqual(client.sent, []);
        }
        const client = fakeClient([user("2f1c-uuid", "ada@example.com")]);
        await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event("Corp_abc", { email: "ada@example.com" }));
        assert.deepEqual(client.sent, []);
    });

    it("never links for a provider that asserts no verification (Facebook, Login with Amazon), whatever the event says", async () => {
        for (const userName of ["Facebook_10222", "LoginWithAmazon_amzn1.account.X"]) {
            const client = fakeClient([user("2f1c-uuid", "ada@example.com")]);
            const decision = await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event(userName, { email: "ada@example.com", email_verified: "true" }));
            assert.equal(decision.linked, false);
            assert.deepEqual(client.sent, []);
        }
    });

    it("ignores sign-ups with a password and admin-created users", async () => {
        for (const source of ["PreSignUp_SignUp", "PreSignUp_AdminCreateUser"]) {
            const client = fakeClient([user("2f1c-uuid", "ada@example.com")]);
            const decision = await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event("Google_1", { email: "ada@example.com", email_verified: "true" }, source));
            assert.deepEqual(decision, { linked: false, reason: "not a federated sign-up" });
            assert.deepEqual(client.sent, []);
        }
    });

    it("links only to a single confirmed, enabled user whose own email is verified", async () => {
        const cases: [FakeUser[], string][] = [
            [[], "no confirmed user with this verified email"],
            [[user("u1", "ada@example.com", "UNCONFIRMED")], "no confirmed user with this verified email"],
            [[user("u1", "ada@example.com", "CONFIRMED", "false")], "no confirmed user with this verified email"],
            [[user("Google_555", "ada@example.com", "EXTERNAL_PROVIDER")], "no confirmed user with this verified email"],
            [[{ ...user("u1", "ada@example.com"), Enabled: false }], "no confirmed user with this verified email"],
            [[user("u1", "ada@example.com"), user("u2", "ADA@example.com")], "several users share this email"],
        ];
        for (const [users, reason] of cases) {
            const client = fakeClient(users);
            const decision = await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event("Google_1", { email: "ada@example.com", email_verified: "true" }));
            assert.deepEqual(decision, { linked: false, reason });
            assert.deepEqual(client.sent.map((entry) => entry.name), ["ListUsersCommand"]);
        }
    });

    it("refuses an email that would break out of the ListUsers filter", async () => {
        const client = fakeClient([]);
        const decision = await linkFederatedUser({ client, linkableProviders: LINKABLE, log: silent }, event("Google_1", { email: 'a"@x.com" or email ^= "', email_verified: "true" }));
        assert.deepEqual(decision, { linked: false, reason: "no usable email" });
        assert.deepEqual(client.sent, []);
    });

    it("reads the provider and its user id from a federated username", () => {
        assert.deepEqual(parseFederatedUsername("Google_1098765"), { provider: "Google", providerUserId: "1098765" });
        assert.deepEqual(parseFederatedUsername("Corp_ab_cd"), { provider: "Corp", providerUserId: "ab_cd" });
        assert.equal(parseFederatedUsername("plainuser"), undefined);
        assert.equal(parseFederatedUsername("_x"), undefined);
        assert.equal(parseFederatedUsername("Google_"), undefined);
    });
});
