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

    /** The words of a one-line shell command, with double- or single-quoted words unquoted (enough for a workflow's `run:` line). */
    const shellWords = (line: string) => [...line.trim().matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(([, double, single, bare]) => double ?? single ?? bare);
    /** The steps that run `pulumi preview`, each with its words. */
    const previews = () =>
        steps.map((step) => ({ step, words: shellWords(String(step.run ?? "")) })).filter(({ words }) => words[0] === "pulumi" && words[1] === "preview");
    /** The value of `--flag value` or `--flag=value` in a command's words. */
    const flag = (words: string[], name: string) => {
        const at = words.indexOf(name);
        return at >= 0 ? words[at + 1] : words.find((word) => word.startsWith(`${name}=`))?.slice(name.length + 1);
    };

    it("has one step that runs pulumi preview with the policy pack directory, a loadable pack", () => {
        assert.equal(previews().length, 1, "exactly one pulumi preview step");
        const [{ step: preview, words }] = previews();
        assert.equal(preview.run.trim().split("\n").length, 1, "the preview step runs one command");
        const pack = flag(words, "--policy-pack");
        assert.equal(pack, "policy");
        assert.ok(words.includes("--non-interactive"));
        for (const file of ["PulumiPolicy.yaml", "package.json", "tsconfig.json", "index.ts"]) {
            assert.ok(existsSync(path.join(REPO_ROOT, pack!, file)), `${pack}/${file} is missing`);
        }
        assert.equal(parse(readFileSync(path.join(REPO_ROOT, pack!, "PulumiPolicy.yaml"), "utf8")).runtime, "nodejs");
        assert.ok(JSON.parse(readFileSync(path.join(REPO_ROOT, pack!, "package.json"), "utf8")).version);
        const install = steps.find((step) => step["working-directory"] === pack);
        assert.match(String(install?.run), /npm ci\b/, "the pack's dependencies are installed from its lock file before the preview");
        const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, pack!, "package-lock.json"), "utf8"));
        const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, pack!, "package.json"), "utf8"));
        assert.deepEqual(lock.packages[""].dependencies, manifest.dependencies, "policy/package-lock.json matches policy/package.json");
        assert.equal(lock.version, manifest.version);
        assert.ok(steps.indexOf(install!) < steps.indexOf(preview));
    });

    it("previews the stack the repository variable PULUMI_STACK names, else dev, a stack that exists", () => {
        const [{ words }] = previews();
        const stack = /^\$\{\{\s*vars\.PULUMI_STACK\s*\|\|\s*'([\w.-]+)'\s*\}\}$/.exec(flag(words, "--stack") ?? "");
        assert.ok(stack, `--stack is ${flag(words, "--stack")}, not the PULUMI_STACK variable with a default`);
        assert.equal(stack[1], "dev");
        assert.ok(existsSync(path.join(REPO_ROOT, `Pulumi.${stack[1]}.yaml`)), `no Pulumi.${stack[1]}.yaml`);
    });

    it("previews after the Pulumi CLI is installed and AWS credentials are taken through OIDC, with the Pulumi token", () => {
        const [{ step: preview }] = previews();
        const at = (uses: string) => steps.findIndex((step) => String(step.uses ?? "").split("@")[0] === uses);
        assert.ok(at("pulumi/actions") >= 0 && at("pulumi/actions") < steps.indexOf(preview), "the Pulumi CLI is installed before the preview");
        const credentials = steps[at("aws-actions/configure-aws-credentials")];
        assert.ok(credentials && steps.indexOf(credentials) < steps.indexOf(preview), "AWS credentials are configured before the preview");
        assert.equal(credentials.with["role-to-assume"], "${{ secrets.AWS_ROLE_TO_ASSUME }}");
        assert.equal(workflow.permissions["id-token"], "write", "OIDC needs id-token: write");
        assert.deepEqual(preview.env, { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
    });

    it("passes the secrets the docs name", () => {
        const text = readFileSync(WORKFLOW, "utf8");
        for (const secret of ["PULUMI_ACCESS_TOKEN", "AWS_ROLE_TO_ASSUME"]) {
            assert.match(text, new RegExp(`secrets\\.${secret}`));
            assert.match(readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), new RegExp(secret));
        }
    });
});
