/**
 * The pack as the Pulumi CLI runs it: `policy/index.ts` started in its own directory, serving the
 * analyzer gRPC protocol; the test plays the engine's part (configure, analyze, analyzeStack).
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";
import { UNKNOWN, urnOf } from "../../policy/evaluate";

// Use the protobuf and gRPC modules @pulumi/pulumi's generated stubs were built against.
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));
const grpc = fromPulumi("@grpc/grpc-js");
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");
const pb = require("@pulumi/pulumi/proto/analyzer_pb");
const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");

const LEVEL_NAMES: Record<number, string> = Object.fromEntries(Object.entries<number>(pb.EnforcementLevel).map(([name, value]) => [value, name.toLowerCase()]));

interface Diagnostic {
    policy: string;
    level: string;
    message: string;
    urn: string;
}

function options(): any {
    return new pb.AnalyzerResourceOptions().setCustomtimeouts(new pb.AnalyzerResourceOptions.CustomTimeouts());
}

describe("the policy pack served to the Pulumi engine", function () {
    this.timeout(30_000);
    let server: ChildProcess;
    let client: any;

    before(async () => {
        server = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], {
            cwd: path.join(REPO_ROOT, "policy"),
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        server.stderr!.on("data", (chunk) => (stderr += chunk));
        const port = await new Promise<string>((resolve, reject) => {
            server.stdout!.once("data", (chunk) => resolve(String(chunk).trim()));
            server.once("exit", (code) => reject(new Error(`the pack exited with ${code}: ${stderr}`)));
        });
        assert.match(port, /^\d+$/);
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        server?.kill();
    });

    const call = (method: string, request: any): Promise<any> =>
        new Promise((resolve, reject) => client[method](request, (error: Error | null, response: any) => (error ? reject(error) : resolve(response))));

    const diagnostics = (response: any): Diagnostic[] =>
        response.getDiagnosticsList().map((d: any) => ({ policy: d.getPolicyname(), level: LEVEL_NAMES[d.getEnforcementlevel()], message: d.getMessage(), urn: d.getUrn() }));

    async function analyze(type: string, name: string, props: Record<string, unknown>): Promise<Diagnostic[]> {
        const request = new pb.AnalyzeRequest().setType(type).setName(name).setUrn(urnOf(type, name)).setProperties(Struct.fromJavaScript(props)).setOptions(options());
        return diagnostics(await call("analyze", request));
    }

    it("describes every policy of the pack with its default enforcement", async () => {
        const info = await call("getAnalyzerInfo", new (fromPulumi("google-protobuf/google/protobuf/empty_pb").Empty)());
        const { policies } = require("../../policy/policies");
        assert.equal(info.getName(), "notes-guardrails");
        assert.deepEqual(
            info.getPoliciesList().map((p: any) => [p.getName(), LEVEL_NAMES[p.getEnforcementlevel()]]),
            policies.map((p: any) => [p.name, ["cloudfront-response-headers-policy", "s3-bucket-policy-service-source", "cognito-client-needed-scopes-only"].includes(p.name) ? "advisory" : "mandatory"]),
        );
    });

    it("passes an AWS_IAM route and blocks a route without auth", async () => {
        assert.deepEqual(await analyze("aws:apigatewayv2/route:Route", "ok", { routeKey: "GET /notes", authorizationType: "AWS_IAM" }), []);
        const [diagnostic, ...rest] = await analyze("aws:apigatewayv2/route:Route", "notes-api-route-list", { routeKey: "GET /notes" });
        assert.deepEqual(rest, []);
        assert.equal(diagnostic.policy, "apigatewayv2-route-iam-auth");
        assert.equal(diagnostic.level, "mandatory");
        assert.match(diagnostic.message, /Route GET \/notes \(notes-api-route-list\) must use AWS_IAM authorization, found NONE\.$/);
    });

    it("reports a value unknown at preview as advisory instead of the engine's generic note", async () => {
        const [diagnostic] = await analyze("aws:s3/bucketPolicy:BucketPolicy", "tls-only", { bucket: "b", policy: UNKNOWN.string });
        assert.equal(diagnostic.level, "advisory");
        assert.match(diagnostic.message, /^Could not check policy of aws:s3\/bucketPolicy:BucketPolicy tls-only at preview: string value at \.policy can't be known during preview/);
    });

    it("runs the stack policy on outputs with property dependencies", async () => {
        const bucket = new pb.AnalyzerResource()
            .setType("aws:s3/bucket:Bucket")
            .setName("naked")
            .setUrn(urnOf("aws:s3/bucket:Bucket", "naked"))
            .setProperties(Struct.fromJavaScript({ bucket: "naked-1234567" }))
            .setOptions(options());
        const [diagnostic] = diagnostics(await call("analyzeStack", new pb.AnalyzeStackRequest().setResourcesList([bucket])));
        assert.equal(diagnostic.policy, "s3-bucket-has-public-access-block");
        assert.equal(diagnostic.urn, urnOf("aws:s3/bucket:Bucket", "naked"));
        assert.equal(diagnostic.level, "mandatory");
    });

    it("takes config from the engine: failOnUnknown makes an unknown fail closed", async () => {
        const request = new pb.ConfigureAnalyzerRequest();
        request
            .getPolicyconfigMap()
            .set("s3-no-public-bucket-policy", new pb.PolicyConfig().setEnforcementlevel(pb.EnforcementLevel.MANDATORY).setProperties(Struct.fromJavaScript({ failOnUnknown: true })));
        await call("configure", request);
        const [diagnostic] = await analyze("aws:s3/bucketPolicy:BucketPolicy", "tls-only", { bucket: "b", policy: UNKNOWN.string });
        assert.equal(diagnostic.level, "mandatory");
        assert.match(diagnostic.message, /fails closed/);
    });
});
