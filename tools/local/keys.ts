import { generateKeyPair, randomBytes, type JsonWebKey } from "node:crypto";
import { chmodSync, lstatSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { calculateJwkThumbprint } from "jose";

/**
 * Secrets of one data directory, created on its first start and kept there with owner-only
 * permissions (0600):
 * - `signing-key.json`: the RSA key the local User Pools sign id and access tokens with; its public
 *   half is the pools' JWKS. Only this machine can mint tokens the local cloud accepts.
 * - `admin-credentials.json`: the local admin's access key, for the User Pool actions AWS
 *   authorizes with IAM (every `Admin*` action, `ListUsers`, `CreateUserPool` …).
 */
export const SIGNING_KEY_FILE = "signing-key.json";
export const ADMIN_CREDENTIALS_FILE = "admin-credentials.json";

/** The local admin's long-term access key (`AKIA…`), as an SDK client takes it. */
export interface AdminCredentials {
    accessKeyId: string;
    secretAccessKey: string;
}

/** The User Pools' signing key: the private JWK, and the public one the JWKS serves. */
export interface SigningKeyPair {
    kid: string;
    privateJwk: JsonWebKey & { kid: string; alg: "RS256" };
    publicJwk: JsonWebKey & { kid: string; alg: "RS256"; use: "sig" };
}

/**
 * Reads a secret file of the data directory; undefined when it does not exist yet. The file must
 * be a regular file (not a link someone planted); looser permissions are tightened.
 */
function readOwnerOnly<T>(dataDir: string, name: string): T | undefined {
    const file = path.join(dataDir, name);
    let stat;
    try {
        stat = lstatSync(file);
    } catch {
        return undefined;
    }
    if (!stat.isFile()) throw new Error(`${file} is not a regular file; remove it (a new one is created on start).`);
    if (typeof process.getuid === "function" && stat.uid !== process.getuid()) throw new Error(`${file} belongs to another user; remove it (a new one is created on start).`);
    if ((stat.mode & 0o077) !== 0) chmodSync(file, 0o600);
    return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Writes a secret file of the data directory: a fresh temporary file (0600, `wx`), renamed into place. */
function writeOwnerOnly<T>(dataDir: string, name: string, value: T): T {
    const file = path.join(dataDir, name);
    const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    renameSync(temporary, file);
    return value;
}

/**
 * The data directory's token signing key, created (RSA 2048) on first use. Generating it takes
 * 0.1 to over 1 s of CPU (a random prime search; longer on a busy machine), so it runs on libuv's
 * thread pool, not the event loop.
 */
export async function signingKey(dataDir: string): Promise<SigningKeyPair> {
    let saved = readOwnerOnly<{ privateJwk: JsonWebKey }>(dataDir, SIGNING_KEY_FILE);
    if (!saved) {
        const { privateKey } = await promisify(generateKeyPair)("rsa", { modulusLength: 2048 });
        saved = writeOwnerOnly(dataDir, SIGNING_KEY_FILE, { privateJwk: privateKey.export({ format: "jwk" }) });
    }
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = saved.privateJwk;
    const kid = await calculateJwkThumbprint({ kty: "RSA", n: publicPart.n!, e: publicPart.e! });
    return {
        kid,
        privateJwk: { ...saved.privateJwk, kid, alg: "RS256" },
        publicJwk: { kty: "RSA", n: publicPart.n, e: publicPart.e, kid, alg: "RS256", use: "sig" },
    };
}

const KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The data directory's admin credentials, created on first use. */
export function adminCredentials(dataDir: string): AdminCredentials {
    const saved = readOwnerOnly<AdminCredentials>(dataDir, ADMIN_CREDENTIALS_FILE);
    if (saved) return saved;
    const bytes = randomBytes(16);
    return writeOwnerOnly(dataDir, ADMIN_CREDENTIALS_FILE, {
        accessKeyId: `AKIA${Array.from(bytes, (b) => KEY_ID_ALPHABET[b % 32]).join("")}`,
        secretAccessKey: randomBytes(30).toString("base64"),
    });
}

/**
 * The admin credentials of a running (or stopped) local cloud's data directory: what `npm run
 * smoke`, the tests and any tool that administers the local User Pools sign with.
 */
export function readAdminCredentials(dataDir: string): AdminCredentials {
    const file = path.join(dataDir, ADMIN_CREDENTIALS_FILE);
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch {
        throw new Error(`${file} does not exist: start the local cloud on this data directory first (npm start).`);
    }
    const { accessKeyId, secretAccessKey } = JSON.parse(text) as AdminCredentials;
    return { accessKeyId, secretAccessKey };
}

/**
 * What the local admin key may do: everything, as an account administrator (AWS's
 * `AdministratorAccess`). A bucket policy's explicit deny still applies to it, as on AWS.
 */
export const ADMINISTRATOR_ACCESS = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });

/** The admin key as a signing session: a long-term key of the account's administrator. */
export interface AdminSession {
    secretAccessKey: string;
    admin: true;
    /** `arn:aws:iam::<account>:user/local-admin`. */
    principalArn: string;
}

/**
 * A key lookup for SigV4 verification that knows the admin key beside the sessions the local cloud
 * issued; a front decides an `AdminSession` with `ADMINISTRATOR_ACCESS`.
 */
export function withAdminKey<K>(admin: AdminCredentials | undefined, accountId: string, sessions: { get(accessKeyId: string): K | undefined }): { get(accessKeyId: string): K | AdminSession | undefined } {
    const session: AdminSession | undefined = admin ? { secretAccessKey: admin.secretAccessKey, admin: true, principalArn: `arn:aws:iam::${accountId}:user/local-admin` } : undefined;
    return { get: (accessKeyId) => (session && accessKeyId === admin!.accessKeyId ? session : sessions.get(accessKeyId)) };
}
