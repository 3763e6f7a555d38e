import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "../../tools/engine/program";

const WORKFLOW = path.join(REPO_ROOT, ".github", "workflows", "pull-request.yml");

describe("the pull-request workflow", () => {
    const workflow = parse(readFileSync(WORKFLOW, "utf8"));
    const steps: Record<string, any>[] = workflow.jobs.check.steps;
    // What the steps run, with the text of each script a step calls (`bash .ci/run`).
    const withScripts = (run: string) => [run, ...[...run.matchAll(/\bbash (\S+)/g)].map(([, file]) => readFileSync(path.join(REPO_ROOT, file), "utf8"))].join("\n");
    const runs = steps.map((step) => withScripts(String(step.run ?? ""))).join("\n");
    const scripts: Record<string, string> = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).scripts;

    it("runs on pull requests", () => {
        assert.ok("pull_request" in workflow.on);
    });

    it("names only npm scripts that exist in package.json", () => {
        const named = [...runs.matchAll(/npm (?:run (?:-s )?)?([\w:]+)/g)].map((m) => m[1]).filter((s) => !["ci", "install", "run"].includes(s));
        assert.ok(named.includes("test") && named.includes("policy:check"), named.join(", "));
        for (const script of named) assert.ok(script in scripts, `npm script ${script} is missing`);
        assert.match(scripts["policy:check"], /tools\/scripts\/policy-check\.ts/);
        assert.ok(existsSync(path.join(REPO_ROOT, "tools", "scripts", "policy-check.ts")));
    });

    it("runs what .ci/run runs: type-check, tests, and the offline policy check of dev and prod", () => {
        assert.ok(steps.some((step) => /^bash \.ci\/run$/.test(String(step.run).trim())), "no step runs bash .ci/run");
        const ci = readFileSync(path.join(REPO_ROOT, ".ci", "run"), "utf8");
        for (const command of ["npm ci", "npm run typecheck", "npm test", "npm run policy:check -- --stack dev", "npm run policy:check -- --stack prod"]) {
            assert.match(ci, new RegExp(`^\\s*(run_mocha "[^"]+" )?${command.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "m"), `.ci/run does not run ${command}`);
        }
    });

    it("previews with the policy pack directory, which is a loadable pack", () => {
        const preview = steps.find((step) => /pulumi preview/.test(String(step.run)));
        assert.ok(preview, "no pulumi preview step");
        const pack = /--policy-pack (\S+)/.exec(preview.run)![1];
        for (const file of ["PulumiPolicy.yaml", "package.json", "tsconfig.json", "index.ts"]) {
            assert.ok(existsSync(path.join(REPO_ROOT, pack, file)), `${pack}/${file} is missing`);
        }
        assert.equal(parse(readFileSync(path.join(REPO_ROOT, pack, "PulumiPolicy.yaml"), "utf8")).runtime, "nodejs");
        assert.ok(JSON.parse(readFileSync(path.join(REPO_ROOT, pack, "package.json"), "utf8")).version);
        const install = steps.find((step) => step["working-directory"] === pack);
        assert.match(String(install?.run), /npm ci\b/, "the pack's dependencies are installed from its lock file before the preview");
        const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, pack, "package-lock.json"), "utf8"));
        const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, pack, "package.json"), "utf8"));
        assert.deepEqual(lock.packages[""].dependencies, manifest.dependencies, "policy/package-lock.json matches policy/package.json");
        assert.equal(lock.version, manifest.version);
        assert.ok(steps.indexOf(install!) < steps.indexOf(preview));
    });

    it("previews a stack that exists", () => {
        assert.ok(existsSync(path.join(REPO_ROOT, "Pulumi.dev.yaml")));
        assert.match(runs, /'dev'/);
    });

    it("passes the secrets the docs name", () => {
        const text = readFileSync(WORKFLOW, "utf8");
        for (const secret of ["PULUMI_ACCESS_TOKEN", "AWS_ROLE_TO_ASSUME"]) {
            assert.match(text, new RegExp(`secrets\\.${secret}`));
            assert.match(readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), new RegExp(secret));
        }
    });
});
