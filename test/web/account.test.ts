import { strict as assert } from "node:assert";
import jsQR from "jsqr";
import { ErasureProgress, totpSetupUri } from "../../web/src/account";
import { qrModules, qrPath } from "../../web/src/qr";

/** Amplify's setUpTOTP() result for a secret (its getSetupUri, as aws-amplify 6.22 builds it). */
const details = (sharedSecret: string) => ({
    sharedSecret,
    getSetupUri: (appName: string, accountName?: string) => new URL(`otpauth://totp/${appName}:${accountName ?? "user"}?secret=${sharedSecret}&issuer=${appName}`),
});

/** The QR code's modules as an RGBA image, 4 pixels a module, for a decoder that reads pixels. */
function rgba(modules: boolean[][], scale = 4): { data: Uint8ClampedArray; width: number } {
    const width = modules.length * scale;
    const data = new Uint8ClampedArray(width * width * 4);
    for (let y = 0; y < width; y++) {
        for (let x = 0; x < width; x++) {
            const value = modules[Math.floor(y / scale)][Math.floor(x / scale)] ? 0 : 255;
            data.set([value, value, value, 255], (y * width + x) * 4);
        }
    }
    return { data, width };
}

describe("reference client's account helpers (web/src/account.ts, qr.ts)", () => {
    it("builds the otpauth:// URI for the app and the person's email, encoding the label", () => {
        assert.equal(
            totpSetupUri(details("JBSWY3DPEHPK3PXP"), "ada+notes@example.com"),
            "otpauth://totp/Notes:ada%2Bnotes%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Notes",
        );
    });

    it("draws a QR code that a QR reader decodes back to the otpauth:// URI, with a quiet zone", () => {
        const uri = "otpauth://totp/Notes:ada%40example.com?secret=G4ZTEOJUGI3DKMZXGQ2DSNBWGU4TMNRQGU3TSNBY&issuer=Notes";
        const modules = qrModules(uri);
        assert.ok(modules.length >= 21 + 8 && modules.every((row) => row.length === modules.length), "not a square QR code with its border");
        assert.ok(modules[0].every((dark) => !dark) && modules.every((row) => !row[0]), "no light quiet zone");
        const { data, width } = rgba(modules);
        assert.equal(jsQR(data, width, width)?.data, uri);
    });

    it("draws each dark module as one unit square of the SVG path", () => {
        assert.equal(qrPath([[true, false], [false, true]]), "M0 0h1v1h-1zM1 1h1v1h-1z");
    });

    it("adds up what each 202 of DELETE /account says it deleted, and shows what remains", () => {
        const progress = new ErasureProgress();
        progress.add({ remaining: ["notes", "files", "identity", "user"], deleted: { notes: 1000, files: 0 } });
        assert.equal(progress.describe(), "1 request so far; deleted 1,000 notes and 0 files; still to delete: notes, files, identity, user");
        progress.add({ remaining: ["files", "identity", "user"], deleted: { notes: 250, files: 999 } });
        assert.equal(progress.describe(), "2 requests so far; deleted 1,250 notes and 999 files; still to delete: files, identity, user");
    });

    it("counts a 202 whose body it cannot read, and keeps what it knew", () => {
        const progress = new ErasureProgress();
        progress.add({ remaining: ["user"], deleted: { notes: 3 } });
        progress.add(undefined);
        progress.add({ remaining: "user", deleted: { notes: "many" } });
        assert.equal(progress.describe(), "3 requests so far; deleted 3 notes; still to delete: user");
    });

    it("says one note and one file in the singular", () => {
        const progress = new ErasureProgress();
        progress.add({ remaining: ["identity", "user"], deleted: { notes: 1, files: 1 } });
        assert.equal(progress.describe(), "1 request so far; deleted 1 note and 1 file; still to delete: identity, user");
    });
});
