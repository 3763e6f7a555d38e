import { strict as assert } from "node:assert";
import jsQR from "jsqr";
import { describeRemaining, totpSetupUri } from "../../web/src/account";
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

    it("summarises what DELETE /account says remains, and nothing for a body without counts", () => {
        assert.equal(describeRemaining({ remaining: { notes: 1200, files: 30, identity: true, user: false } }), "notes: 1,200, files: 30, identity");
        assert.equal(describeRemaining({ notes: 0, fileVersions: 4 }), "notes: 0, file versions: 4");
        assert.equal(describeRemaining(undefined), "");
        assert.equal(describeRemaining("text"), "");
    });
});
