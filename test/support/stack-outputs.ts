import type { StackOutputs } from "../../outputs";

/** What `pulumi stack output --json` prints for a deployed stack (the README's example values). */
export const DEPLOYED_STACK_OUTPUTS: StackOutputs = {
    apiUrl: "https://abc123defg.execute-api.us-east-1.amazonaws.com/",
    bucketName: "notes-storage-uploads-1a2b3c4",
    identityPoolId: "us-east-1:1f2e3d4c-5b6a-4789-8abc-def012345678",
    region: "us-east-1",
    tableName: "notes-storage-notes-5d6e7f8",
    userPoolClientId: "3n4b5c6d7e8f9g0h1i2j3k4l5m",
    userPoolId: "us-east-1_AbCdEfGhI",
};
