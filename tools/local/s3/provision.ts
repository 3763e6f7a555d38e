import { documentText, type Provisioner } from "../provisioner";

/** `aws:s3/bucket:Bucket` (and the deprecated `BucketV2`): the bucket in the object store, under the engine's name. */
export const bucket: Provisioner = async ({ id }, { s3 }) => {
    await s3.createBucket(id);
    return undefined;
};

/** `aws:s3/bucketCorsConfiguration:BucketCorsConfiguration` (and `…V2`): the rules preflights and CORS headers come from. */
export const bucketCors: Provisioner = async ({ inputs }, { s3 }) => {
    await s3.putCors(inputs.bucket, inputs.corsRules ?? []);
    return undefined;
};

/** `aws:s3/bucketPolicy:BucketPolicy`: decided together with the caller's policies on every request. */
export const bucketPolicy: Provisioner = ({ inputs }, { registry }) => {
    registry.bucketPolicies.set(inputs.bucket, documentText(inputs.policy));
    return undefined;
};

/**
 * `aws:s3/bucketVersioning:BucketVersioning` (and `…V2`): versioning `Enabled` or `Suspended` in the
 * object store (`Disabled` is only valid for a bucket never versioned: nothing to do).
 */
export const bucketVersioning: Provisioner = async ({ name, inputs }, { s3 }) => {
    const status = inputs.versioningConfiguration?.status;
    if (status === "Enabled" || status === "Suspended") await s3.setVersioning(inputs.bucket, status);
    else if (status !== "Disabled") throw new Error(`BucketVersioning ${name}: status must be Enabled, Suspended or Disabled, found ${JSON.stringify(status)}.`);
    if (inputs.versioningConfiguration?.mfaDelete === "Enabled") throw new Error(`BucketVersioning ${name}: MFA delete is not emulated locally.`);
    return undefined;
};
