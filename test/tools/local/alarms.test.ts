import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FlowUser, newPassword, NotesClient } from "../../../tools/client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../../../tools/local/process";

/** Every alarm of the stack, by role (its logical name without `notes-monitoring-`). */
const ROLES = [
    "api-5xx", "api-latency", "handler-errors", "table-throttles", "table-system-errors",
    "sign-in-throttles", "sign-up-throttles", "token-refresh-throttles",
    ...["create", "list", "get", "update", "delete", "account"].flatMap((h) => [`${h}-errors`, `${h}-throttles`, `${h}-duration`]),
].sort();

/** `[alarm] <name>: <from> -> <to> (<reason>)` */
const TRANSITION = /^\[alarm\] notes-monitoring-([\w-]+)-[a-z0-9]{7}: (OK|ALARM|INSUFFICIENT_DATA) -> (OK|ALARM|INSUFFICIENT_DATA) \((.+)\)$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("alarms under injected faults (npm start --alarm-time-scale 60)", function () {
    this.timeout(300_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let client: NotesClient;
    let user: FlowUser;
    const password = newPassword();

    const writeFaults = (rules: unknown) => writeFileSync(path.join(dataDir, "faults.json"), typeof rules === "string" ? rules : JSON.stringify(rules));
    const states = (): Record<string, string> => {
        const { alarms } = JSON.parse(readFileSync(path.join(dataDir, "alarms.json"), "utf8"));
        return Object.fromEntries(Object.entries<{ state: string }>(alarms).map(([name, { state }]) => [name.replace(/^notes-monitoring-/, "").replace(/-[a-z0-9]{7}$/, ""), state]));
    };
    const firing = () => Object.entries(states()).filter(([, state]) => state === "ALARM").map(([role]) => role).sort();

    /** Runs `traffic` (two at a time) until `done`, or fails after `timeoutMs`. */
    async function drive(traffic: () => Promise<unknown>, done: () => boolean, timeoutMs: number, what: string): Promise<void> {
        const started = Date.now();
        const loop = async () => {
            while (!done() && Date.now() - started < timeoutMs) await traffic();
        };
        await Promise.all([loop(), loop()]);
        assert.ok(done(), `${what} within ${timeoutMs} ms; alarms firing: ${firing().join(", ") || "none"}\n${cloud.output().split("\n").filter((l) => l.startsWith("[")).slice(-20).join("\n")}`);
    }

    async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
        await drive(() => sleep(100), done, timeoutMs, what);
    }

    /**
     * Injects `rules`, drives `traffic` until exactly `expected` are in ALARM, removes the rules and
     * waits for every alarm to be OK; then checks the console: those alarms, and only those, went
     * OK -> ALARM and back.
     */
    async function scenario(rules: unknown[], traffic: () => Promise<unknown>, expected: string[]): Promise<void> {
        await waitFor(() => firing().length === 0, 60_000, "every alarm OK before the fault");
        const from = cloud.output().length;
        writeFaults(rules);
        await drive(traffic, () => expected.every((role) => firing().includes(role)), 90_000, `${expected.join(" and ")} in ALARM`);
        writeFaults([]);
        await waitFor(() => firing().length === 0, 90_000, "every alarm back to OK once the fault is removed");
        const transitions = cloud
            .output()
            .slice(from)
            .split("\n")
            .map((line) => TRANSITION.exec(line))
            .filter((m): m is RegExpExecArray => m !== null);
        const raised = transitions.filter((m) => m[2] === "OK" && m[3] === "ALARM").map((m) => m[1]);
        const cleared = transitions.filter((m) => m[2] === "ALARM" && m[3] === "OK").map((m) => m[1]);
        assert.deepEqual([...new Set(raised)].sort(), [...expected].sort(), "the alarms that went OK -> ALARM");
        assert.deepEqual([...new Set(cleared)].sort(), [...expected].sort(), "the alarms that went ALARM -> OK");
        for (const m of transitions.filter((t) => t[3] === "ALARM")) assert.match(m[4], /^Threshold Crossed: \d+ out of the last 5 datapoints .* \(minimum 3 datapoints for OK -> ALARM transition\)\.$/);
    }

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-alarms-"));
        cloud = await startLocalCloudProcess(dataDir, ["--alarm-time-scale", "60"]);
        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        const email = `alarms-${Date.now()}@example.com`;
        await client.signUp(email, password);
        await client.confirm(email);
        const idToken = await client.logIn(email, password);
        user = { email, idToken, ...(await client.identityCredentials(idToken)) };
        assert.equal((await client.api(user, "POST", "/notes", { content: "watched" })).status, 201);
    });

    after(async () => {
        await cloud?.stop();
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("evaluates the stack's own 26 alarms and keeps their states in alarms.json", async () => {
        await waitFor(() => Object.keys(states()).length === 26, 10_000, "alarms.json written");
        assert.deepEqual(Object.keys(states()).sort(), ROLES);
        assert.deepEqual(firing(), []);
        assert.equal(JSON.parse(readFileSync(path.join(dataDir, "alarms.json"), "utf8")).timeScale, 60);
    });

    it("DynamoDB throttling: the handlers answer 503, and the API 5xx and table throttle alarms fire, then clear", async () => {
        const statuses = new Set<number>();
        await scenario(
            [{ service: "dynamodb", probability: 1, error: { statusCode: 400, code: "ProvisionedThroughputExceededException" } }],
            async () => {
                const response = await client.api(user, "GET", "/notes");
                statuses.add(response.status);
                if (response.status === 503) assert.ok(response.headers.get("retry-after"), "a 503 carries Retry-After");
            },
            ["api-5xx", "table-throttles"],
        );
        assert.ok(statuses.has(503), `statuses seen: ${[...statuses].join(", ")}`);
        assert.ok(!statuses.has(500), "throttling is answered 503, never 500");
    });

    it("a function that throws: that function's Errors alarm fires (with API 5xx), then clears", async () => {
        const statuses = new Set<number>();
        await scenario(
            [{ service: "lambda", operation: "Invoke", probability: 1, error: { statusCode: 500, code: "Runtime.UnhandledPromiseRejection" } }],
            async () => statuses.add((await client.api(user, "GET", "/notes")).status),
            ["api-5xx", "list-errors"],
        );
        assert.deepEqual([...statuses].filter((s) => s >= 500), [500]);
    });

    it("a throttled function: that function's Throttles alarm fires (with API 5xx), then clears", async () => {
        await scenario(
            [{ service: "lambda", operation: "Invoke", probability: 1, error: { statusCode: 429, code: "TooManyRequestsException" } }],
            async () => assert.equal((await client.api(user, "GET", "/notes")).status, 500),
            ["api-5xx", "list-throttles"],
        );
    });

    it("a function that answers 500: the handler-errors alarm (the log metric filter) fires, while Lambda's Errors stays quiet", async () => {
        const bodies = new Set<string>();
        await scenario(
            [{ service: "dynamodb", operation: "Query", probability: 1, error: { statusCode: 400, code: "ValidationException" } }],
            async () => {
                const response = await client.api(user, "GET", "/notes");
                if (response.status === 500) bodies.add(response.text);
            },
            ["api-5xx", "handler-errors"],
        );
        assert.deepEqual([...bodies].map((b) => JSON.parse(b)), [{ message: "Internal error" }]);
    });

    it("injected latency: the function's duration alarm and the API latency alarm fire, then clear", async () => {
        const inFlight: Promise<unknown>[] = [];
        await scenario(
            // The dev stack's functions time out at 10 s: the duration alarm is at 8 s (80 %).
            [{ service: "lambda", operation: "Invoke", probability: 1, latencyMs: 8500 }],
            async () => {
                inFlight.push(client.api(user, "GET", "/notes").then((r) => assert.equal(r.status, 200)));
                await sleep(250);
            },
            ["api-latency", "list-duration"],
        );
        await Promise.all(inFlight);
    });

    it("Cognito throttling: the sign-in throttle alarm fires, then clears", async () => {
        const errors = new Set<string>();
        await scenario(
            [{ service: "cognito-idp", operation: "InitiateAuth", probability: 1, error: { statusCode: 400, code: "TooManyRequestsException" } }],
            async () => {
                await client.logIn(user.email, password).then(
                    () => errors.add("none"),
                    (error: Error) => errors.add(error.name),
                );
            },
            ["sign-in-throttles"],
        );
        assert.deepEqual([...errors], ["TooManyRequestsException"]);
        assert.ok(await client.logIn(user.email, password), "signs in again once the fault is removed");
    });

    it("reports a bad faults.json on the console, injects nothing and keeps serving", async () => {
        const from = cloud.output().length;
        writeFaults("{ not json");
        assert.equal((await client.api(user, "GET", "/notes")).status, 200);
        writeFaults([{ service: "sqs", probability: 2 }]);
        assert.equal((await client.api(user, "GET", "/notes")).status, 200);
        await client.logIn(user.email, password);
        const printed = cloud.output().slice(from);
        assert.match(printed, /\[faults\] .*faults\.json is not valid JSON .*: no faults injected until it is fixed/);
        assert.match(printed, /\[faults\] .*faults\.json has invalid rules \(rule 0\.service must be one of dynamodb, s3, lambda, cognito-idp, cognito-identity; rule 0\.probability must be between 0 and 1.*\)/);
        writeFaults([]);
    });
});
