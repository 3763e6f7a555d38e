import { spawnSync } from "node:child_process";
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import * as path from "node:path";
import { bucketHost, parseClientConfig } from "../../web/src/config";
import { localClientConfig, S3_RELAY_PATH } from "../../web/local";
import { bundleWebClient, withConfig, withConfigBlock } from "../../web/build";
import { UsageError, webBuild as runWebBuild } from "../../tools/scripts/web-build";
import { DEPLOYED_STACK_OUTPUTS } from "../support/stack-outputs";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

const STACK_OUTPUTS = DEPLOYED_STACK_OUTPUTS;

function webBuild(args: string[], input?: string) {
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "tools", "scripts", "web-build.ts"), ...args], {
        cwd: REPO_ROOT,
        input,
        encoding: "utf8",
        env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("web client configuration and npm run web:build", function () {
    this.timeout(60_000);
    let dir: string;

    before(() => (dir = mkdtempSync(path.join(tmpdir(), "notes-web-build-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("builds static files configured from pulumi stack output --json, signing in with SRP, without the local relay", () => {
        const outputs = path.join(dir, "stack.json");
        writeFileSync(outputs, JSON.stringify(STACK_OUTPUTS, null, 2));
        const out = path.join(dir, "site");
        const result = webBuild(["--outputs", outputs, "--out", out]);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /built the web client for https:\/\/abc123defg\.execute-api\.us-east-1\.amazonaws\.com\/ \(USER_SRP_AUTH\)/);
        for (const file of ["index.html", "style.css", "app.js", "app.js.map", "config.json"]) assert.ok(existsSync(path.join(out, file)), `${file} missing`);
        assert.ok(!existsSync(path.join(out, "s3-relay-sw.js")), "a deployed client has no S3 relay worker");
        const { tableName, ...client } = STACK_OUTPUTS;
        assert.deepEqual(JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")), { ...client, authFlowType: "USER_SRP_AUTH" });
        const index = readFileSync(path.join(out, "index.html"), "utf8");
        assert.match(index, /<script type="module" src="app\.js"><\/script>/);
        // The page reads its configuration from index.html (never fetched: connect-src has no 'self'); config.json is the same, for other tools.
        const block = /<script type="application\/json" id="config">([^<]*)<\/script>\n<\/head>/.exec(index);
        assert.ok(block, "index.html carries no configuration block at the end of <head>");
        assert.deepEqual(JSON.parse(block[1]), { ...client, authFlowType: "USER_SRP_AUTH" });
        assert.match(index, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src https:\/\/abc123defg\.execute-api\.us-east-1\.amazonaws\.com https:\/\/cognito-idp\.us-east-1\.amazonaws\.com https:\/\/cognito-identity\.us-east-1\.amazonaws\.com https:\/\/notes-storage-uploads-1a2b3c4\.s3\.us-east-1\.amazonaws\.com; /);
        // An inline (empty) icon: browsers would otherwise ask for /favicon.ico, which the site lacks (a 404 on every load).
        assert.match(index, /<link rel="icon" href="data:,">/);
        // The bundle carries no stack setting (those are config.json) and no path of this machine.
        const bundle = readFileSync(path.join(out, "app.js"), "utf8");
        assert.ok(!bundle.includes(STACK_OUTPUTS.userPoolId) && !bundle.includes(STACK_OUTPUTS.bucketName));
        assert.ok(!readFileSync(path.join(out, "app.js.map"), "utf8").includes(REPO_ROOT), "the source map names this machine's paths");
    });

    it("keeps the client's script under 100 KB gzipped, and free of eval and new Function (a strict CSP refuses both)", async () => {
        const files = await bundleWebClient({ serviceWorker: true });
        const app = Buffer.from(files.get("app.js")!);
        const gzipped = gzipSync(app, { level: 9 }).length;
        assert.ok(gzipped < 100 * 1024, `app.js is ${gzipped} bytes gzipped`);
        for (const name of ["app.js", "s3-relay-sw.js"]) {
            assert.doesNotMatch(Buffer.from(files.get(name)!).toString(), /\beval\s*\(|new Function\s*\(/, name);
        }
        // No inline script or handler attribute in the page: everything runs from app.js.
        const index = Buffer.from(files.get("index.html")!).toString();
        assert.deepEqual(index.match(/<script[^>]*>/g), ['<script type="module" src="app.js">']);
        assert.doesNotMatch(index, /\son[a-z]+=|javascript:|style=/i);
    });

    it("escapes the configuration block so that no value can end it or open a comment, and reads every value back", () => {
        const hostile = { ...STACK_OUTPUTS, authFlowType: "USER_SRP_AUTH" as const, userPoolClientId: "</script><script>alert(1)</script><!--&\u2028\u2029>" };
        const html = withConfigBlock('<html><head>\n<meta charset="utf-8">\n</head><body></body></html>', hostile);
        assert.equal(html.match(/<\/script>/g)?.length, 1);
        const text = /<script type="application\/json" id="config">(.*)<\/script>/.exec(html)![1];
        assert.ok(text.includes('"userPoolClientId":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029\\u003e"'), text);
        assert.deepEqual(JSON.parse(text), hostile);
    });

    it("refuses to configure a page it cannot place the configuration in, or one that has it already", () => {
        const config = { ...STACK_OUTPUTS, authFlowType: "USER_SRP_AUTH" as const };
        assert.throws(() => withConfigBlock("<title>t</title>", config), /index\.html must have exactly one <\/head> to put the configuration before it \(found 0\)/);
        const once = withConfigBlock("<head></head>", config);
        assert.throws(() => withConfigBlock(once, config), /index\.html already has an element with id="config"/);
        assert.throws(() => withConfig(new Map([["index.html", Buffer.from('<meta charset="utf-8"><head></head><head></head>')]]), config), /found 2/);
    });

    it("takes --auth-flow for a stack that allows USER_PASSWORD_AUTH", async () => {
        const out = path.join(dir, "password-auth");
        await runWebBuild(["--outputs", "-", "--out", out, "--auth-flow", "USER_PASSWORD_AUTH"], () => JSON.stringify(STACK_OUTPUTS));
        assert.equal(JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")).authFlowType, "USER_PASSWORD_AUTH");
    });

    it("takes the stack's mfa setting from its stack file with --stack, and refuses an unknown stack", async () => {
        const out = path.join(dir, "with-stack");
        await runWebBuild(["--outputs", "-", "--out", out, "--stack", "prod"], () => JSON.stringify(STACK_OUTPUTS));
        assert.equal(JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")).mfa, "optional");
        await assert.rejects(
            runWebBuild(["--outputs", "-", "--out", path.join(dir, "no-stack"), "--stack", "nope"], () => JSON.stringify(STACK_OUTPUTS)),
            (error: unknown) => error instanceof UsageError && /^--stack nope: No stack file Pulumi\.nope\.yaml: stacks are dev, local-oauth, prod/.test(error.message),
        );
    });

    it("reads the outputs from standard input with --outputs -, and exits 2 with a message on bad input", () => {
        const result = webBuild(["--outputs", "-", "--out", path.join(dir, "bad")], JSON.stringify({ region: "us-east-1" }));
        assert.equal(result.status, 2);
        assert.match(result.stderr, /^web:build: invalid client configuration: userPoolId \(a stack output\) is missing/);
    });

    it("says what is wrong with a missing flag, unreadable or incomplete outputs, the local cloud's outputs, or an unknown auth flow", async () => {
        const cases: [string[], string | undefined, RegExp][] = [
            [[], undefined, /--outputs <file> is required/],
            [["--outputs", path.join(dir, "nope.json")], undefined, /cannot read stack outputs from .*nope\.json/],
            [["--outputs", "-"], "[1, 2]", /is not the JSON object `pulumi stack output --json` prints/],
            [["--outputs", "-"], JSON.stringify({ region: "us-east-1" }), /userPoolId \(a stack output\) is missing; userPoolClientId .* bucketName \(a stack output\) is missing/],
            [["--outputs", "-"], JSON.stringify({ ...STACK_OUTPUTS, endpoints: {} }), /the local cloud's outputs; `npm start` serves the client for them/],
            [["--outputs", "-", "--auth-flow", "SRP"], JSON.stringify(STACK_OUTPUTS), /authFlowType must be one of USER_SRP_AUTH, USER_PASSWORD_AUTH, got "SRP"/],
            [["--outputs", "-", "--bogus"], JSON.stringify(STACK_OUTPUTS), /Unknown option '--bogus'/],
        ];
        for (const [args, input, message] of cases) {
            const read = (file: string) => (file === "-" ? input! : readFileSync(file, "utf8"));
            await assert.rejects(runWebBuild([...args, "--out", path.join(dir, "bad")], read), (error: unknown) => error instanceof UsageError && message.test(error.message), args.join(" "));
        }
        assert.ok(!existsSync(path.join(dir, "bad")), "a failed build wrote files");
    });

    it("configures the client npm start serves from the local outputs: USER_SRP_AUTH as on AWS, local Cognito endpoints, the S3 relay", () => {
        const local = {
            ...STACK_OUTPUTS,
            userPoolId: "local_4sTcye24",
            apiUrl: "http://127.0.0.1:37843/",
            endpoints: { cognitoIdp: "http://127.0.0.1:39405", cognitoIdentity: "http://127.0.0.1:35717", s3: "http://127.0.0.1:40117", dynamodb: "http://127.0.0.1:43585" },
        };
        const config = localClientConfig(local);
        assert.deepEqual(config, parseClientConfig(JSON.parse(JSON.stringify(config))), "the local configuration does not survive config.json");
        assert.equal(config.authFlowType, "USER_SRP_AUTH");
        assert.equal(localClientConfig(local, { mfa: "required" }).mfa, "required");
        assert.deepEqual(config.endpoints, { cognitoIdp: "http://127.0.0.1:39405", cognitoIdentity: "http://127.0.0.1:35717" });
        assert.equal(config.s3Relay, S3_RELAY_PATH);
        assert.equal(bucketHost(config), "notes-storage-uploads-1a2b3c4.s3.us-east-1.amazonaws.com");
    });

    it("refuses a config.json with a bad apiUrl, endpoints or relay path, naming each field", () => {
        assert.throws(
            () => parseClientConfig({ ...STACK_OUTPUTS, authFlowType: "USER_SRP_AUTH", apiUrl: "abc", endpoints: { cognitoIdp: 1 }, s3Relay: "relay" }),
            /apiUrl must be an http\(s\) URL, got "abc"; endpoints must have cognitoIdp and cognitoIdentity URLs; s3Relay must be a path like \/s3-relay\/, got "relay"/,
        );
        assert.throws(() => parseClientConfig(null), /must be a JSON object/);
        assert.throws(() => parseClientConfig({ ...STACK_OUTPUTS, authFlowType: "USER_SRP_AUTH", mfa: "sometimes" }), /mfa must be one of off, optional, required, got "sometimes"/);
    });

    it("passes the stack's mfa setting on to the client, and leaves it out when the outputs have none", () => {
        assert.equal(parseClientConfig({ ...STACK_OUTPUTS, authFlowType: "USER_SRP_AUTH", mfa: "required" }).mfa, "required");
        assert.equal("mfa" in parseClientConfig({ ...STACK_OUTPUTS, authFlowType: "USER_SRP_AUTH" }), false);
    });
});
