import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findAnswer, InvokeAnswersError, pureInvoke, readInvokeAnswers } from "../../../tools/engine/invokes";

const GET_AMI = "aws:ec2/getAmi:getAmi";

function answersFile(content: unknown): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "answers-")), "answers.json");
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
}

describe("invoke answers (--invoke-answers)", () => {
    const answers = readInvokeAnswers(
        answersFile({
            [GET_AMI]: [
                { inputs: { mostRecent: true, owners: ["amazon"] }, outputs: { id: "ami-amazon" } },
                { inputs: { mostRecent: true, owners: ["self"] }, outputs: { id: "ami-self" } },
                { outputs: { id: "ami-any" } },
            ],
            "aws:ec2/getVpc:getVpc": { outputs: { id: "vpc-1" } },
        }),
    );

    it("answers the call whose inputs equal an answer's inputs, whatever the key order", () => {
        assert.deepEqual(findAnswer(answers, GET_AMI, { owners: ["self"], mostRecent: true }), { id: "ami-self" });
        assert.deepEqual(findAnswer(answers, GET_AMI, { mostRecent: true, owners: ["amazon"] }), { id: "ami-amazon" });
    });

    it("falls back to an answer without inputs, and a single answer may stand without a list", () => {
        assert.deepEqual(findAnswer(answers, GET_AMI, { owners: ["aws-marketplace"] }), { id: "ami-any" });
        assert.deepEqual(findAnswer(answers, "aws:ec2/getVpc:getVpc", { default: true }), { id: "vpc-1" });
    });

    it("has no answer for a token it was not given", () => {
        assert.equal(findAnswer(answers, "aws:ec2/getSubnets:getSubnets", {}), undefined);
    });

    it("refuses a file that is not JSON, a key that is not a token, and an answer without outputs, naming the problem", () => {
        assert.throws(() => readInvokeAnswers(answersFile("{")), (e: Error) => e instanceof InvokeAnswersError && /is not valid JSON/.test(e.message));
        assert.throws(() => readInvokeAnswers(answersFile({ getAmi: { outputs: {} } })), /"getAmi" in .* is not an invoke token/);
        assert.throws(() => readInvokeAnswers(answersFile({ [GET_AMI]: [{ inputs: {} }] })), /aws:ec2\/getAmi:getAmi\[0\] in .* needs "outputs", an object/);
        assert.throws(() => readInvokeAnswers(path.join(tmpdir(), "no-such-answers.json")), /--invoke-answers: no file/);
    });
});

describe("pure invokes", () => {
    const env = { region: "eu-west-1", accountId: "123456789012" };

    it("answers getPartition, getRegion and getCallerIdentity from the stack's region and the mock account", () => {
        assert.equal(pureInvoke("aws:index/getPartition:getPartition", {}, env)?.partition, "aws");
        assert.equal(pureInvoke("aws:index/getRegion:getRegion", {}, env)?.region, "eu-west-1");
        assert.equal(pureInvoke("aws:index/getCallerIdentity:getCallerIdentity", {}, env)?.accountId, "123456789012");
    });

    it("answers getRegion for a region asked by name, getPartition for China and GovCloud regions, and getArn's parts", () => {
        assert.equal(pureInvoke("aws:index/getRegion:getRegion", { region: "us-west-2" }, env)?.region, "us-west-2");
        assert.deepEqual(pureInvoke("aws:index/getPartition:getPartition", {}, { ...env, region: "cn-north-1" }), { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn", reverseDnsPrefix: "cn.com.amazonaws", id: "aws-cn" });
        assert.equal(pureInvoke("aws:index/getPartition:getPartition", {}, { ...env, region: "us-gov-west-1" })?.partition, "aws-us-gov");
        assert.deepEqual(pureInvoke("aws:index/getArn:getArn", { arn: "arn:aws:lambda:eu-west-1:123456789012:function:notes:live" }, env), {
            arn: "arn:aws:lambda:eu-west-1:123456789012:function:notes:live",
            id: "arn:aws:lambda:eu-west-1:123456789012:function:notes:live",
            partition: "aws",
            service: "lambda",
            region: "eu-west-1",
            account: "123456789012",
            resource: "function:notes:live",
        });
        assert.throws(() => pureInvoke("aws:index/getArn:getArn", { arn: "not-an-arn" }, env), /invalid ARN/);
    });

    it("answers getPolicyDocument with the rendered document", () => {
        const answer = pureInvoke("aws:iam/getPolicyDocument:getPolicyDocument", { statements: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }] }, env);
        assert.equal(answer?.minifiedJson, '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}');
    });

    it("does not answer a lookup that needs the cloud", () => {
        assert.equal(pureInvoke(GET_AMI, { mostRecent: true }, env), undefined);
    });
});
