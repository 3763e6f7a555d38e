/**
 * The offline answer to `aws.iam.getPolicyDocument` against the provider's own documented outputs
 * (terraform-provider-aws, website/docs/d/iam_policy_document.html.markdown, which @pulumi/aws
 * carries in its doc comments without the JSON). Two differences from the page, on purpose: the
 * page still shows `"Sid": ""`, which the provider stopped writing when its model gained
 * `omitempty` on Sid (policy_model.go); and its last example misspells two Sids and ends with a
 * trailing comma. The expected documents below are the page's with those fixed.
 */
import { strict as assert } from "node:assert";
import { PolicyDocumentError, renderPolicyDocument } from "../../../tools/engine/policy-document";

const render = (inputs: Parameters<typeof renderPolicyDocument>[0]) => renderPolicyDocument(inputs).json;

describe("getPolicyDocument rendered as the provider renders it", () => {
    it("renders the documented multiple-condition-keys example", () => {
        const json = render({
            statements: [
                {
                    actions: ["kms:Decrypt", "kms:GenerateDataKey"],
                    resources: ["*"],
                    conditions: [
                        { test: "ForAnyValue:StringEquals", variable: "kms:EncryptionContext:service", values: ["pi"] },
                        { test: "ForAnyValue:StringEquals", variable: "kms:EncryptionContext:aws:pi:service", values: ["rds"] },
                    ],
                },
            ],
        });
        assert.equal(
            json,
            `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "kms:GenerateDataKey",
        "kms:Decrypt"
      ],
      "Resource": "*",
      "Condition": {
        "ForAnyValue:StringEquals": {
          "kms:EncryptionContext:aws:pi:service": "rds",
          "kms:EncryptionContext:service": "pi"
        }
      }
    }
  ]
}`,
        );
    });

    const source = () => render({ statements: [{ actions: ["ec2:*"], resources: ["*"] }, { sid: "SidToOverride", actions: ["s3:*"], resources: ["*"] }] });

    it("renders the documented source-document example: the own statement replaces the source's with its Sid", () => {
        const json = render({
            sourcePolicyDocuments: [source()],
            statements: [{ sid: "SidToOverride", actions: ["s3:*"], resources: ["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"] }],
        });
        assert.deepEqual(JSON.parse(json), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: "ec2:*", Resource: "*" },
                { Sid: "SidToOverride", Effect: "Allow", Action: "s3:*", Resource: ["arn:aws:s3:::somebucket/*", "arn:aws:s3:::somebucket"] },
            ],
        });
        assert.equal(
            json.split("\n").slice(0, 9).join("\n"),
            `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ec2:*",
      "Resource": "*"
    },
    {`,
        );
    });

    it("renders the documented override-document example: the override replaces the own statement", () => {
        const override = render({ statements: [{ sid: "SidToOverride", actions: ["s3:*"], resources: ["*"] }] });
        const json = render({
            overridePolicyDocuments: [override],
            statements: [
                { actions: ["ec2:*"], resources: ["*"] },
                { sid: "SidToOverride", actions: ["s3:*"], resources: ["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"] },
            ],
        });
        assert.deepEqual(JSON.parse(json), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: "ec2:*", Resource: "*" },
                { Sid: "SidToOverride", Effect: "Allow", Action: "s3:*", Resource: "*" },
            ],
        });
    });

    it("renders the documented source-and-override example", () => {
        const src = render({ statements: [{ sid: "OverridePlaceholder", actions: ["ec2:DescribeAccountAttributes"], resources: ["*"] }] });
        const override = render({ statements: [{ sid: "OverridePlaceholder", actions: ["s3:GetObject"], resources: ["*"] }] });
        assert.equal(
            render({ sourcePolicyDocuments: [src], overridePolicyDocuments: [override] }),
            `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "OverridePlaceholder",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "*"
    }
  ]
}`,
        );
    });

    it("renders the documented merging-source-documents example in order", () => {
        const one = render({ statements: [{ actions: ["ec2:*"], resources: ["*"] }, { sid: "UniqueSidOne", actions: ["s3:*"], resources: ["*"] }] });
        const two = render({ statements: [{ sid: "UniqueSidTwo", actions: ["iam:*"], resources: ["*"] }, { actions: ["lambda:*"], resources: ["*"] }] });
        assert.deepEqual(JSON.parse(render({ sourcePolicyDocuments: [one, two] })), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: "ec2:*", Resource: "*" },
                { Sid: "UniqueSidOne", Effect: "Allow", Action: "s3:*", Resource: "*" },
                { Sid: "UniqueSidTwo", Effect: "Allow", Action: "iam:*", Resource: "*" },
                { Effect: "Allow", Action: "lambda:*", Resource: "*" },
            ],
        });
    });

    it("renders the documented merging-override-documents example: later documents replace by Sid in place", () => {
        const one = render({ statements: [{ sid: "OverridePlaceHolderOne", effect: "Allow", actions: ["s3:*"], resources: ["*"] }] });
        const two = render({ statements: [{ effect: "Allow", actions: ["ec2:*"], resources: ["*"] }, { sid: "OverridePlaceHolderTwo", effect: "Allow", actions: ["iam:*"], resources: ["*"] }] });
        const three = render({ statements: [{ sid: "OverridePlaceHolderOne", effect: "Deny", actions: ["logs:*"], resources: ["*"] }] });
        const json = render({ overridePolicyDocuments: [one, two, three], statements: [{ sid: "OverridePlaceHolderTwo", effect: "Deny", actions: ["*"], resources: ["*"] }] });
        assert.deepEqual(JSON.parse(json), {
            Version: "2012-10-17",
            Statement: [
                { Sid: "OverridePlaceHolderTwo", Effect: "Allow", Action: "iam:*", Resource: "*" },
                { Sid: "OverridePlaceHolderOne", Effect: "Deny", Action: "logs:*", Resource: "*" },
                { Effect: "Allow", Action: "ec2:*", Resource: "*" },
            ],
        });
    });

    it("renders the documented basic example: &{...} becomes ${...}, condition values keep their order", () => {
        const doc = JSON.parse(
            render({
                statements: [
                    { sid: "1", actions: ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], resources: ["arn:aws:s3:::*"] },
                    { actions: ["s3:ListBucket"], resources: ["arn:aws:s3:::notes"], conditions: [{ test: "StringLike", variable: "s3:prefix", values: ["", "home/", "home/&{aws:username}/"] }] },
                    { actions: ["s3:*"], resources: ["arn:aws:s3:::notes/home/&{aws:username}", "arn:aws:s3:::notes/home/&{aws:username}/*"] },
                ],
            }),
        );
        assert.deepEqual(doc.Statement, [
            { Sid: "1", Effect: "Allow", Action: ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], Resource: "arn:aws:s3:::*" },
            { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::notes", Condition: { StringLike: { "s3:prefix": ["", "home/", "home/${aws:username}/"] } } },
            { Effect: "Allow", Action: "s3:*", Resource: ["arn:aws:s3:::notes/home/${aws:username}/*", "arn:aws:s3:::notes/home/${aws:username}"] },
        ]);
    });

    it("renders the documented multiple-principals example: one object, types sorted, identifiers reverse-sorted", () => {
        const doc = JSON.parse(
            render({
                statements: [
                    {
                        actions: ["sts:AssumeRole"],
                        principals: [
                            { type: "Service", identifiers: ["firehose.amazonaws.com"] },
                            { type: "AWS", identifiers: ["arn:aws:iam::123456789012:role/trusted"] },
                            { type: "Federated", identifiers: ["arn:aws:iam::123456789012:saml-provider/corp", "cognito-identity.amazonaws.com"] },
                        ],
                    },
                ],
            }),
        );
        assert.deepEqual(doc.Statement[0].Principal, {
            AWS: "arn:aws:iam::123456789012:role/trusted",
            Federated: ["cognito-identity.amazonaws.com", "arn:aws:iam::123456789012:saml-provider/corp"],
            Service: "firehose.amazonaws.com",
        });
        assert.deepEqual(Object.keys(doc.Statement[0].Principal), ["AWS", "Federated", "Service"]);
    });

    it('renders type "*" with identifier "*" as "*", and type AWS with "*" as {"AWS": "*"}, as the provider\'s principals note says', () => {
        const star = JSON.parse(render({ statements: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"], principals: [{ type: "*", identifiers: ["*"] }] }] }));
        assert.equal(star.Statement[0].Principal, "*");
        const aws = JSON.parse(render({ statements: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"], principals: [{ type: "AWS", identifiers: ["*"] }] }] }));
        assert.deepEqual(aws.Statement[0].Principal, { AWS: "*" });
    });

    it("treats actions, resources, identifiers and principal blocks as sets: a repeat counts once", () => {
        const doc = JSON.parse(
            render({
                statements: [
                    {
                        actions: ["s3:GetObject", "s3:GetObject"],
                        resources: ["arn:aws:s3:::b/*", "arn:aws:s3:::b/*"],
                        principals: [
                            { type: "AWS", identifiers: ["arn:aws:iam::123456789012:root"] },
                            { type: "AWS", identifiers: ["arn:aws:iam::123456789012:root"] },
                        ],
                    },
                ],
            }),
        );
        assert.deepEqual(doc.Statement[0], { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Principal: { AWS: "arn:aws:iam::123456789012:root" } });
    });

    it("renders NotAction, NotResource and NotPrincipal in the provider's key order", () => {
        const json = render({
            statements: [{ sid: "DenyOthers", effect: "Deny", notActions: ["s3:GetObject"], notResources: ["arn:aws:s3:::b/*"], notPrincipals: [{ type: "AWS", identifiers: ["arn:aws:iam::123456789012:root"] }] }],
        });
        assert.deepEqual(Object.keys(JSON.parse(json).Statement[0]), ["Sid", "Effect", "NotAction", "NotResource", "NotPrincipal"]);
        assert.equal(
            JSON.parse(json).Statement[0].NotPrincipal.AWS,
            "arn:aws:iam::123456789012:root",
        );
    });

    it("answers a compact minifiedJson, an Id from policyId, and Go's escaping of < > &", () => {
        const result = renderPolicyDocument({ policyId: "p1", statements: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/a&b<c>"] }] });
        assert.equal(result.minifiedJson, '{"Version":"2012-10-17","Id":"p1","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a\\u0026b\\u003cc\\u003e"}]}');
        assert.equal(JSON.parse(result.json).Statement[0].Resource, "arn:aws:s3:::b/a&b<c>");
        assert.match(result.id, /^\d+$/);
    });

    it("refuses what the provider refuses: a repeated Sid, a Sid repeated across source documents, a bad effect or version", () => {
        assert.throws(() => render({ statements: [{ sid: "A", actions: ["s3:*"] }, { sid: "A", actions: ["ec2:*"] }] }), (e: Error) => e instanceof PolicyDocumentError && /duplicate Sid \(A\)/.test(e.message));
        const withA = render({ statements: [{ sid: "A", actions: ["s3:*"] }] });
        assert.throws(() => render({ sourcePolicyDocuments: [withA, withA] }), /merging source document 1: duplicate Sid \(A\) in source_policy_documents \(statement 0\)/);
        assert.throws(() => render({ statements: [{ effect: "Maybe", actions: ["s3:*"] }] }), /expected to be one of \["Allow" "Deny"\], got Maybe/);
        assert.throws(() => render({ version: "2020-01-01" }), /version: expected to be one of/);
        assert.throws(() => render({ version: "2008-10-17", statements: [{ resources: ["arn:aws:s3:::b/&{aws:username}"] }] }), /not supported in document version 2008-10-17/);
    });

    it('reads a source document\'s "Principal": "*" back as "*" and its string conditions as given', () => {
        const text = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Public", Effect: "Allow", Principal: "*", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "*", Condition: { Bool: { "aws:SecureTransport": true } } }] });
        assert.deepEqual(JSON.parse(render({ sourcePolicyDocuments: [text] })).Statement, [
            { Sid: "Public", Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "*", Principal: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } },
        ]);
    });
});
