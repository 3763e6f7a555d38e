import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";
import { policies } from "../../policy/policies";

const POLICY_DIR = path.join(REPO_ROOT, "policy");
/** The policies that only advise: hygiene beyond what makes data public or a door open. */
const ADVISORY = ["cloudfront-response-headers-policy", "s3-bucket-policy-service-source", "cognito-client-needed-scopes-only"];

describe("the policy pack's layout and conventions", () => {
    it("names every policy in kebab-case, uniquely, with a description that starts “Checks that”", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of policies) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, p.name);
            assert.match(p.description, /^Checks that /, p.name);
            assert.equal(p.enforcementLevel, ADVISORY.includes(p.name) ? "advisory" : "mandatory", p.name);
        }
    });

    it("gives every policy a config schema with failOnUnknown defaulting to false", () => {
        for (const p of policies) {
            const spec = p.configSchema?.properties.failOnUnknown;
            assert.ok(spec && typeof spec === "object", p.name);
            assert.equal(spec.type, "boolean", p.name);
            assert.equal(spec.default, false, p.name);
        }
    });

    it("declares every setting of every policy with a default and a description, in one schema", () => {
        for (const p of policies) {
            for (const [key, spec] of Object.entries(p.configSchema?.properties ?? {})) {
                assert.ok(typeof spec === "object" && spec.default !== undefined && typeof spec.description === "string", `${p.name}.${key}`);
            }
        }
    });

    it("constructs the PolicyPack in index.ts and nowhere else", () => {
        const files = readdirSync(POLICY_DIR).filter((f) => f.endsWith(".ts"));
        const constructing = files.filter((f) => /new PolicyPack\(/.test(readFileSync(path.join(POLICY_DIR, f), "utf8")));
        assert.deepEqual(constructing, ["index.ts"]);
        const code = readFileSync(path.join(POLICY_DIR, "index.ts"), "utf8").replace(/\/\/.*$/gm, "");
        assert.deepEqual([...code.matchAll(/from "([^"]+)"/g)].map((m) => m[1]).sort(), ["./policies", "@pulumi/policy"]);
    });

    it("imports only packages the pack declares, so it loads from its own node_modules", () => {
        const manifest = JSON.parse(readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
        assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
        assert.match(manifest.dependencies["@pulumi/policy"], /1\.21/);
        assert.ok(manifest.dependencies["@pulumi/pulumi"]);
        const declared = new Set(Object.keys(manifest.dependencies));
        for (const file of readdirSync(POLICY_DIR).filter((f) => f.endsWith(".ts"))) {
            const code = readFileSync(path.join(POLICY_DIR, file), "utf8");
            for (const [, specifier] of code.matchAll(/(?:from|require\()\s*"([^"]+)"/g)) {
                if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
                const pkg = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
                assert.ok(declared.has(pkg), `policy/${file} imports ${specifier}, which policy/package.json does not declare`);
            }
        }
    });

    describe("npm run policy:check", function () {
        this.timeout(60_000);
        const script = (...args: string[]) =>
            new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
                // Type checking, which the CLI does by default, is tested in program-faults.test.ts.
                execFile(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/scripts/policy-check.ts", ...args], { cwd: REPO_ROOT, env: { ...process.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" } }, (error, stdout, stderr) =>
                    resolve({ code: error ? Number((error as any).code) : 0, stdout, stderr }),
                );
            });
        type Result = Awaited<ReturnType<typeof script>>;
        const runs = {} as { badConfig: Promise<Result>; openApi: Promise<Result> };
        before(() => {
            const badConfig = path.join(mkdtempSync(path.join(tmpdir(), "policy-config-")), "config.json");
            writeFileSync(badConfig, JSON.stringify({ "s3-no-public-acl": { failOnUnknwn: true } }));
            // Both runs start at once (two processes); each test awaits its own.
            runs.badConfig = script("--policy-pack-config", badConfig);
            runs.openApi = script("--program", "test/fixtures/awsx-classic-api", "--stack", "open");
        });

        it("prints each violation as `<enforcement> <policy-name> <type> <name>: <message>` and exits 1 on a mandatory one", async () => {
            const { code, stdout } = await runs.openApi;
            const lines = stdout.trim().split("\n");
            assert.equal(code, 1, stdout);
            assert.equal(lines.length, 3, stdout);
            assert.match(lines[0], /^mandatory apigateway-openapi-iam-auth aws:apigateway\/restApi:RestApi fixture-api: Operation ANY \/status\/ in the OpenAPI body of RestApi fixture-api must require AWS_IAM/);
            assert.match(lines[2], /^policy:check FAILED: stack open, \d+ resources, 27 policies, 2 mandatory and 0 advisory violation\(s\) in \d+ ms\.$/);
        });

        it("rejects a bad --policy-pack-config with exit 2 before running the program", async () => {
            const { code, stderr } = await runs.badConfig;
            assert.equal(code, 2);
            assert.match(stderr, /"s3-no-public-acl": "failOnUnknwn" is not a setting of this policy/);
        });
    });
});
