/**
 * One describe per row of policy/README.md's "S3 public, as AWS defines it" table: each AWS
 * sentence the pack implements, with the cases that decide it (the missed cases and false
 * positives among them). The last test ties the table, `AWS_RULES` and these blocks together.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";
import { runResourcePolicy, runStackPolicy } from "../../policy/evaluate";
import { AWS_RULES, badActionsGranted, BAD_ACTIONS, PUBLIC_CANNED_ACLS, publicGroup, publicStatements, RuleId } from "../../policy/public";
import { noPublicAccessPointPolicy, noPublicAcl, publicAccessBlockFlags } from "../../policy/storage";

const covered = new Set<string>();
function rule(id: RuleId, body: () => void): void {
    covered.add(id);
    describe(`AWS rule ${id}`, body);
}

type Statement = Record<string, any>;
const document = (...statements: Statement[]) => ({
    Version: "2012-10-17",
    Statement: statements.map((statement) => ({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::notes-bucket/*", ...statement })),
});
const problems = (statement: Statement, kind: "bucket" | "access-point" = "bucket") => publicStatements(document(statement), { kind });
const isPublic = (statement: Statement, kind: "bucket" | "access-point" = "bucket") => problems(statement, kind).length > 0;
/** An Allow to everyone limited by one condition. */
const everyoneIf = (condition: Record<string, Record<string, unknown>>): Statement => ({ Principal: "*", Condition: condition });

const AP = "aws:s3/accessPoint:AccessPoint";
const AP_POLICY = "aws:s3control/accessPointPolicy:AccessPointPolicy";
const MRAP = "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint";
const OBJECT_COPY = "aws:s3/objectCopy:ObjectCopy";
const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

