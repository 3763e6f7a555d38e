import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Constructing the pack starts its gRPC server: this file does nothing else, and nothing imports it.
new PolicyPack("notes-guardrails", {
    description: "Blocks API Gateway routes and methods without IAM auth and S3 buckets that could be public.",
    enforcementLevel: "mandatory",
    policies,
});
