import { strict as assert } from "node:assert";
import { OPTIONAL_STACK_OUTPUT_NAMES, STACK_OUTPUT_NAMES } from "../outputs";
import { ProgramFailure, runProgramIsolated } from "../tools/engine/program";
import { named, ofType, ProgramRun, single, STACKS, stackRun } from "./support/program";

const COMPONENTS: Record<string, string> = {
    "notes:storage:NotesStorage": "notes-storage",
    "notes:api:NotesApi": "notes-api",
    "notes:auth:NotesAuth": "notes-auth",
    "notes:site:NotesSite": "notes-site",
    "notes:monitoring:NotesMonitoring": "notes-monitoring",
    "notes:account:NotesAccount": "notes",
};

for (const stack of STACKS) {
    describe(`the program (${stack} stack)`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await stackRun(stack);
        });

        it("exports exactly the outputs a web client needs, from the resources that hold them", () => {
            assert.deepEqual(Object.keys(run.outputs).sort(), [
                "apiUrl", "bucketName", "identityPoolId", "region", "siteUrl", "tableName", "userPoolClientId", "userPoolId",
            ]);
            assert.deepEqual(run.outputs, {
                region: run.region,
                userPoolId: single(run, "aws:cognito/userPool:UserPool").id,
                userPoolClientId: single(run, "aws:cognito/userPoolClient:UserPoolClient").id,
                identityPoolId: single(run, "aws:cognito/identityPool:IdentityPool").id,
                apiUrl: single(run, "aws:apigatewayv2/stage:Stage").state.invokeUrl,
                bucketName: named(run, "notes-storage-uploads").state.bucket,
                tableName: single(run, "aws:dynamodb/table:Table").state.name,
                siteUrl: `https://${single(run, "aws:cloudfront/distribution:Distribution").state.domainName}/`,
            });
        });

        it("exports its outputs under the names StackOutputs declares, in that order", () => {
            // An optional output (siteUrl, oauth) is left out when the stack has nothing to put in it.
            const optional: readonly string[] = OPTIONAL_STACK_OUTPUT_NAMES;
            assert.deepEqual(Object.keys(run.outputs), STACK_OUTPUT_NAMES.filter((name) => !optional.includes(name) || name in run.outputs));
            assert.ok("siteUrl" in run.outputs && !("oauth" in run.outputs), "siteUrl with the default site: true, no oauth without identityProviders");
        });

        it("builds everything inside the four components, each child named after and parented to its component", () => {
            const components = run.resources.filter((resource) => resource.type.startsWith("notes:"));
            assert.deepEqual(components.map((c) => c.type).sort(), Object.keys(COMPONENTS).sort());
            const aws = run.resources.filter((resource) => resource.custom && !resource.type.startsWith("pulumi:providers:"));
            assert.ok(aws.length > 40, `expected the whole backend, got ${aws.length} resources`);
            for (const resource of aws) {
                const parent = components.find((component) => component.urn === resource.parent);
                assert.ok(parent, `${resource.type} ${resource.name} has no component parent`);
                assert.equal(parent.name, COMPONENTS[parent.type]);
                assert.ok(resource.name.startsWith(`${parent.name}-`), `${resource.name} is not named after ${parent.name}`);
                assert.ok(resource.urn.includes(`::${parent.type}$${resource.type}::`), `${resource.urn} does not encode its parent`);
            }
        });

        it("never gives two resources the same logical or physical name", () => {
            const urns = run.resources.map((resource) => resource.urn);
            assert.equal(new Set(urns).size, urns.length);
            const names = run.resources.map((resource) => resource.name);
            assert.equal(new Set(names).size, names.length, "logical names repeat");
            const physical = run.resources
                .filter((resource) => resource.custom && typeof resource.state.name === "string")
                .map((resource) => `${resource.type}/${resource.state.name}`);
            assert.equal(new Set(physical).size, physical.length, "physical names repeat");
        });

        it("runs every handler on its own function", () => {
            assert.equal(ofType(run, "aws:lambda/function:Function").length, 6);
        });
    });
}