rule("public-acl-grantee", () => {
    it("calls grants to AllUsers and AuthenticatedUsers public, however the URI is spelled", () => {
        assert.equal(publicGroup(ALL_USERS), "AllUsers");
        assert.equal(publicGroup("https://acs.amazonaws.com/groups/global/authenticatedusers"), "AuthenticatedUsers");
        assert.equal(publicGroup("http://acs.amazonaws.com/groups/s3/LogDelivery"), undefined);
    });

    it("treats the canned ACLs that grant to those groups as public, and no other", () => {
        assert.deepEqual([...PUBLIC_CANNED_ACLS].sort(), ["authenticated-read", "public-read", "public-read-write"]);
    });

    it("flags an ObjectCopy whose ACL or grants give AllUsers access (the issue's missed case)", async () => {
        const canned = await runResourcePolicy(noPublicAcl, OBJECT_COPY, { bucket: "b", key: "k", source: "src/k", acl: "public-read" }, { name: "copy" });
        assert.deepEqual(canned.reported.map((r) => r.message), ['Object copy copy must not use the public canned ACL "public-read"; use "private" (or none, with BucketOwnerEnforced ownership).']);
        const grants = [{ type: "Group", uri: ALL_USERS, permissions: ["READ"] }];
        const granted = await runResourcePolicy(noPublicAcl, OBJECT_COPY, { bucket: "b", key: "k", source: "src/k", grants }, { name: "copy" });
        assert.deepEqual(granted.reported.map((r) => r.message), ["Object copy copy must not grant READ to the AllUsers group."]);
        const owner = [{ type: "CanonicalUser", id: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", permissions: ["FULL_CONTROL"] }];
        assert.deepEqual((await runResourcePolicy(noPublicAcl, OBJECT_COPY, { bucket: "b", key: "k", source: "src/k", grants: owner })).reported, []);
    });
});

rule("public-unless-fixed", () => {
    for (const principal of ["*", { AWS: "*" }, { CanonicalUser: "*" }, { AWS: ["arn:aws:iam::123456789012:root", "*"] }]) {
        it(`calls an Allow to ${JSON.stringify(principal)} without a condition public`, () => {
            assert.equal(isPublic({ Principal: principal }), true);
        });
    }

    it("never calls a Deny public", () => {
        assert.equal(isPublic({ Effect: "Deny", Principal: "*" }), false);
    });
});

rule("fixed-principal", () => {
    for (const principal of [
        { AWS: "arn:aws:iam::123456789012:root" },
        { AWS: "123456789012" },
        { AWS: ["arn:aws:iam::123456789012:role/reader", "arn:aws:iam::210987654321:root"] },
        { Service: "cloudfront.amazonaws.com" },
        { CanonicalUser: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be" },
    ]) {
        it(`calls a grant to the fixed principal ${JSON.stringify(principal)} non-public`, () => {
            assert.equal(isPublic({ Principal: principal }), false);
        });
    }

    it("calls a principal ARN with a wildcard public", () => {
        assert.equal(isPublic({ Principal: { AWS: "arn:aws:iam::*:root" } }), true);
    });

    it("accepts a fixed aws:PrincipalOrgID, aws:PrincipalAccount or aws:PrincipalArn on an Allow to everyone", () => {
        for (const [key, value] of [
            ["aws:PrincipalOrgID", "o-a1b2c3d4e5"],
            ["aws:PrincipalAccount", "123456789012"],
            ["aws:PrincipalArn", "arn:aws:iam::123456789012:role/reader"],
        ]) {
            assert.equal(isPublic(everyoneIf({ StringEquals: { [key]: value } })), false, key);
        }
    });
});

rule("federated-principal", () => {
    it("calls AWS's own example, a Federated graph.facebook.com principal, public (the issue's missed case)", () => {
        const example = { Principal: { Federated: "graph.facebook.com" }, Resource: "*", Action: "s3:PutObject", Effect: "Allow" };
        assert.deepEqual(publicStatements({ Statement: [example] }).length, 1);
        assert.match(publicStatements({ Statement: [example] })[0], /allows Federated principal "graph\.facebook\.com"/);
    });

    it("calls any Federated principal public, Cognito and SAML providers included", () => {
        assert.equal(isPublic({ Principal: { Federated: "cognito-identity.amazonaws.com" } }), true);
        assert.equal(isPublic({ Principal: { Federated: "arn:aws:iam::123456789012:saml-provider/corp" } }), true);
    });

    it("calls it non-public when a condition fixes one of AWS's keys", () => {
        assert.equal(isPublic({ Principal: { Federated: "graph.facebook.com" }, Condition: { StringEquals: { "aws:SourceVpce": "vpce-1a2b3c4d" } } }), false);
    });
});

rule("not-principal", () => {
    it("calls an Allow with NotPrincipal public, whatever its conditions", () => {
        const statement = { NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" }, Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } };
        assert.match(problems(statement)[0], /allows everyone except NotPrincipal/);
    });

    it("leaves a Deny with NotPrincipal alone", () => {
        assert.equal(isPublic({ Effect: "Deny", NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" } }), false);
    });
});

rule("no-wildcard", () => {
    it("calls AWS's example aws:SourceVpc vpc-* public and its fixed counterpart non-public", () => {
        assert.equal(isPublic(everyoneIf({ StringLike: { "aws:SourceVpc": "vpc-*" } })), true);
        assert.equal(isPublic(everyoneIf({ StringEquals: { "aws:SourceVpc": "vpc-91237329" } })), false);
    });

    it("treats ? as a wildcard too, and one open value among fixed ones as open", () => {
        assert.equal(isPublic(everyoneIf({ StringLike: { "aws:SourceAccount": "12345678901?" } })), true);
        assert.equal(isPublic(everyoneIf({ StringEquals: { "aws:SourceAccount": ["123456789012", "*"] } })), true);
    });
});

rule("no-policy-variable", () => {
    it("calls a condition value with a policy variable public (the issue's missed case)", () => {
        assert.equal(isPublic(everyoneIf({ StringEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" } })), true);
        assert.equal(isPublic(everyoneIf({ ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/${aws:username}" } })), true);
    });

    it("calls a principal with a policy variable public", () => {
        assert.equal(isPublic({ Principal: { AWS: "arn:aws:iam::${aws:PrincipalAccount}:root" } }), true);
    });
});

rule("fixed-condition-keys", () => {
    const fixed: [string, string, string][] = [
        ["ArnEquals", "aws:SourceArn", "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"],
        ["StringEquals", "aws:SourceVpc", "vpc-91237329"],
        ["StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"],
        ["StringEquals", "aws:SourceOwner", "123456789012"],
        ["StringEquals", "aws:SourceAccount", "123456789012"],
        ["StringEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        ["StringEqualsIgnoreCase", "aws:SourceVpc", "VPC-91237329"],
        ["ForAnyValue:StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"],
    ];
    for (const [operator, key, value] of fixed) {
        it(`calls an Allow to everyone with ${operator} ${key} fixed non-public`, () => {
            assert.equal(isPublic(everyoneIf({ [operator]: { [key]: value } })), false);
        });
    }

    it("does not accept keys AWS does not list", () => {
        assert.equal(isPublic(everyoneIf({ Bool: { "aws:SecureTransport": "true" } })), true);
        assert.equal(isPublic(everyoneIf({ StringEquals: { "aws:Referer": "https://notes.example.com" } })), true);
    });

    it("does not accept operators that admit values outside the list", () => {
        for (const operator of ["StringNotEquals", "StringEqualsIfExists", "ForAllValues:StringEquals", "ArnNotLike", "Null"]) {
            assert.equal(isPublic(everyoneIf({ [operator]: { "aws:SourceAccount": "123456789012" } })), true, operator);
        }
    });
});

rule("source-ip-breadth", () => {
    for (const cidr of ["203.0.113.0/24", "10.0.0.0/8", "203.0.113.7", "2001:db8::/32", "2001:db8:1234::/48"]) {
        it(`calls aws:SourceIp ${cidr} non-public`, () => {
            assert.equal(isPublic(everyoneIf({ IpAddress: { "aws:SourceIp": cidr } })), false);
        });
    }
    for (const cidr of ["0.0.0.0/1", "0.0.0.0/0", "11.0.0.0/7", "2001:db8::/31", "::/0", "not-an-ip/24", "10.0.0.0/33"]) {
        it(`calls aws:SourceIp ${cidr} public (broader than /8 or /32, or not a CIDR; the issue's missed case)`, () => {
            assert.equal(isPublic(everyoneIf({ IpAddress: { "aws:SourceIp": cidr } })), true);
        });
    }

    it("calls a list with one broad range public, and NotIpAddress public", () => {
        assert.equal(isPublic(everyoneIf({ IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/4"] } })), true);
        assert.equal(isPublic(everyoneIf({ NotIpAddress: { "aws:SourceIp": "203.0.113.0/24" } })), true);
    });
});

rule("userid-role-pattern", () => {
    it("calls aws:userid AROA…:* (any session of one role) non-public (the issue's false positive)", () => {
        assert.equal(isPublic(everyoneIf({ StringLike: { "aws:userid": "AROAEXAMPLEID1234567:*" } })), false);
        assert.equal(isPublic(everyoneIf({ StringEquals: { "aws:userid": "AIDAEXAMPLEUSERID123" } })), false);
    });

    it("calls other wildcards in aws:userid public", () => {
        for (const value of ["AROA*:*", "*", "*:session", "AROAEXAMPLEID1234567:${aws:username}"]) {
            assert.equal(isPublic(everyoneIf({ StringLike: { "aws:userid": value } })), true, value);
        }
    });
});

rule("data-access-point-arn", () => {
    it("calls …:accesspoint/* of a fixed account non-public in a bucket policy (the issue's false positive)", () => {
        assert.equal(isPublic(everyoneIf({ StringLike: { "s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*" } })), false);
        assert.equal(isPublic(everyoneIf({ StringEquals: { "s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/reports" } })), false);
    });

    it("calls a wildcard outside the access point name public", () => {
        for (const arn of ["arn:aws:s3:us-west-2:*:accesspoint/*", "arn:aws:s3:*:123456789012:accesspoint/*", "*", "arn:aws:s3:us-west-2:123456789012:*"]) {
            assert.equal(isPublic(everyoneIf({ StringLike: { "s3:DataAccessPointArn": arn } })), true, arn);
        }
    });
});

rule("data-access-point-account", () => {
    it("calls a fixed s3:DataAccessPointAccount non-public and a wildcard one public", () => {
        assert.equal(isPublic(everyoneIf({ StringEquals: { "s3:DataAccessPointAccount": "123456789012" } })), false);
        assert.equal(isPublic(everyoneIf({ StringLike: { "s3:DataAccessPointAccount": "*" } })), true);
    });
});

rule("one-public-statement", () => {
    it("calls AWS's three-statement example public because of the third statement only", () => {
        const found = publicStatements(
            document(
                { Sid: "CloudTrail", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "s3:PutObject" },
                { Sid: "Account2", Principal: { AWS: "arn:aws:iam::210987654321:root" } },
                { Sid: "Everyone", Principal: "*" },
            ),
        );
        assert.equal(found.length, 1);
        assert.match(found[0], /^statement 3, Sid Everyone allows principal "\*"/);
    });
});

rule("bad-actions", () => {
    it("lists AWS's bad actions and matches them with star notation", () => {
        assert.deepEqual([...BAD_ACTIONS], ["s3:Get*", "s3:List*", "s3:AbortMultipartUpload", "s3:Delete*", "s3:Put*", "s3:RestoreObject"]);
        assert.deepEqual(badActionsGranted({ Action: "s3:GetObjectAcl" }), ["s3:Get*"]);
        assert.deepEqual(badActionsGranted({ Action: ["s3:G*", "s3:restoreobject"] }), ["s3:Get*", "s3:RestoreObject"]);
        assert.deepEqual(badActionsGranted({ Action: "s3:*" }), [...BAD_ACTIONS]);
        assert.deepEqual(badActionsGranted({ Action: "*" }), [...BAD_ACTIONS]);
        assert.deepEqual(badActionsGranted({ Action: "s3:ReplicateObject" }), []);
    });

    it("counts what a NotAction leaves granted", () => {
        assert.deepEqual(badActionsGranted({ NotAction: ["s3:Get*", "s3:List*"] }), ["s3:AbortMultipartUpload", "s3:Delete*", "s3:Put*", "s3:RestoreObject"]);
        assert.deepEqual(badActionsGranted({ NotAction: "s3:*" }), []);
    });

    it("names the bad actions a public statement grants", () => {
        assert.match(problems({ Principal: "*", Action: ["s3:GetObject", "s3:PutObject"] })[0], /which includes the bad actions s3:Get\*, s3:Put\*/);
    });
});

rule("any-action", () => {
    it("calls a public grant of actions that are not bad actions public all the same", () => {
        const [problem] = problems({ Principal: "*", Action: "s3:ReplicateObject" });
        assert.match(problem, /to "s3:ReplicateObject" \(no bad action, but a public grant is public whatever its actions\)/);
    });
});

/** An access point (outputs), optionally VPC-only, with an inline policy. */
const accessPoint = (name: string, policy: object | undefined, vpcId?: string) => ({
    type: AP,
    name,
    props: {
        bucket: "notes-bucket",
        arn: `arn:aws:s3:us-east-1:123456789012:accesspoint/${name}`,
        ...(policy ? { policy: JSON.stringify(policy) } : {}),
        ...(vpcId ? { vpcConfiguration: { vpcId } } : {}),
    },
});
const openToEveryone = document({ Principal: "*", Resource: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/*" });

rule("access-point-vpc-origin", () => {
    it("calls an access point policy open to everyone public on an Internet access point", async () => {
        const { reported } = await runStackPolicy(noPublicAccessPointPolicy, [accessPoint("ap", openToEveryone)]);
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /^The policy of access point ap must not be public: statement 1 allows principal "\*"/);
    });

    it("calls the same policy non-public on an access point with a VPC network origin, inline or attached", async () => {
        assert.deepEqual((await runStackPolicy(noPublicAccessPointPolicy, [accessPoint("ap", openToEveryone, "vpc-1a2b3c4d")])).reported, []);
        const attached = await runStackPolicy(noPublicAccessPointPolicy, [
            accessPoint("ap", undefined, "vpc-1a2b3c4d"),
            { type: AP_POLICY, name: "ap-policy", props: { accessPointArn: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap", policy: JSON.stringify(openToEveryone) }, propertyDependencies: { accessPointArn: ["ap"] } },
        ]);
        assert.deepEqual(attached.reported, []);
    });
});

rule("access-point-data-access-point-arn", () => {
    it("calls a set of access points through s3:DataAccessPointArn public in an access point policy only", () => {
        const statement = everyoneIf({ StringLike: { "s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*" } });
        assert.equal(isPublic(statement, "access-point"), true);
        assert.equal(isPublic(statement, "bucket"), false);
        assert.equal(isPublic(everyoneIf({ StringEquals: { "s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/reports" } }), "access-point"), false);
    });
});

rule("all-four-settings", () => {
    it("flags an access point whose own public access block is off (the issue's missed case)", async () => {
        const props = { bucket: "b", publicAccessBlockConfiguration: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false } };
        const { reported } = await runResourcePolicy(publicAccessBlockFlags, AP, props, { name: "reports-ap" });
        assert.deepEqual(reported.map((r) => r.message), [
            "Access point reports-ap must keep blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets true in publicAccessBlockConfiguration; found blockPublicPolicy false, restrictPublicBuckets false.",
        ]);
    });
});

rule("access-point-defaults", () => {
    it("passes an access point that leaves the block, or a flag, to AWS's default", async () => {
        assert.deepEqual((await runResourcePolicy(publicAccessBlockFlags, AP, { bucket: "b" })).reported, []);
        assert.deepEqual((await runResourcePolicy(publicAccessBlockFlags, AP, { bucket: "b", publicAccessBlockConfiguration: { blockPublicAcls: true } })).reported, []);
    });
});

rule("multi-region-access-point-defaults", () => {
    const details = (publicAccessBlock?: object) => ({ details: { name: "global", regions: [{ bucket: "b" }], ...(publicAccessBlock ? { publicAccessBlock } : {}) } });

    it("passes a Multi-Region Access Point with the default block and flags one with a setting off", async () => {
        assert.deepEqual((await runResourcePolicy(publicAccessBlockFlags, MRAP, details())).reported, []);
        const { reported } = await runResourcePolicy(publicAccessBlockFlags, MRAP, details({ ignorePublicAcls: false }), { name: "global" });
        assert.match(reported[0].message, /^Multi-Region Access Point global must keep .* in details\.publicAccessBlock; found ignorePublicAcls false\.$/);
    });
});

describe("the AWS source table in policy/README.md", () => {
    it("has one row per rule, quoting the sentence the code cites, and every row has a test above", () => {
        const readme = readFileSync(path.join(REPO_ROOT, "policy", "README.md"), "utf8");
        const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \|(.*)\|\s*$/gm)].filter(([, id]) => id in AWS_RULES);
        assert.deepEqual(rows.map(([, id]) => id).sort(), Object.keys(AWS_RULES).sort());
        for (const [, id, cells] of rows) {
            // Markdown escapes (\* \| \_) keep the table rendering; the quote itself is exact.
            const rest = cells.replace(/\\([*|_`])/g, "$1");
            assert.ok(rest.includes(AWS_RULES[id as RuleId].sentence), `the row for ${id} quotes AWS's sentence`);
            assert.ok(rest.includes(AWS_RULES[id as RuleId].source), `the row for ${id} links its source`);
        }
        assert.deepEqual([...covered].sort(), Object.keys(AWS_RULES).sort());
    });
});
