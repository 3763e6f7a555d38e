import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { OPTIONAL_STACK_OUTPUT_NAMES } from "../../outputs";
import { REPO_ROOT } from "../../tools/engine/program";
import { stackRun, STACKS } from "../support/program";

const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** The rows of the README table whose header row starts with `first`, as cells (backslash-escaped pipes kept). */
function table(first: string): string[][] {
    const lines = readme.split("\n");
    const header = lines.findIndex((line) => line.startsWith(`| ${first} |`));
    assert.ok(header >= 0, `README.md has no table headed "${first}"`);
    const rows: string[][] = [];
    for (const line of lines.slice(header + 2)) {
        if (!line.startsWith("|")) break;
        rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
    }
    return rows;
}

/** A settings cell as a value: `` `a`, `b` `` → ["a", "b"], `` `""` `` → "", `14` → 14, `false` → false. */
function cellValue(cell: string, type: string): unknown {
    const codes = [...cell.matchAll(/`([^`]*)`/g)].map((m) => (m[1] === '""' ? "" : m[1]));
    if (type === "array") return codes;
    if (codes.length === 1) return codes[0];
    if (type === "boolean") return cell === "true" ? true : cell === "false" ? false : cell;
    return /^\d+$/.test(cell) ? Number(cell) : cell;
}

describe("README.md", () => {
    it("lists every setting of Pulumi.yaml once, with its type, its default and each stack's value", () => {
        const project = parse(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"));
        const declared: Record<string, { type: string; default: unknown }> = project.config;
        const rows = table("Key");
        const keys = rows.map(([key]) => key.replace(/`/g, ""));
        assert.deepEqual([...keys].sort(), Object.keys(declared).sort(), "the settings table and Pulumi.yaml list different keys");
        const stacks = Object.fromEntries(STACKS.map((stack) => [stack, parse(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")).config ?? {}]));
        for (const [key, type, defaultCell, ...stackCells] of rows.map((row) => [row[0].replace(/`/g, ""), ...row.slice(1)])) {
            const spec = declared[key];
            const kind = spec.type === "array" ? /^list/ : spec.type === "integer" ? /^integer/ : spec.type === "boolean" ? /^boolean$/ : /./;
            assert.match(type, kind, `${key}: type "${type}" for ${spec.type}`);
            assert.deepEqual(cellValue(defaultCell, spec.type), spec.default, `${key}: default`);
            STACKS.forEach((stack, index) => {
                const set = stacks[stack][`${project.name}:${key}`];
                const effective = set === undefined ? spec.default : set;
                const cell = stackCells[index];
                if (cell === "default") assert.deepEqual(effective, spec.default, `${key}: ${stack} says default`);
                else assert.deepEqual(cellValue(cell, spec.type), effective, `${key}: ${stack}`);
            });
        }
    });

    it("lists exactly the stack outputs the program exports, and those it exports only when configured", async () => {
        const run = await stackRun("dev");
        const listed = table("Output").map(([name]) => name.replace(/`/g, ""));
        assert.deepEqual([...listed].sort(), [...new Set([...Object.keys(run.outputs), ...OPTIONAL_STACK_OUTPUT_NAMES])].sort());
    });

    it("shows how to start and test, and the layout before the picture", () => {
        for (const command of ["npm ci", "npm start", "npm test"]) assert.ok(readme.includes(command), command);
        const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
        assert.deepEqual(headings.slice(0, 3), ["Layout", "The picture", "Quick start"]);
    });
});
