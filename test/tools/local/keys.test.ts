import { strict as assert } from "node:assert";
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ADMIN_CREDENTIALS_FILE, adminCredentials, readAdminCredentials, SIGNING_KEY_FILE, signingKey } from "../../../tools/local/keys";

describe("data directory secrets (signing key, admin credentials)", () => {
    let dir: string;

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "keys-"));
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("creates an RSA signing key on first use, owner-only, and keeps it", async () => {
        const first = await signingKey(dir);
        assert.equal(statSync(path.join(dir, SIGNING_KEY_FILE)).mode & 0o777, 0o600);
        assert.equal(first.publicJwk.kty, "RSA");
        assert.equal(first.publicJwk.alg, "RS256");
        assert.equal((first.publicJwk as Record<string, unknown>).d, undefined);
        assert.ok(Buffer.from(first.publicJwk.n!, "base64url").length >= 256, "2048-bit modulus");
        const again = await signingKey(dir);
        assert.deepEqual(again, first);
        const elsewhere = mkdtempSync(path.join(tmpdir(), "keys-"));
        try {
            assert.notEqual((await signingKey(elsewhere)).kid, first.kid, "each data directory has its own key");
        } finally {
            rmSync(elsewhere, { recursive: true, force: true });
        }
    });

    it("creates admin credentials on first use, owner-only, readable by tools from the data directory", () => {
        const created = adminCredentials(dir);
        assert.match(created.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
        assert.equal(created.secretAccessKey.length, 40);
        assert.equal(statSync(path.join(dir, ADMIN_CREDENTIALS_FILE)).mode & 0o777, 0o600);
        assert.deepEqual(adminCredentials(dir), created);
        assert.deepEqual(readAdminCredentials(dir), created);
        assert.throws(() => readAdminCredentials(path.join(dir, "nope")), /does not exist: start the local cloud/);
    });

    it("tightens a secret file that became readable by others, and refuses a symbolic link in its place", async () => {
        adminCredentials(dir);
        chmodSync(path.join(dir, ADMIN_CREDENTIALS_FILE), 0o644);
        adminCredentials(dir);
        assert.equal(statSync(path.join(dir, ADMIN_CREDENTIALS_FILE)).mode & 0o777, 0o600);
        writeFileSync(path.join(dir, "elsewhere.json"), "{}");
        symlinkSync(path.join(dir, "elsewhere.json"), path.join(dir, SIGNING_KEY_FILE));
        await assert.rejects(signingKey(dir), /is not a regular file/);
    });
});
