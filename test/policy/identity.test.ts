import { strict as assert } from "node:assert";
import { cognitoTrustConditions, noUnauthenticatedIdentities } from "../../policy/identity";
import { runResourcePolicy, UNKNOWN } from "../../policy/evaluate";

const POOL = "aws:cognito/identityPool:IdentityPool";
const ROLE = "aws:iam/role:Role";

const pool = (change: Record<string, any> = {}) => ({ identityPoolName: "notes", allowUnauthenticatedIdentities: false, ...change });

/** The authenticated-role trust policy the program writes. */
function trust(change: (statement: Record<string, any>) => void = () => undefined): Record<string, any> {
    const statement: Record<string, any> = {
        Effect: "Allow",
        Principal: { Federated: "cognito-identity.amazonaws.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
            StringEquals: { "cognito-identity.amazonaws.com:aud": "us-east-1:0f8e3bb3-5b0a-4f7e-a1b2-0123456789ab" },
            "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
        },
    };
    change(statement);
    return { Version: "2012-10-17", Statement: [statement] };
}

describe("policy cognito-identity-pool-no-unauthenticated", () => {
    it("passes a pool with unauthenticated identities off or unset", async () => {
        assert.deepEqual((await runResourcePolicy(noUnauthenticatedIdentities, POOL, pool())).reported, []);
        assert.deepEqual((await runResourcePolicy(noUnauthenticatedIdentities, POOL, pool({ allowUnauthenticatedIdentities: undefined }))).reported, []);
    });

    it("flags a pool that allows unauthenticated identities and names it", async () => {
        const { reported } = await runResourcePolicy(noUnauthenticatedIdentities, POOL, pool({ allowUnauthenticatedIdentities: true }), { name: "notes-identity-pool" });
        assert.deepEqual(reported.map((r) => r.message), [
            "Identity pool notes-identity-pool must set allowUnauthenticatedIdentities to false, found true: guests would receive AWS credentials.",
        ]);
    });

    it("reports an unknown setting instead of passing it", async () => {
        const { reported } = await runResourcePolicy(noUnauthenticatedIdentities, POOL, pool({ allowUnauthenticatedIdentities: UNKNOWN.boolean }));
        assert.deepEqual(reported.map((r) => r.enforcementLevel), ["advisory"]);
    });
});

describe("policy iam-cognito-trust-conditions", () => {
    it("passes the aud + amr=authenticated trust policy as JSON text and as an object", async () => {
        assert.deepEqual((await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: JSON.stringify(trust()) })).reported, []);
        assert.deepEqual((await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: trust() })).reported, []);
    });

    it("ignores roles that do not trust Cognito Identity", async () => {
        const lambdaTrust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] };
        assert.deepEqual((await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: JSON.stringify(lambdaTrust) })).reported, []);
    });

    it("flags a trust without the aud condition and names the role", async () => {
        const policy = trust((s) => delete s.Condition.StringEquals);
        const { reported } = await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: JSON.stringify(policy) }, { name: "notes-auth-role" });
        assert.deepEqual(reported.map((r) => r.message), [
            "Role notes-auth-role trusts cognito-identity.amazonaws.com (statement 1) and must require a StringEquals condition on cognito-identity.amazonaws.com:aud naming the identity pool id (found none).",
        ]);
    });

    it("flags a wildcard aud", async () => {
        const policy = trust((s) => (s.Condition = { StringLike: { "cognito-identity.amazonaws.com:aud": "*" }, "ForAnyValue:StringLike": s.Condition["ForAnyValue:StringLike"] }));
        assert.equal((await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: policy })).reported.length, 1);
    });

    it("flags a trust without amr, and one that admits unauthenticated identities", async () => {
        const withoutAmr = trust((s) => delete s.Condition["ForAnyValue:StringLike"]);
        const guests = trust((s) => (s.Condition["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"] = ["authenticated", "unauthenticated"]));
        const wildcard = trust((s) => (s.Condition["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"] = "*"));
        for (const policy of [withoutAmr, guests, wildcard]) {
            const { reported } = await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: policy });
            assert.equal(reported.length, 1, JSON.stringify(policy));
            assert.match(reported[0].message, /must require a condition on cognito-identity\.amazonaws\.com:amr that admits only "authenticated"/);
        }
    });

    it("flags a Federated principal list that includes Cognito Identity", async () => {
        const policy = trust((s) => {
            s.Principal = { Federated: ["accounts.google.com", "cognito-identity.amazonaws.com"] };
            s.Condition = {};
        });
        assert.equal((await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: policy })).reported.length, 2);
    });

    it("reports an unknown trust policy at preview", async () => {
        const { reported } = await runResourcePolicy(cognitoTrustConditions, ROLE, { assumeRolePolicy: UNKNOWN.string });
        assert.deepEqual(reported.map((r) => r.enforcementLevel), ["advisory"]);
    });
});
