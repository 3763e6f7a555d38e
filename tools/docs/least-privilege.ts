/**
 * docs/least-privilege.md holds the least-privilege matrix as `npm run security:matrix -- --write`
 * last ran it, for every stack of the project: this module renders that block and names the file.
 */
import { listStacks } from "../engine/program";
import { MatrixResult, renderMarkdown, StackFacts } from "../security/matrix";

/** The document, relative to the repository root. */
export const LEAST_PRIVILEGE_DOC = "docs/least-privilege.md";
/** Its generated block (`<!-- security-matrix:begin … -->`). */
export const MATRIX_BLOCK = "security-matrix";

/** The stacks the document covers: every `Pulumi.<stack>.yaml` of the project, sorted. */
export function documentedStacks(): string[] {
    return listStacks();
}

/** The block: one section per stack, each the matrix as `npm run security:matrix -- --stack <s>` prints it. */
export function matrixBlock(runs: readonly { facts: StackFacts; results: readonly MatrixResult[] }[]): string {
    return runs.map(({ facts, results }) => `## Stack \`${facts.stack}\`\n\n${renderMarkdown(facts, results)}\n`).join("\n");
}
