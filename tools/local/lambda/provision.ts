import * as path from "node:path";
import { toPlain } from "../../engine/program";
import type { Provisioner } from "../provisioner";
import { runtimeEnvironment } from "./environment";
import { LocalFunction } from "./functions";

/** How long a function's session credentials last (Lambda's execution role sessions: up to 12 h). */
const SESSION_SECONDS = 12 * 3600;

/**
 * `aws:lambda/function:Function`: the deployment package (an AssetArchive of StringAssets, as the
 * program builds it) written under `<data-dir>/functions/<name>` and run in a worker thread, with
 * its own environment and a session of its execution role.
 */
export const fn: Provisioner = async ({ name, inputs, state }, { registry, store, dataDir, endpoints }) => {
    const code = await toPlain(inputs.code);
    if (code?.$archive !== "assets") throw new Error(`Function ${name}: the local runtime runs AssetArchive code of StringAssets, got ${JSON.stringify(code).slice(0, 80)}.`);
    const files: Record<string, string> = {};
    for (const [file, asset] of Object.entries<any>(code.assets)) {
        if (asset.$asset !== "string") throw new Error(`Function ${name}: ${file} is not a StringAsset.`);
        files[file] = asset.text;
    }
    const functionName: string = state.name;
    const roleArn = String(inputs.role);
    const taskRoot = path.join(dataDir, "functions", name);
    const definition = {
        name: functionName,
        arn: state.arn,
        files,
        handler: inputs.handler ?? "index.handler",
        environment: inputs.environment?.variables ?? {},
        timeoutSeconds: inputs.timeout ?? 3,
        roleArn,
    };
    const runtimeEnv = () =>
        runtimeEnvironment({
            region: registry.region,
            session: store.mint({ roleArn, sessionName: functionName, ttlSeconds: SESSION_SECONDS }),
            functionName,
            memorySize: inputs.memorySize ?? 128,
            runtime: inputs.runtime ?? "nodejs22.x",
            taskRoot,
            endpoints: { dynamodb: endpoints.dynamodbFront, s3: endpoints.s3, cognitoIdp: endpoints.cognitoIdp, cognitoIdentity: endpoints.cognitoIdentity },
        });
    registry.functions.set(functionName, new LocalFunction(definition, taskRoot, runtimeEnv));
    return undefined;
};

/** `aws:lambda/permission:Permission`: whether API Gateway may invoke the function, for which source ARN. */
export const permission: Provisioner = ({ inputs }, { registry }) => {
    registry.permissions.push({ action: inputs.action, functionRef: String(inputs.function), principal: inputs.principal, sourceArn: inputs.sourceArn });
    return undefined;
};
