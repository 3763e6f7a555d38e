import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isThrottle, LocalFaults } from "../../../tools/local/faults/faults";

describe("fault rules (<data-dir>/faults.json)", () => {
    let dir: string;
    let printed: string[];
    let roll: number;
    let faults: LocalFaults;
    let version = 0;
    const write = (content: unknown) => {
        const file = path.join(dir, "faults.json");
        writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
        // Two writes within the file system's time resolution still count as a change.
        const when = new Date(Date.now() + ++version * 1000);
        utimesSync(file, when, when);
    };

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "notes-faults-"));
        printed = [];
        roll = 0;
        faults = new LocalFaults(dir, (line) => printed.push(line), () => roll);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("injects nothing without a file", () => {
        assert.equal(faults.match("dynamodb", "PutItem"), undefined);
        assert.deepEqual(printed, []);
    });

    it("matches by service and operation, every operation when none is named, first rule first", () => {
        write([
            { service: "dynamodb", operation: "Query", probability: 1, error: { statusCode: 400, code: "ThrottlingException" } },
            { service: "dynamodb", probability: 1, latencyMs: 50 },
            { service: "lambda", operation: "notes-api-list-abc1234", probability: 1, error: { statusCode: 500, code: "Boom" } },
        ]);
        assert.deepEqual(faults.match("dynamodb", "Query")?.error, { statusCode: 400, code: "ThrottlingException" });
        assert.deepEqual(faults.match("dynamodb", "PutItem"), { rule: { service: "dynamodb", probability: 1, latencyMs: 50 }, latencyMs: 50, error: undefined });
        assert.equal(faults.match("s3", "GetObject"), undefined);
        assert.equal(faults.match("lambda", "Invoke", "notes-api-get-xyz7890")?.error, undefined);
        assert.equal(faults.match("lambda", "Invoke", "notes-api-list-abc1234")?.error?.code, "Boom");
        assert.match(printed[0], /^\[faults\] 3 rule\(s\) from .*faults\.json: dynamodb Query p=1: 400 ThrottlingException; dynamodb p=1: \+50 ms; lambda notes-api-list-abc1234 p=1: 500 Boom$/);
    });

    it("hits a request with the rule's probability", () => {
        write([{ service: "s3", probability: 0.25, error: { statusCode: 503, code: "SlowDown" } }]);
        roll = 0.2;
        assert.ok(faults.match("s3", "PutObject"));
        roll = 0.25;
        assert.equal(faults.match("s3", "PutObject"), undefined);
    });

    it("picks up a changed or removed file while running", () => {
        write([{ service: "cognito-idp", probability: 1, error: { statusCode: 400, code: "TooManyRequestsException" } }]);
        assert.ok(faults.match("cognito-idp", "SignUp"));
        write([]);
        assert.equal(faults.match("cognito-idp", "SignUp"), undefined);
        write([{ service: "cognito-identity", operation: "GetId", probability: 1, latencyMs: 10 }]);
        assert.equal(faults.match("cognito-identity", "GetId")?.latencyMs, 10);
        rmSync(path.join(dir, "faults.json"));
        assert.equal(faults.match("cognito-identity", "GetId"), undefined);
        assert.match(printed.at(-1)!, /removed: no faults injected/);
    });

    const bad: [string, unknown, RegExp][] = [
        ["not JSON", "[{ service: dynamodb", /is not valid JSON .*: no faults injected until it is fixed/],
        ["not a list", { service: "dynamodb", probability: 1 }, /has invalid rules \(the file must be a JSON array of rules\)/],
        ["an unknown service", [{ service: "sqs", probability: 1, latencyMs: 1 }], /rule 0\.service must be one of dynamodb, s3, lambda, cognito-idp, cognito-identity/],
        ["a probability above 1", [{ service: "s3", probability: 1.5, latencyMs: 1 }], /rule 0\.probability must be between 0 and 1/],
        ["a status that is not an error", [{ service: "s3", probability: 1, error: { statusCode: 200, code: "Ok" } }], /rule 0\.error\.statusCode must be an HTTP error status/],
        ["neither error nor latency", [{ service: "s3", probability: 1 }], /rule 0 needs an error, a latencyMs, or both/],
        ["an unknown field", [{ service: "s3", probability: 1, latencyMs: 5, region: "us-east-1" }], /rule 0 .*region/],
    ];
    for (const [what, content, message] of bad) {
        it(`reports ${what} once and injects nothing`, () => {
            write(content);
            assert.equal(faults.match("s3", "GetObject"), undefined);
            assert.equal(faults.match("s3", "GetObject"), undefined);
            assert.equal(printed.length, 1);
            assert.match(printed[0], message);
        });
    }

    it("counts throttling codes and 429 as throttles, other errors not", () => {
        assert.equal(isThrottle({ statusCode: 400, code: "ProvisionedThroughputExceededException" }), true);
        assert.equal(isThrottle({ statusCode: 400, code: "TooManyRequestsException" }), true);
        assert.equal(isThrottle({ statusCode: 429, code: "Anything" }), true);
        assert.equal(isThrottle({ statusCode: 500, code: "InternalServerError" }), false);
    });
});
