import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** Where the managed login's certificate lives: `<data-dir>/tls/localhost.{crt,key}`. */
export function certificateFiles(dataDir: string): { cert: string; key: string } {
    const dir = path.join(dataDir, "tls");
    return { cert: path.join(dir, "localhost.crt"), key: path.join(dir, "localhost.key") };
}

/**
 * A self-signed certificate for `localhost` and 127.0.0.1, made once with the machine's openssl and
 * kept, so a person accepts it in their browser once (tools/local/README.md). Amplify builds
 * `https://<oauth.domain>/oauth2/...` with no way to choose plain HTTP, hence TLS at all.
 */
export function localhostCertificate(dataDir: string): { cert: Buffer; key: Buffer } {
    const files = certificateFiles(dataDir);
    if (!existsSync(files.cert) || !existsSync(files.key)) {
        mkdirSync(path.dirname(files.cert), { recursive: true, mode: 0o700 });
        try {
            execFileSync(
                "openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "825",
                    "-subj", "/CN=localhost/O=notes-infra local cloud",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-addext", "extendedKeyUsage=serverAuth",
                    "-keyout", files.key, "-out", files.cert,
                ],
                { stdio: ["ignore", "ignore", "pipe"] },
            );
        } catch (error) {
            throw new Error(`The local managed login needs a TLS certificate and could not make one with openssl (is it installed?): ${(error as Error).message}`);
        }
    }
    return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
}
