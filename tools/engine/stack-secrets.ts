import { createDecipheriv, pbkdf2Sync } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "./mocks";

/**
 * Stack secrets as the Pulumi CLI's passphrase secrets manager keeps them (pulumi/pulumi
 * `pkg/secrets/passphrase/manager.go`, `sdk/go/common/resource/config/crypt.go`):
 * - `encryptionsalt: v1:<base64 salt>:<check value>` in the stack file, where the check value is the
 *   word `pulumi` encrypted with the key, so a wrong passphrase is told apart from a bad value;
 * - the key: PBKDF2 with SHA-256, 1,000,000 iterations, 32 bytes, from the passphrase and the salt;
 * - each `secure:` value: `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext and 16-byte tag>`.
 * The passphrase comes from `PULUMI_CONFIG_PASSPHRASE`, else the file `PULUMI_CONFIG_PASSPHRASE_FILE`
 * names (trimmed), as the CLI reads them.
 */

const ITERATIONS = 1_000_000;
const KEY_BYTES = 32;
const TAG_BYTES = 16;

export class IncorrectPassphrase extends Error {}

/** The 32-byte key, once the passphrase opens the stack's check value. */
export function passphraseKey(passphrase: string, encryptionSalt: string): Buffer {
    const [version, salt] = encryptionSalt.split(":", 2);
    if (version !== "v1" || salt === undefined) throw new Error("encryptionsalt is not a v1 passphrase state");
    const key = pbkdf2Sync(Buffer.from(passphrase, "utf8"), Buffer.from(salt, "base64"), ITERATIONS, KEY_BYTES, "sha256");
    const check = encryptionSalt.slice(version.length + salt.length + 2);
    let opened: string | undefined;
    try {
        opened = decryptValue(key, check);
    } catch {
        opened = undefined;
    }
    if (opened !== "pulumi") throw new IncorrectPassphrase("incorrect passphrase");
    return key;
}

/** One `secure:` value. Throws when it is malformed or was not encrypted with this key. */
export function decryptValue(key: Buffer, value: string): string {
    const parts = value.split(":");
    if (parts.length !== 3 || parts[0] !== "v1") throw new Error("not a v1 secure value");
    const nonce = Buffer.from(parts[1], "base64");
    const sealed = Buffer.from(parts[2], "base64");
    if (nonce.length !== 12 || sealed.length < TAG_BYTES) throw new Error("not a v1 secure value");
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString("utf8");
}

/** The passphrase the CLI would use, or undefined when neither variable is set. */
export function configPassphrase(env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
    const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (file) {
        const full = path.resolve(file);
        if (!existsSync(full)) throw new ConfigError("PULUMI_CONFIG_PASSPHRASE_FILE", `PULUMI_CONFIG_PASSPHRASE_FILE names ${full}, which does not exist.`);
        return readFileSync(full, "utf8").trim();
    }
    return undefined;
}

/**
 * Decrypts every `{secure: …}` leaf of a stack's config values, as the CLI does before it runs the
 * program; stops, naming the keys, when it cannot (no passphrase, a wrong one, no salt).
 */
export function decryptStackSecrets(
    stack: string,
    values: Record<string, unknown>,
    encryptionSalt: string | undefined,
    env: NodeJS.ProcessEnv = process.env,
): { values: Record<string, unknown>; secretKeys: string[] } {
    const secretKeys = Object.keys(values).filter((key) => containsSecure(values[key]));
    if (secretKeys.length === 0) return { values, secretKeys };
    const named = `${secretKeys.length === 1 ? "key" : "keys"} ${secretKeys.join(", ")}`;
    if (!encryptionSalt) {
        throw new ConfigError(secretKeys[0], `Stack ${stack} has secrets (${named}) but no encryptionsalt: only the passphrase secrets provider can be decrypted offline.`);
    }
    const passphrase = configPassphrase(env);
    if (passphrase === undefined) {
        throw new ConfigError(secretKeys[0], `Stack ${stack} has secrets (${named}): set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase to run it.`);
    }
    let key: Buffer;
    try {
        key = passphraseKey(passphrase, encryptionSalt);
    } catch (error) {
        const why = error instanceof IncorrectPassphrase ? "incorrect passphrase" : (error as Error).message;
        throw new ConfigError(secretKeys[0], `Stack ${stack}: cannot decrypt its secrets (${named}): ${why}; set PULUMI_CONFIG_PASSPHRASE to the stack's passphrase.`);
    }
    const decrypted: Record<string, unknown> = { ...values };
    for (const name of secretKeys) {
        try {
            decrypted[name] = walk(values[name], (secure) => decryptValue(key, secure));
        } catch {
            throw new ConfigError(name, `Stack ${stack}: the secure value of ${name} does not decrypt with this passphrase (was it encrypted for another stack?).`);
        }
    }
    return { values: decrypted, secretKeys };
}

function isSecure(node: unknown): node is { secure: string } {
    return node !== null && typeof node === "object" && !Array.isArray(node) && Object.keys(node).length === 1 && typeof (node as { secure?: unknown }).secure === "string";
}

function containsSecure(node: unknown): boolean {
    if (isSecure(node)) return true;
    if (Array.isArray(node)) return node.some(containsSecure);
    return node !== null && typeof node === "object" && Object.values(node).some(containsSecure);
}

function walk(node: unknown, decrypt: (value: string) => string): unknown {
    if (isSecure(node)) return decrypt(node.secure);
    if (Array.isArray(node)) return node.map((item) => walk(item, decrypt));
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value, decrypt)]));
}
