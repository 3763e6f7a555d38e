/**
 * Warnings known to be harmless here, turned off at their source by the switch each library reads
 * from the environment. Only these: any other warning a test prints is worth reading.
 * - AWS SDK v3 on Node 20: "NodeVersionSupportWarning: … will require node >=22" (Lambda runs
 *   Node 22; the warning is about SDK releases after January 2027, not about this code).
 * - AWS SDK v2, loaded by cognito-local: its end-of-support notice.
 * test/setup.ts sets them for the mocha process, whose children and worker threads inherit them;
 * a child started with an environment of its own spreads this object into it.
 */
export const HARMLESS_WARNINGS_OFF: Readonly<Record<string, string>> = {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
};
