import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalCloud } from "../../../tools/local/cloud";

function registration(type: string, inputs: Record<string, any> = {}) {
    const name = type.split(":").pop()!.toLowerCase();
    return {
        type,
        name,
        urn: `urn:pulumi:dev::notes-infra::${type}::${name}`,
        custom: true,
        inputs,
        dependencies: [],
        propertyDependencies: {},
        options: { protect: false, retainOnDelete: false, ignoreChanges: [] },
    };
}

describe("local cloud materializer", () => {
    let dir: string;
    let cloud: LocalCloud;

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "materializer-"));
        cloud = new LocalCloud({ dataDir: dir, print: () => undefined });
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("refuses to start when the program registers a security-relevant type it cannot materialize", async () => {
        for (const type of ["aws:iam/userPolicy:UserPolicy", "aws:apigatewayv2/authorizer:Authorizer", "aws:cognito/resourceServer:ResourceServer", "aws:s3/bucketAclV2:BucketAclV2", "aws:lambda/functionUrl:FunctionUrl"]) {
            await assert.rejects(Promise.resolve(cloud.materialize(registration(type), { id: "x", state: {} })), new RegExp(`cannot materialize ${type.replace(/[/$]/g, "\\$&")}.*refusing to start`));
        }
    });

    it("lists, with its reason, a resource that has no local effect", async () => {
        await cloud.materialize(registration("aws:sqs/queue:Queue"), { id: "t", state: {} });
        await cloud.materialize(registration("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"), { id: "e", state: {} });
        assert.deepEqual(
            cloud.notEmulated.map(({ type, reason }) => [type, reason]),
            [
                ["aws:sqs/queue:Queue", "no local counterpart"],
                ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "no encryption at rest on this machine"],
            ],
        );
    });

    it("refuses integrations the local gateway cannot speak rather than serve them differently", async () => {
        cloud.registry.apis.set("a1", { id: "a1", name: "api", routes: new Map(), integrations: new Map(), stages: new Set() });
        await assert.rejects(
            Promise.resolve(cloud.materialize(registration("aws:apigatewayv2/integration:Integration", { apiId: "a1", integrationType: "AWS_PROXY", integrationUri: "arn:aws:lambda:us-east-1:123456789012:function:f", payloadFormatVersion: "1.0" }), { id: "i1", state: {} })),
            /payload format 2\.0 only/,
        );
        await assert.rejects(Promise.resolve(cloud.materialize(registration("aws:apigatewayv2/api:Api", { protocolType: "WEBSOCKET" }), { id: "w1", state: {} })), /protocolType HTTP only/);
    });

    it("records roles, inline policies and the bucket policy that later decide requests", async () => {
        const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] });
        await cloud.materialize(registration("aws:iam/role:Role", { assumeRolePolicy: "{}" }), { id: "r-1", state: { name: "r-1", arn: "arn:aws:iam::123456789012:role/r-1", uniqueId: "AROAEXAMPLE" } });
        await cloud.materialize(registration("aws:iam/rolePolicy:RolePolicy", { role: "r-1", policy }), { id: "r-1:p", state: { name: "p" } });
        await cloud.materialize(registration("aws:s3/bucketPolicy:BucketPolicy", { bucket: "b", policy }), { id: "b", state: {} });
        assert.deepEqual(cloud.registry.policiesOf("arn:aws:iam::123456789012:role/r-1"), [policy]);
        assert.equal(cloud.registry.bucketPolicies.get("b"), policy);
        assert.equal(cloud.registry.role("r-1")?.uniqueId, "AROAEXAMPLE");
    });
});
