/**
 * `npm run security:matrix [-- --stack <name>]`: runs the real program under Pulumi mocks, feeds
 * the IAM documents it generates to the policy simulator for every cell of the least-privilege
 * matrix (tools/security/matrix.ts) and prints the matrix as a markdown table. Exits 1 on any mismatch.
 *
 * `npm run security:matrix -- --write` does the same for every stack of the project and, when no
 * cell mismatches, writes the matrices into docs/least-privilege.md (test/docs/generated.test.ts
 * fails when that file is stale).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ProgramRun, REPO_ROOT, runProgram, runProgramIsolated } from "../engine/program";
import { documentedStacks, LEAST_PRIVILEGE_DOC, MATRIX_BLOCK, matrixBlock } from "../docs/least-privilege";
import { replaceBlock } from "../docs/markers";
import { evaluateMatrix, MatrixResult, renderMarkdown, stackFacts, StackFacts } from "../security/matrix";

function parseArguments(argv: string[]): { stack?: string; write: boolean } {
    try {
        const { values } = parseArgs({
            args: argv,
            options: { stack: { type: "string", short: "s" }, write: { type: "boolean", short: "w" }, help: { type: "boolean", short: "h" } },
            strict: true,
        });
        if (values.help) usage();
        if (values.write && values.stack !== undefined) usage(`--write covers every stack (${documentedStacks().join(", ")}); drop --stack`);
        return { stack: values.stack, write: Boolean(values.write) };
    } catch (error) {
        return usage((error as Error).message);
    }
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`security:matrix: ${problem}\n`);
    process.stderr.write(`usage: npm run security:matrix -- [--stack <name>]\n       npm run security:matrix -- --write   (every stack, into ${LEAST_PRIVILEGE_DOC})\n`);
    process.exit(2);
}

/** Evaluates one stack's matrix, prints it and its summary line; true when every cell passed. */
async function check(run: Promise<ProgramRun>, stack: string): Promise<{ facts: StackFacts; results: MatrixResult[]; passed: boolean }> {
    const started = process.hrtime.bigint();
    const facts = stackFacts(await run);
    const results = await evaluateMatrix(facts);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`${renderMarkdown(facts, results)}\n`);
    const failed = results.filter((result) => !result.pass).length;
    process.stderr.write(`security:matrix ${failed > 0 ? "FAILED" : "passed"}: stack ${stack}, ${results.length} cells in ${ms.toFixed(0)} ms.\n`);
    return { facts, results, passed: failed === 0 };
}

async function main(): Promise<number> {
    const { stack, write } = parseArguments(process.argv.slice(2));
    if (!write) {
        const name = stack ?? "dev";
        return (await check(runProgram({ stack: name }), name)).passed ? 0 : 1;
    }
    const stacks = documentedStacks();
    // Pulumi's runtime is process-global: each stack runs in its own process, all at once.
    const runs = stacks.map((name) => runProgramIsolated(name));
    const checked = [];
    for (const [index, name] of stacks.entries()) checked.push(await check(runs[index], name));
    if (checked.some((result) => !result.passed)) {
        process.stderr.write(`security:matrix: ${LEAST_PRIVILEGE_DOC} left unchanged: it holds only matrices without a mismatch.\n`);
        return 1;
    }
    const file = path.join(REPO_ROOT, LEAST_PRIVILEGE_DOC);
    writeFileSync(file, replaceBlock(readFileSync(file, "utf8"), MATRIX_BLOCK, matrixBlock(checked), LEAST_PRIVILEGE_DOC));
    process.stderr.write(`security:matrix: wrote ${LEAST_PRIVILEGE_DOC} (${stacks.join(", ")}).\n`);
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`security:matrix: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
        process.exit(2);
    },
);
