import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { LEAST_PRIVILEGE_DOC } from "../../tools/docs/least-privilege";
import { caseTitle, MATRIX } from "../../tools/security/matrix";
import { STACKS } from "../support/program";

const ROOT = path.resolve(__dirname, "..", "..");
const THREAT_MODEL_DOC = "docs/threat-model.md";

/** The lines of a markdown table that follow a heading, without the header and separator rows. */
function tableRows(doc: string, heading: string): string[][] {
    const section = readFileSync(path.join(ROOT, doc), "utf8").split(/^## /m).find((part) => part.startsWith(heading));
    assert.ok(section, `${doc} has no "## ${heading}" section`);
    return section
        .split("\n")
        .filter((line) => /^\| \d+ \|/.test(line))
        .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

/** Test titles a file defines: literal `it("…")` titles, with template parts as wildcards. */
function titlesIn(file: string): RegExp[] {
    const source = readFileSync(path.join(ROOT, file), "utf8");
    const titles: RegExp[] = [];
    for (const match of source.matchAll(/\bit\(\s*(["'`])((?:\\.|(?!\1).)*)\1/g)) {
        const literal = match[2].replace(/\\(["'`\\])/g, "$1");
        const pattern = literal
            .split(/\$\{[^}]*\}/)
            .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join(".+");
        titles.push(new RegExp(`^${pattern}$`));
    }
    return titles;
}

describe("the threat model (docs/threat-model.md) and the least-privilege matrix (docs/least-privilege.md)", () => {
    const threats = tableRows(THREAT_MODEL_DOC, "Threat model");

    it("has a threat model whose rows each name a control with a file and at least one proof", () => {
        assert.ok(threats.length >= 20, `only ${threats.length} threat rows`);
        for (const [number, threat, control, proof] of threats) {
            assert.match(control, /`[\w./-]+\.(ts|yaml)`|`policy\/`|`tools\/local\/`/, `row ${number} (${threat}) names no file for its control`);
            assert.match(proof, /`test\/[\w/.-]+\.test\.ts`: "|`tools\/scripts\/[\w-]+\.ts`/, `row ${number} (${threat}) names no test`);
        }
    });

    it("names only tests that exist, in the files it names", () => {
        const generated = new Map([["test/security/matrix.test.ts", new Set(MATRIX.map(caseTitle))]]);
        const missing: string[] = [];
        for (const [number, , , proof] of threats) {
            for (const [, file, title] of proof.matchAll(/`(test\/[\w/.-]+\.test\.ts)`: "([^"]+)"/g)) {
                if (!existsSync(path.join(ROOT, file))) {
                    missing.push(`row ${number}: no file ${file}`);
                    continue;
                }
                const found = generated.get(file)?.has(title) || titlesIn(file).some((pattern) => pattern.test(title));
                if (!found) missing.push(`row ${number}: ${file} has no test "${title}"`);
            }
            for (const [, script] of proof.matchAll(/`(tools\/scripts\/[\w-]+\.ts)`/g)) {
                if (!existsSync(path.join(ROOT, script))) missing.push(`row ${number}: no script ${script}`);
            }
        }
        assert.deepEqual(missing, []);
    });

    it("holds a matrix run with every case of tools/security/matrix.ts, in order, with its expected decision and no mismatch", () => {
        for (const stack of STACKS) {
            const rows = tableRows(LEAST_PRIVILEGE_DOC, `Stack \`${stack}\``);
            assert.equal(rows.length, MATRIX.length, "the written matrix is not the current one: run `npm run security:matrix -- --write`");
            rows.forEach(([number, , attempt, , , , expected, simulated, verdict], index) => {
                const matrixCase = MATRIX[index];
                assert.equal(attempt.replace(/\\\|/g, "|"), matrixCase.attempt, `${stack} row ${number}`);
                assert.equal(expected, matrixCase.expected, `${stack} row ${number}`);
                assert.equal(verdict, "ok", `${stack} row ${number}: simulated ${simulated}`);
            });
        }
    });
});
