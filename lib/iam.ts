import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * The Cognito Identity Pool id of the caller, as IAM resolves it at request time. Written as a
 * plain string (not a template literal) so TypeScript never interpolates it.
 */
export const COGNITO_IDENTITY_SUB = "${cognito-identity.amazonaws.com:sub}";

/**
 * Serializes a typed IAM policy document. The JSON string is what AWS stores, what CrossGuard
 * policies read and what the local cloud and the simulator tests evaluate: one document, no
 * provider-side translation in between.
 */
export function policyJson(statements: pulumi.Input<aws.iam.PolicyStatement>[]): pulumi.Output<string> {
    const document: aws.iam.PolicyDocument = { Version: "2012-10-17", Statement: statements as aws.iam.PolicyStatement[] };
    return pulumi.jsonStringify(document);
}

/** Trust policy letting one AWS service assume a role. */
export function serviceTrustPolicy(service: string): pulumi.Output<string> {
    return policyJson([{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }]);
}
