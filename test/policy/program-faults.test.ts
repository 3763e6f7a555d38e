/**
 * `policy:check` on the programs that broke it, one fixture per fault (test/fixtures/programs/):
 * a program compiled with its own tsconfig, pure invokes answered as the provider renders them,
 * cloud lookups refused unless answered, and every way a run can end incomplete failing closed
 * with exit 2, never "passed".
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { limited, policyCheck, PolicyCheckResult, PROGRAMS } from "../support/policy-check";

const program = (name: string) => ["--program", path.join(PROGRAMS, name), "--stack", "dev"];
const TRANSPILE_ONLY = { PULUMI_NODEJS_TRANSPILE_ONLY: "true" };

const summary = (resources: number, mandatory: number) =>
    new RegExp(`^policy:check ${mandatory > 0 ? "FAILED" : "passed"}: stack dev, ${resources} resources, \\d+ policies, ${mandatory} mandatory and 0 advisory violation\\(s\\) in \\d+ ms\\.$`);

/** Exit 2 with nothing on stdout: no verdict, no summary line. */
function assertIncomplete({ code, lines, stderr }: PolicyCheckResult): void {
    assert.equal(code, 2, stderr);
    assert.deepEqual(lines, [""], "nothing may be printed on stdout, least of all 'passed'");
}