describe("dev and prod stacks", () => {
    let dev: ProgramRun;
    let prod: ProgramRun;
    before(async () => {
        [dev, prod] = await Promise.all([stackRun("dev"), stackRun("prod")]);
    });

    it("differ exactly in the hardened settings prod declares", () => {
        const table = (run: ProgramRun) => single(run, "aws:dynamodb/table:Table");
        const bucket = (run: ProgramRun) => named(run, "notes-storage-uploads");
        const pool = (run: ProgramRun) => single(run, "aws:cognito/userPool:UserPool");
        assert.deepEqual(
            [table(dev).inputs.deletionProtectionEnabled, table(prod).inputs.deletionProtectionEnabled],
            [false, true],
        );
        assert.deepEqual([table(dev).options.retainOnDelete, table(prod).options.retainOnDelete], [false, true]);
        assert.deepEqual([bucket(dev).inputs.forceDestroy, bucket(prod).inputs.forceDestroy], [true, false]);
        assert.deepEqual([bucket(dev).options.retainOnDelete, bucket(prod).options.retainOnDelete], [false, true]);
        assert.deepEqual([pool(dev).inputs.deletionProtection, pool(prod).inputs.deletionProtection], ["INACTIVE", "ACTIVE"]);
        assert.deepEqual(
            [ofType(dev, "aws:s3/bucketVersioning:BucketVersioning").length, ofType(prod, "aws:s3/bucketVersioning:BucketVersioning").length],
            [0, 1],
        );
        const site = (run: ProgramRun) => `https://${single(run, "aws:cloudfront/distribution:Distribution").state.domainName}`;
        assert.deepEqual(single(prod, "aws:apigatewayv2/api:Api").inputs.corsConfiguration.allowOrigins, ["https://notes.example.com", site(prod)]);
        assert.deepEqual(single(dev, "aws:apigatewayv2/api:Api").inputs.corsConfiguration.allowOrigins, ["http://localhost:3000", "http://localhost:5173", site(dev)]);
        assert.deepEqual(
            [single(dev, "aws:apigatewayv2/stage:Stage").inputs.defaultRouteSettings.throttlingBurstLimit,
             single(prod, "aws:apigatewayv2/stage:Stage").inputs.defaultRouteSettings.throttlingBurstLimit],
            [100, 200],
        );
    });

    it("register the same resources, so prod is what dev tested (plus bucket versioning)", () => {
        const shape = (run: ProgramRun) => run.resources.map((r) => `${r.type} ${r.name}`).filter((r) => !r.includes("BucketVersioning")).sort();
        assert.deepEqual(shape(dev), shape(prod).map((line) => line.replace("notes-infra-prod", "notes-infra-dev")));
    });
});

describe("bad stack settings", () => {
    it("stop the program before any resource is created, naming each bad key", async () => {
        await assert.rejects(
            stackRun("dev", {
                "notes-infra:logRetentionDays": "-3",
                "notes-infra:corsAllowedOrigins": JSON.stringify(["notes.example.com"]),
                "notes-infra:throttlingBurstLimit": "0",
            }),
            (error: ProgramFailure) => {
                assert.match(error.message, /notes-infra:logRetentionDays must be one of 1, 3, 5/);
                assert.match(error.message, /notes-infra:corsAllowedOrigins \(item 0\) must be an http\(s\) origin/);
                assert.match(error.message, /notes-infra:throttlingBurstLimit must be at least 1; got 0/);
                // Only the stack itself, which the engine registers before the program runs.
                assert.deepEqual(error.registered, ["pulumi:pulumi:Stack::notes-infra-dev"]);
                return true;
            },
        );
    });

    it("stop the program when two settings contradict each other, naming the key to change, before any resource is created", async () => {
        await assert.rejects(stackRun("prod", { "notes-infra:bucketForceDestroy": "true" }), (error: ProgramFailure) => {
            assert.match(error.message, /notes-infra:bucketForceDestroy must be false when retainOnDelete is true/);
            assert.deepEqual(error.registered, ["pulumi:pulumi:Stack::notes-infra-prod"]);
            return true;
        });
    });

    it("stop the program when the SES identity is in a Region the stack's user pool cannot send from, before any resource is created", async () => {
        await assert.rejects(
            stackRun("prod", {
                "notes-infra:emailSourceArn": "arn:aws:ses:eu-central-1:123456789012:identity/notes.example.com",
                "notes-infra:emailFrom": "no-reply@notes.example.com",
            }),
            (error: ProgramFailure) => {
                assert.match(error.message, /notes-infra:emailSourceArn must name an SES identity in the stack's Region us-east-1/);
                assert.deepEqual(error.registered, ["pulumi:pulumi:Stack::notes-infra-prod"]);
                return true;
            },
        );
    });
});

describe("a stack rename", () => {
    for (const stack of STACKS) {
        it(`changes no input of any ${stack} resource: nothing the program deploys is named after its stack`, async () => {
            const renamed = await runProgramIsolated(stack, {}, `${stack}renamed`);
            const naming = renamed.resources.filter((resource) => JSON.stringify(resource.inputs).includes(`${stack}renamed`));
            assert.deepEqual(naming.map((resource) => `${resource.type} ${resource.name}`), []);
        });
    }
});
