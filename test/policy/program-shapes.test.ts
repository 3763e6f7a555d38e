/**
 * `npm run policy:check -- --program <dir>` on small programs of each shape a platform team meets,
 * run as a child process the way CI runs it: the exit code, the violation lines and the summary.
 */
import { strict as assert } from "node:assert";
import { cpSync, existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";
import { limited, PolicyCheckResult, policyCheck as runPolicyCheck, PROGRAMS } from "../support/policy-check";

const OWN_SDK = path.join(PROGRAMS, "own-sdk", "node_modules", "@pulumi", "pulumi");

/** Runs policy:check on a fixture; type checking, which the CLI does by default, is tested in program-faults.test.ts. */
function policyCheck(program: string, stack = "dev"): Promise<PolicyCheckResult> {
    return runPolicyCheck(["--program", path.join(PROGRAMS, program), "--stack", stack], { PULUMI_NODEJS_TRANSPILE_ONLY: "true" });
}

const SUMMARY = (program: string, resources: number, mandatory: number, advisory: number) =>
    new RegExp(`^policy:check ${mandatory > 0 ? "FAILED" : "passed"}: stack dev, ${resources} resources, \\d+ policies, ${mandatory} mandatory and ${advisory} advisory violation\\(s\\) in \\d+ ms\\.$`);

const openUrl = (name: string) =>
    `mandatory lambda-function-url-iam-auth aws:lambda/functionUrl:FunctionUrl ${name}: Lambda function URL ${name} must use authorizationType AWS_IAM, found NONE: a NONE URL lets anyone invoke the function.`;

describe("npm run policy:check -- --program on each program shape", function () {
    this.timeout(120_000);
    const shapes = ["cjs-ts", "esm-ts", "mts", "mjs", "js-function", "main-subfolder", "reads-file", "own-sdk", "secrets", "missing-region", "multi-language"] as const;
    const runs = {} as Record<(typeof shapes)[number] | "missing-key", Promise<PolicyCheckResult>>;

    before(() => {
        // The program's own SDK copy: a real copy (a symlink would resolve to the same module).
        rmSync(path.dirname(OWN_SDK), { recursive: true, force: true });
        cpSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"), OWN_SDK, { recursive: true });
        const started = limited([...shapes.map((shape) => () => policyCheck(shape)), () => policyCheck("missing-region", "unnamed")]);
        [...shapes, "missing-key" as const].forEach((shape, index) => {
            runs[shape] = started[index];
            started[index].catch(() => undefined);
        });
    });

    after(async () => {
        await Promise.allSettled(Object.values(runs));
        rmSync(path.join(PROGRAMS, "own-sdk", "node_modules"), { recursive: true, force: true });
    });

    for (const [shape, what] of [
        ["cjs-ts", "a CommonJS TypeScript program"],
        ["esm-ts", 'a TypeScript ES module ("type": "module", ./x.js imports of .ts files, top-level await)'],
        ["mts", "an .mts entry named by Pulumi.yaml main"],
        ["mjs", "a JavaScript ES module named by package.json main"],
        ["js-function", "CommonJS JavaScript exporting an async function"],
        ["main-subfolder", "a Pulumi.yaml main pointing into a subfolder"],
    ] as const) {
        it(`checks ${what} and exits 1 on its public function URL`, async () => {
            const { code, lines, stderr } = await runs[shape];
            assert.equal(code, 1, stderr);
            assert.deepEqual(lines.slice(0, -1), [openUrl(`${shape}-url`)]);
            assert.match(lines.at(-1)!, SUMMARY(shape, 2, 1, 0));
        });
    }

    it("runs a program in its project directory, so it reads files relative to it", async () => {
        const { code, lines, stderr } = await runs["reads-file"];
        assert.equal(code, 1, stderr);
        assert.equal(lines.length, 2, lines.join("\n"));
        assert.match(lines[0], /^mandatory s3-no-public-bucket-policy aws:s3\/bucketPolicy:BucketPolicy reads-file-policy: Bucket policy reads-file-policy must not be public: statement 1, Sid PublicRead allows principal "\*"/);
    });

    it("installs the mocks on the program's own @pulumi/pulumi copy and says so", async () => {
        assert.ok(existsSync(path.join(OWN_SDK, "package.json")));
        const { code, lines, stderr } = await runs["own-sdk"];
        assert.equal(code, 1, stderr);
        assert.deepEqual(lines.slice(0, -1), [openUrl("own-sdk-url")]);
        assert.ok(stderr.includes(`the program imports its own @pulumi/pulumi`) && stderr.includes(OWN_SDK), stderr);
    });

    it("gives secure: values as marked placeholders, marked secret, and says which", async () => {
        // The fixture throws unless both secrets arrive as marked placeholders and as secrets.
        const { code, lines, stderr } = await runs.secrets;
        assert.equal(code, 1, stderr);
        assert.deepEqual(lines.slice(0, -1), [openUrl("secrets-url")]);
        for (const key of ["secrets:dbPassword", "secrets:webhook"]) {
            assert.match(stderr, new RegExp(`note: ${key} is a secret \\(secure:\\) in Pulumi\\.dev\\.yaml that cannot be decrypted offline`));
        }
    });

    it("stops with exit 2 and names aws:region when the stack has none", async () => {
        const { code, lines, stderr } = await runs["missing-region"];
        assert.equal(code, 2);
        assert.deepEqual(lines, [""]);
        assert.match(stderr, /^policy:check: Stack dev is missing required configuration key aws:region .*pulumi config set aws:region <region> --stack dev/);
    });

    it("stops with exit 2 and names a key that Pulumi.yaml declares without a default and the stack does not set", async () => {
        const { code, lines, stderr } = await runs["missing-key"];
        assert.equal(code, 2);
        assert.deepEqual(lines, [""]);
        assert.match(stderr, /^policy:check: Stack unnamed is missing required configuration key missing-region:functionName \(declared in Pulumi\.yaml without a default\)/);
    });

    it("reports a multi-language component and what depends on it as unknown, without failing", async () => {
        const { code, lines, stderr } = await runs["multi-language"];
        assert.equal(code, 0, stderr);
        assert.deepEqual(
            lines.slice(0, -1).map((line) => line.split(":")[0]),
            // Both rules that read bucket policies say what they could not check.
            ["advisory s3-no-public-bucket-policy aws", "advisory s3-bucket-policy-service-source aws", "advisory unresolved-component awsx"],
        );
        assert.match(lines[0], /multi-language-policy: Could not check policy of .* string value at \.policy can't be known during preview/);
        assert.match(lines[1], /multi-language-policy: Could not check policy of .* string value at \.policy can't be known during preview/);
        assert.match(lines[2], /^advisory unresolved-component awsx:ec2:Vpc multi-language-vpc: Multi-language component .* its child resources and outputs are unknown/);
        assert.match(lines.at(-1)!, SUMMARY("multi-language", 3, 0, 3));
    });
});
