// `npm start`: the whole backend on embedded emulators, driven by the real index.ts.
// Flags: --reset (wipe the data dir), --stack <name> (default dev), --data-dir <dir> (default
// .local), --port <n> (base port; free ports when omitted), --web-port <n> (the reference web
// client, default 5173), --alarm-time-scale <k> (every alarm period lasts period / k).
import * as path from "node:path";
import { parseArgs } from "node:util";
import { readStackConfig } from "../engine/program";
import { LOCAL_CONFIG_OVERRIDES, LocalCloud } from "../local/cloud";
import { bundleWebClient } from "../../web/build";
import { DEFAULT_WEB_PORT, LocalWebClient, serveLocalClient } from "../../web/local";
import { PortInUse } from "../../web/server";
import type { MfaSetting } from "../../web/src/config";

// cognito-local bundles AWS SDK v2, which prints an end-of-support notice on load; the v3 SDK
// warns that future versions need Node 22. Neither concerns a local run.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            reset: { type: "boolean", default: false },
            stack: { type: "string", default: "dev" },
            "data-dir": { type: "string", default: ".local" },
            port: { type: "string" },
            "web-port": { type: "string", default: String(DEFAULT_WEB_PORT) },
            "alarm-time-scale": { type: "string", default: "1" },
        },
        strict: true,
    });
    const basePort = values.port === undefined ? undefined : Number(values.port);
    if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1 || basePort > 65530)) {
        throw new Error(`--port must be a port number (the base of five consecutive ports), got ${values.port}`);
    }
    const webPort = Number(values["web-port"]);
    if (!Number.isInteger(webPort) || webPort < 1 || webPort > 65535) throw new Error(`--web-port must be a port number, got ${values["web-port"]}`);
    const alarmTimeScale = Number(values["alarm-time-scale"]);
    if (!Number.isFinite(alarmTimeScale) || alarmTimeScale < 1 || alarmTimeScale > 3600) {
        throw new Error(`--alarm-time-scale must be a number from 1 to 3600 (60 makes a one-minute period last a second), got ${values["alarm-time-scale"]}`);
    }
    const dataDir = path.resolve(values["data-dir"]!);
    const print = (line: string) => process.stdout.write(`${line}\n`);

    print(`notes-infra local cloud: stack ${values.stack}, data in ${path.relative(process.cwd(), dataDir) || "."}${values.reset ? " (reset)" : ""}`);
    for (const [key, { value, why }] of Object.entries(LOCAL_CONFIG_OVERRIDES)) print(`  override ${key}=${value}: ${why}`);

    const cloud = new LocalCloud({ dataDir, stack: values.stack, basePort, reset: values.reset, print, alarmTimeScale });
    if (alarmTimeScale !== 1) print(`  alarm periods divided by ${alarmTimeScale}: a 60 s period lasts ${(60 / alarmTimeScale).toFixed(2)} s`);
    let web: LocalWebClient | undefined;
    let stopping = false;
    const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        print(`${signal}: stopping the local cloud`);
        setTimeout(() => {
            process.stderr.write("the local cloud did not stop within 10 s; exiting anyway\n");
            process.exit(1);
        }, 10_000).unref();
        await Promise.all([cloud.stop(), web?.server.close()]);
        print("stopped; data is in place for the next start");
        process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));

    // The client's bundle holds no stack settings: esbuild builds it while the cloud starts.
    const bundle = bundleWebClient({ serviceWorker: true });
    bundle.catch(() => undefined);
    let outputs;
    try {
        outputs = await cloud.start();
    } catch (error) {
        await cloud.stop().catch(() => undefined);
        throw error;
    }
    try {
        // The account view offers what the stack's mfa setting allows.
        const { project, config } = readStackConfig(values.stack!);
        const mfa = config[`${project}:mfa`] as MfaSetting | undefined;
        web = await serveLocalClient(await bundle, outputs, webPort, { mfa });
    } catch (error) {
        // The backend is usable without it; say why the client is missing and how to get it.
        const hint =
            error instanceof PortInUse
                ? " Free it, or pass --web-port <n>: the API and the bucket accept only the origins in corsAllowedOrigins (http://localhost:3000 and http://localhost:5173 by default)."
                : "";
        print(`  ! reference web client not served: ${error instanceof Error ? error.message : String(error)}.${hint}`);
    }
    if (cloud.notEmulated.length > 0) {
        print("  not emulated locally (recorded, no local effect):");
        const seen = new Set<string>();
        for (const { type, name, reason } of cloud.notEmulated) {
            const line = `    ${type}: ${reason}`;
            if (seen.has(line)) continue;
            seen.add(line);
            print(`${line} (${name}${cloud.notEmulated.filter((n) => n.type === type && n.reason === reason).length > 1 ? ", …" : ""})`);
        }
    }
    // From process start (module loading included), i.e. what a user waits for after `npm start`.
    const seconds = process.uptime();
    const { endpoints, oauth, ...stackOutputs } = outputs;
    print(
        `READY in ${seconds.toFixed(2)} s: ${Object.entries(stackOutputs)
            .map(([key, value]) => `${key}=${value}`)
            .concat(oauth ? [`managedLogin=https://${oauth.domain}`] : [])
            .join(" ")} cognitoIdp=${endpoints.cognitoIdp} cognitoIdentity=${endpoints.cognitoIdentity} s3=${endpoints.s3} dynamodb=${endpoints.dynamodb}${web ? ` web=${web.url}` : ""}`,
    );
    const file = cloud.writeOutputs();
    print(`outputs written to ${path.relative(process.cwd(), file)}; sign-up codes print here; Ctrl+C stops`);
}

main().catch((error) => {
    process.stderr.write(`local cloud failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
