import { strict as assert } from "node:assert";
import { caseTitle, evaluateCase, evaluateMatrix, MATRIX, stackFacts, StackFacts } from "../../tools/security/matrix";
import { ofType, stackRun, STACKS } from "../support/program";

// Every cell of tools/security/matrix.ts, against the IAM documents the real program generates for each
// stack, decided by @cloud-copilot/iam-simulate through tools/local/iam/decide.ts `decide()`. The simulator
// ignores `${cognito-identity.amazonaws.com:sub}` outside STS actions, so `decide()` substitutes
// the simulated caller's Identity Pool id into the documents first, as AWS resolves it per request.

for (const stack of STACKS) {
    describe(`least privilege on the ${stack} stack, simulated`, () => {
        let facts: StackFacts;

        before(async () => {
            // Both stacks run at once (each in its own process, cached for the whole test run).
            const runs = await Promise.all(STACKS.map((name) => stackRun(name)));
            facts = stackFacts(runs[STACKS.indexOf(stack)]);
        });

        for (const matrixCase of MATRIX) {
            it(caseTitle(matrixCase), async () => {
                const result = await evaluateCase(matrixCase, facts);
                assert.equal(result.outcome, matrixCase.expected, `${result.request.action} on ${result.request.resource}: simulated ${result.decision}`);
            });
        }

        it("covers every role the program creates: the signed-in role and one role per function", async () => {
            const run = await stackRun(stack);
            const covered = [facts.authenticated.roleArn, ...Object.values(facts.functions).map((fn) => fn.roleArn)].sort();
            assert.deepEqual(ofType(run, "aws:iam/role:Role").map((role) => role.state.arn).sort(), covered);
            for (const role of [facts.authenticated, ...Object.values(facts.functions)]) {
                assert.ok(role.policies.length > 0, `${role.roleName} has no inline policy to evaluate`);
            }
        });
    });
}

describe("the least-privilege matrix catches a widened policy", () => {
    let facts: StackFacts;

    before(async () => {
        facts = stackFacts(await stackRun("dev"));
    });

    const mismatches = async (changed: StackFacts) => (await evaluateMatrix(changed)).filter((result) => !result.pass).map((result) => caseTitle(result.case));

    it("reports the other user's files when the signed-in role reaches the whole private/ prefix", async () => {
        const widened = { ...facts, authenticated: { ...facts.authenticated, policies: facts.authenticated.policies.map((policy) => policy.split("private/${cognito-identity.amazonaws.com:sub}/").join("private/")) } };
        const failed = await mismatches(widened);
        assert.ok(failed.includes("the signed-in users' role may not get an object under another identity's prefix"), failed.join("\n"));
        assert.ok(failed.includes("the signed-in users' role may not list with another identity's prefix"), failed.join("\n"));
        assert.ok(failed.includes("the signed-in users' role may not abort a multipart upload under another identity's prefix"), failed.join("\n"));
    });

    it("reports a role that can no longer abort or resume its own multipart uploads", async () => {
        const narrowed = { ...facts, authenticated: { ...facts.authenticated, policies: facts.authenticated.policies.map((policy) => policy.replace(/"s3:AbortMultipartUpload",?/, "")) } };
        assert.deepEqual(await mismatches(narrowed), ["the signed-in users' role may abort a multipart upload under its own prefix"]);
    });

    it("reports a route wildcard that lets the signed-in role call any method", async () => {
        const widened = { ...facts, authenticated: { ...facts.authenticated, policies: facts.authenticated.policies.map((policy) => policy.replace(/\/\*\/(GET|POST|PUT|DELETE)\/notes/g, "/*/*/notes")) } };
        const failed = await mismatches(widened);
        assert.ok(failed.includes("the signed-in users' role may not invoke PATCH /notes/{id} (no such route)"), failed.join("\n"));
    });

    it("reports a trust policy without the amr condition", async () => {
        const trust = JSON.parse(facts.authenticated.trustPolicy);
        delete trust.Statement[0].Condition["ForAnyValue:StringLike"];
        const failed = await mismatches({ ...facts, authenticated: { ...facts.authenticated, trustPolicy: JSON.stringify(trust) } });
        assert.deepEqual(failed, ["the signed-in role's trust policy may not sts:AssumeRoleWithWebIdentity as an unauthenticated identity"]);
    });

    it("reports a function role that gains dynamodb:Scan", async () => {
        const list = facts.functions.list;
        const widened = { ...facts, functions: { ...facts.functions, list: { ...list, policies: list.policies.map((policy) => policy.replace('"dynamodb:Query"', '"dynamodb:Query","dynamodb:Scan"')) } } };
        assert.deepEqual(await mismatches(widened), ["the list function's role may not dynamodb:Scan on the notes table"]);
    });
});
