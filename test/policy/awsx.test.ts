import { strict as assert } from "node:assert";
import { evaluatePolicies, formatViolation } from "../../policy/evaluate";
import { runFixtureProgram } from "../support/fixture-program";

describe("the policy pack on an awsx classic API Gateway program", function () {
    this.timeout(60_000);
    // Both stacks start at once: each is its own Node process.
    const runs = { iam: runFixtureProgram("awsx-classic-api", "iam"), open: runFixtureProgram("awsx-classic-api", "open") };
    for (const run of Object.values(runs)) run.catch(() => undefined);

    it("emits a RestApi whose OpenAPI body the pack reads", async () => {
        const restApis = (await runs.iam).resources.filter((r) => r.type === "aws:apigateway/restApi:RestApi");
        assert.equal(restApis.length, 1);
        assert.match(restApis[0].inputs.body, /x-amazon-apigateway-auth/);
    });

    it("passes when every route sets iamAuthEnabled", async () => {
        assert.deepEqual((await evaluatePolicies((await runs.iam).resources)).map(formatViolation), []);
    });

    it("flags each operation of the route without iamAuthEnabled, naming the API", async () => {
        const violations = await evaluatePolicies((await runs.open).resources);
        assert.deepEqual(
            violations.map((v) => [v.enforcementLevel, v.policyName, v.resourceType, v.resourceName]),
            [
                ["mandatory", "apigateway-openapi-iam-auth", "aws:apigateway/restApi:RestApi", "fixture-api"],
                ["mandatory", "apigateway-openapi-iam-auth", "aws:apigateway/restApi:RestApi", "fixture-api"],
            ],
        );
        assert.match(violations[0].message, /^Operation ANY \/status\/ in the OpenAPI body of RestApi fixture-api must require AWS_IAM .* found no security requirement\.$/);
        assert.match(violations[1].message, /^Operation ANY \/status\/\{proxy\+\} /);
    });
});