describe("npm run policy:check -- --program on the programs that broke it", function () {
    this.timeout(240_000);
    const cases = {
        ownTsconfig: () => policyCheck(program("own-tsconfig")),
        typeError: () => policyCheck(program("type-error")),
        policyDocument: () => policyCheck(program("policy-document"), TRANSPILE_ONLY),
        cloudLookup: () => policyCheck(program("cloud-lookup"), TRANSPILE_ONLY),
        cloudLookupAnswered: () => policyCheck([...program("cloud-lookup"), "--invoke-answers", path.join(PROGRAMS, "cloud-lookup", "invoke-answers.json")], TRANSPILE_ONLY),
        rejectedInvoke: () => policyCheck(program("rejected-invoke"), TRANSPILE_ONLY),
        unhandledRejection: () => policyCheck(program("unhandled-rejection"), TRANSPILE_ONLY),
        leakedPromise: () => policyCheck(program("leaked-promise"), TRANSPILE_ONLY),
        apiDoors: () => policyCheck(program("api-doors"), TRANSPILE_ONLY),
        badAnswers: () => {
            const file = path.join(mkdtempSync(path.join(tmpdir(), "invoke-answers-")), "answers.json");
            writeFileSync(file, JSON.stringify({ "aws:ec2/getVpc:getVpc": [{ input: { default: true }, outputs: {} }] }));
            return policyCheck([...program("cloud-lookup"), "--invoke-answers", file], TRANSPILE_ONLY);
        },
    };
    const runs = {} as Record<keyof typeof cases, Promise<PolicyCheckResult>>;

    before(() => {
        const names = Object.keys(cases) as (keyof typeof cases)[];
        limited(names.map((name) => cases[name])).forEach((run, index) => {
            runs[names[index]] = run;
            run.catch(() => undefined);
        });
    });

    after(async () => {
        await Promise.allSettled(Object.values(runs));
    });

    describe("compiles a program as the CLI's Node.js language host does", () => {
        it("uses the program's own tsconfig (no esModuleInterop), so a CommonJS function import runs and its public URL is judged", async () => {
            const { code, lines, stderr } = await runs.ownTsconfig;
            assert.equal(code, 1, stderr);
            assert.deepEqual(lines.slice(0, -1), [
                "mandatory lambda-function-url-iam-auth aws:lambda/functionUrl:FunctionUrl own-tsconfig-url: Lambda function URL own-tsconfig-url must use authorizationType AWS_IAM, found NONE: a NONE URL lets anyone invoke the function.",
            ]);
            assert.match(lines.at(-1)!, summary(2, 1));
        });

        it("type-checks the program unless told otherwise, as the CLI's ts-node does, and stops with exit 2 on a type error", async () => {
            const result = await runs.typeError;
            assertIncomplete(result);
            assert.match(result.stderr, /^policy:check: the program failed: TSError: ⨯ Unable to compile TypeScript:\nindex\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'Input<string>'/);
        });
    });

    describe("answers pure invokes as the provider renders them", () => {
        it("renders getPolicyDocument (promise and Output forms, a source document) and judges the bucket policy built from it", async () => {
            const { code, lines, stderr } = await runs.policyDocument;
            assert.equal(code, 1, stderr);
            assert.equal(lines.length, 2, lines.join("\n"));
            // Statement 2: the source document's TLS-only deny comes first, then the program's own.
            assert.match(lines[0], /^mandatory s3-no-public-bucket-policy aws:s3\/bucketPolicy:BucketPolicy policy-document-policy: Bucket policy policy-document-policy must not be public: statement 2, Sid PublicRead allows principal "\*" to "s3:GetObject"/);
            assert.match(lines[1], summary(4, 1));
        });
    });

    describe("refuses cloud lookups it cannot answer, unless given an answer", () => {
        it("stops with exit 2, naming the invoke, its inputs and how to answer it", async () => {
            const result = await runs.cloudLookup;
            assertIncomplete(result);
            assert.ok(result.stderr.includes("the program calls the invoke aws:ec2/getVpc:getVpc, a lookup that needs the cloud, and no answer was given"), result.stderr);
            assert.ok(result.stderr.includes('give its answer with --invoke-answers <file.json>, a file like {"aws:ec2/getVpc:getVpc":[{"inputs":{"default":true},'), result.stderr);
            assert.ok(result.stderr.includes("resource cloud-lookup-sg (aws:ec2/securityGroup:SecurityGroup) was declared but its registration did not complete"), result.stderr);
        });

        it("runs the program to completion with --invoke-answers keyed by token and inputs", async () => {
            const { code, lines, stderr } = await runs.cloudLookupAnswered;
            assert.equal(code, 0, stderr);
            assert.deepEqual(lines.length, 1, lines.join("\n"));
            assert.match(lines[0], summary(2, 0));
        });

        it("refuses an answers file with a misspelt field, naming it, before running the program", async () => {
            const result = await runs.badAnswers;
            assertIncomplete(result);
            assert.match(result.stderr, /^policy:check: --invoke-answers: aws:ec2\/getVpc:getVpc\[0\] in .*answers\.json has unknown field input: an answer has "inputs" and "outputs"\.\n$/);
        });
    });

    describe("fails closed: exit 2 naming what happened, never 'passed' on a run that did not complete", () => {
        it("a rejected invoke used through its promise form: names the invoke, the provider's error and the resource never registered", async () => {
            const result = await runs.rejectedInvoke;
            assertIncomplete(result);
            assert.equal(
                result.stderr,
                "policy:check: the program did not run to completion, so the check cannot pass:\n" +
                    "  - the invoke aws:iam/getPolicyDocument:getPolicyDocument was rejected: writing IAM Policy Document: duplicate Sid (PublicRead). Remove the Sid or ensure the Sid is unique.\n" +
                    "  - resource rejected-invoke-policy (aws:s3/bucketPolicy:BucketPolicy) was declared but its registration did not complete, so no policy judged it.\n",
            );
        });

        it("an unhandled rejection: names it and the program's error", async () => {
            const result = await runs.unhandledRejection;
            assertIncomplete(result);
            assert.match(result.stderr, /^policy:check: the program failed \(an unhandled promise rejection\): Error: the tag catalogue is unreachable\n/);
        });

        it("a promise that never settles: the program never finished, and the resource waiting on it never registered", async () => {
            const result = await runs.leakedPromise;
            assertIncomplete(result);
            assert.match(result.stderr, /^policy:check: the program did not run to completion, so the check cannot pass:\n/);
            assert.ok(result.stderr.includes("  - the program never ran to completion: it, or a registration it started, waits on a promise that never settles, and Node ran out of work first."), result.stderr);
            assert.ok(result.stderr.includes("  - resource leaked-promise-policy (aws:s3/bucketPolicy:BucketPolicy) was declared but its registration did not complete, so no policy judged it."), result.stderr);
        });
    });

    describe("sees every API door", () => {
        it("flags an API-key GraphQL API, a Cognito Event API and a WebSocket API without $connect", async () => {
            const { code, lines, stderr } = await runs.apiDoors;
            assert.equal(code, 1, stderr);
            assert.deepEqual(
                lines.slice(0, -1).map((line) => line.split(":")[0]),
                [
                    "mandatory appsync-graphql-iam-auth aws",
                    "mandatory appsync-event-api-iam-auth aws",
                    "mandatory appsync-event-api-iam-auth aws",
                    "mandatory appsync-event-api-iam-auth aws",
                    "mandatory apigatewayv2-websocket-connect-route aws",
                ],
            );
            assert.match(lines[0], /api-doors-graphql: AppSync GraphQL API api-doors-graphql must use authenticationType AWS_IAM, found API_KEY/);
            assert.match(lines[4], /api-doors-socket: WebSocket API api-doors-socket must have a \$connect route/);
            assert.match(lines.at(-1)!, summary(6, 5));
        });
    });
});
