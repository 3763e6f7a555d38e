import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ARCHITECTURE_BLOCK, ARCHITECTURE_STACK, architectureBlock } from "../../tools/docs/architecture";
import { documentedStacks, LEAST_PRIVILEGE_DOC, MATRIX_BLOCK, matrixBlock } from "../../tools/docs/least-privilege";
import { findBlock } from "../../tools/docs/markers";
import { REPO_ROOT } from "../../tools/engine/program";
import { evaluateMatrix, stackFacts } from "../../tools/security/matrix";
import { stackRun } from "../support/program";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

// Generated docs regenerated from the program and compared: a stale one fails with the command to run.
describe("generated docs", () => {
    it("README.md's architecture picture is the one the program draws now (npm run docs:architecture -- --write)", async () => {
        const expected = architectureBlock(await stackRun(ARCHITECTURE_STACK));
        const written = findBlock(read("README.md"), ARCHITECTURE_BLOCK, "README.md").body;
        assert.ok(written === expected, "README.md's architecture picture is stale: run `npm run docs:architecture -- --write`");
    });

    it(`${LEAST_PRIVILEGE_DOC} holds the least-privilege matrix of every stack as it is now (npm run security:matrix -- --write)`, async () => {
        const stacks = documentedStacks();
        assert.deepEqual(stacks, ["dev", "local-oauth", "prod"]);
        const runs = await Promise.all(stacks.map((stack) => stackRun(stack)));
        const matrices = [];
        for (const run of runs) {
            const facts = stackFacts(run);
            matrices.push({ facts, results: await evaluateMatrix(facts) });
        }
        const written = findBlock(read(LEAST_PRIVILEGE_DOC), MATRIX_BLOCK, LEAST_PRIVILEGE_DOC).body;
        assert.ok(written === matrixBlock(matrices), `${LEAST_PRIVILEGE_DOC} is stale: run \`npm run security:matrix -- --write\``);
    });
});
