import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { readStackSettings } from "../../../tools/engine/program";
import { decryptStackSecrets, decryptValue, IncorrectPassphrase, passphraseKey } from "../../../tools/engine/stack-secrets";
import { startLocalCloudProcess } from "../../../tools/local/process";

// Made independently of this code (Python: hashlib.pbkdf2_hmac sha256 1,000,000 iterations, and
// cryptography's AESGCM), in the format of the Pulumi CLI's passphrase secrets manager.
const PASSPHRASE = "correct horse battery staple";
const SALT = "v1:ABEiM0RVZnc=:v1:AAECAwQFBgcICQoL:F/a/QEFSV+aWCwtK9PEKnhHCXlxbGw==";
const SECRET = "v1:AQIDBAUGBwgJCgsM:NZNPRF1MsjmwBelB15J64qR41KaGR/X+MTvL4XWhYm3W14L2";

describe("stack secrets (the passphrase secrets provider, offline)", function () {
    this.timeout(30_000);
    let key: Buffer;
    before(() => {
        key = passphraseKey(PASSPHRASE, SALT);
    });

    it("derives the key from the passphrase and the stack's salt, and decrypts a secure value as the CLI wrote it", () => {
        assert.equal(decryptValue(key, SECRET), "GOCSPX-vector-secret");
    });

    it("tells a wrong passphrase by the stack's check value", () => {
        assert.throws(() => passphraseKey("wrong horse", SALT), IncorrectPassphrase);
    });

    it("refuses a tampered or malformed value instead of returning garbage", () => {
        const [v, nonce, sealed] = SECRET.split(":");
        const flipped = Buffer.from(sealed, "base64");
        flipped[0] ^= 1;
        assert.throws(() => decryptValue(key, `${v}:${nonce}:${flipped.toString("base64")}`));
        assert.throws(() => decryptValue(key, "v2:AAAA:BBBB"));
        assert.throws(() => decryptValue(key, "plain text"));
    });

    it("decrypts top-level and --path secrets, marks their keys secret, and leaves plain values alone", () => {
        const values = { "app:plain": "x", "app:token": { secure: SECRET }, "app:nested": { url: "https://x", list: [{ secure: SECRET }] } };
        const { values: decrypted, secretKeys } = decryptStackSecrets("dev", values, SALT, { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE });
        assert.deepEqual(decrypted, { "app:plain": "x", "app:token": "GOCSPX-vector-secret", "app:nested": { url: "https://x", list: ["GOCSPX-vector-secret"] } });
        assert.deepEqual(secretKeys, ["app:token", "app:nested"]);
    });

    it("stops, naming the keys, without a passphrase, with a wrong one, or without a salt", () => {
        const values = { "app:token": { secure: SECRET }, "app:other": { a: { secure: SECRET } } };
        assert.throws(() => decryptStackSecrets("dev", values, SALT, {}), /Stack dev has secrets \(keys app:token, app:other\): set PULUMI_CONFIG_PASSPHRASE/);
        assert.throws(() => decryptStackSecrets("dev", values, SALT, { PULUMI_CONFIG_PASSPHRASE: "nope" }), /cannot decrypt its secrets \(keys app:token, app:other\): incorrect passphrase/);
        assert.throws(() => decryptStackSecrets("dev", values, undefined, { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE }), /has secrets \(keys app:token, app:other\) but no encryptionsalt/);
        assert.deepEqual(decryptStackSecrets("dev", { "app:plain": "x" }, undefined, {}).secretKeys, []);
    });

    it("reads the passphrase from PULUMI_CONFIG_PASSPHRASE_FILE, trimmed, as the CLI does", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "passphrase-"));
        try {
            writeFileSync(path.join(dir, "phrase"), `${PASSPHRASE}\n`);
            const { values } = decryptStackSecrets("dev", { "app:token": { secure: SECRET } }, SALT, { PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "phrase") });
            assert.equal(values["app:token"], "GOCSPX-vector-secret");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("hands a stack's decrypted values to the program as secrets when asked to decrypt, placeholders otherwise", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "stack-secrets-"));
        const previous = process.env.PULUMI_CONFIG_PASSPHRASE;
        try {
            writeFileSync(path.join(dir, "Pulumi.yaml"), "name: app\nruntime: nodejs\n");
            writeFileSync(path.join(dir, "Pulumi.dev.yaml"), `encryptionsalt: ${SALT}\nconfig:\n  app:token:\n    secure: ${SECRET}\n  app:nested:\n    inner:\n      secure: ${SECRET}\n`);
            process.env.PULUMI_CONFIG_PASSPHRASE = PASSPHRASE;
            const decrypted = readStackSettings("dev", dir, "decrypt");
            assert.equal(decrypted.config["app:token"], "GOCSPX-vector-secret");
            assert.deepEqual(JSON.parse(decrypted.config["app:nested"]), { inner: "GOCSPX-vector-secret" });
            assert.deepEqual(decrypted.secretKeys.sort(), ["app:nested", "app:token"]);
            const placeholders = readStackSettings("dev", dir);
            assert.match(placeholders.config["app:token"], /placeholder for secret app:token/);
        } finally {
            if (previous === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
            else process.env.PULUMI_CONFIG_PASSPHRASE = previous;
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("stops npm start of a stack with secrets and no passphrase, naming the keys", async () => {
        assert.equal(process.env.PULUMI_CONFIG_PASSPHRASE, undefined, "this test needs PULUMI_CONFIG_PASSPHRASE unset");
        const dataDir = mkdtempSync(path.join(tmpdir(), "notes-no-passphrase-"));
        try {
            await assert.rejects(
                startLocalCloudProcess(dataDir, ["--stack", "local-oauth", "--web-port", "5292"], 40_000),
                /Stack local-oauth has secrets \(key notes-infra:identityProviderSecrets\): set PULUMI_CONFIG_PASSPHRASE/,
            );
        } finally {
            rmSync(dataDir, { recursive: true, force: true });
        }
    });
});
