import { strict as assert } from "node:assert";
import { connectSources, contentTypeOf, documentPolicy, headerPolicy, securityHeaders, withDocumentPolicy } from "../../web/headers";

const STACK = {
    region: "eu-west-1",
    apiUrl: "https://abc123defg.execute-api.eu-west-1.amazonaws.com/",
    bucketName: "notes-storage-uploads-1a2b3c4",
};

describe("the client's headers and Content-Security-Policy (web/headers.ts)", () => {
    it("lets a deployed page connect to its API's origin, the Region's Cognito endpoints and its bucket, nothing else (not even itself)", () => {
        assert.deepEqual(connectSources(STACK), [
            "https://abc123defg.execute-api.eu-west-1.amazonaws.com",
            "https://cognito-idp.eu-west-1.amazonaws.com",
            "https://cognito-identity.eu-west-1.amazonaws.com",
            "https://notes-storage-uploads-1a2b3c4.s3.eu-west-1.amazonaws.com",
        ]);
    });

    it("uses the China partition's DNS suffix there, the local endpoints' origins when the config names them, and 'self' only for the local S3 relay", () => {
        assert.deepEqual(connectSources({ ...STACK, region: "cn-north-1", apiUrl: "https://abc.execute-api.cn-north-1.amazonaws.com.cn/" }).slice(1), [
            "https://cognito-idp.cn-north-1.amazonaws.com.cn",
            "https://cognito-identity.cn-north-1.amazonaws.com.cn",
            "https://notes-storage-uploads-1a2b3c4.s3.cn-north-1.amazonaws.com.cn",
        ]);
        const local = connectSources({ ...STACK, apiUrl: "http://127.0.0.1:40100/", endpoints: { cognitoIdp: "http://127.0.0.1:40103", cognitoIdentity: "http://127.0.0.1:40102/" } });
        assert.deepEqual(local.slice(0, 3), ["http://127.0.0.1:40100", "http://127.0.0.1:40103", "http://127.0.0.1:40102"]);
        // npm start's S3 relay answers from the page's own origin: 'self' there, and only there.
        assert.deepEqual(connectSources({ ...STACK, s3Relay: "/s3-relay/" }).slice(3), ["https://notes-storage-uploads-1a2b3c4.s3.eu-west-1.amazonaws.com", "'self'"]);
    });

    it("adds the managed login's origin when the stack has sign-in providers (oauth): the hosted domain, or the local TLS loopback port", () => {
        const oauth = {
            domain: "notes-login.auth.eu-west-1.amazoncognito.com",
            scopes: ["openid"],
            redirectSignIn: ["https://notes.example.com/"],
            redirectSignOut: ["https://notes.example.com/"],
            responseType: "code" as const,
            providers: ["Google"],
        };
        assert.deepEqual(connectSources({ ...STACK, oauth }), [
            "https://abc123defg.execute-api.eu-west-1.amazonaws.com",
            "https://cognito-idp.eu-west-1.amazonaws.com",
            "https://cognito-identity.eu-west-1.amazonaws.com",
            "https://notes-storage-uploads-1a2b3c4.s3.eu-west-1.amazonaws.com",
            "https://notes-login.auth.eu-west-1.amazoncognito.com",
        ]);
        assert.equal(connectSources({ ...STACK, oauth: { ...oauth, domain: "localhost:40123" } }).at(-1), "https://localhost:40123");
    });

    it("keeps connect-src and default-src out of the header, so the document's list is the one enforced", () => {
        assert.ok(!/(^|; )(connect|default)-src /.test(headerPolicy()), headerPolicy());
        assert.match(headerPolicy(), /; frame-ancestors 'none'$/);
        assert.match(documentPolicy(["https://api.example", "https://b.example"]), /^default-src 'none'; connect-src https:\/\/api\.example https:\/\/b\.example; script-src 'self'; /);
        assert.ok(!documentPolicy([]).includes("frame-ancestors"), "ignored in a <meta>");
        assert.equal(securityHeaders()["content-security-policy"], headerPolicy());
    });

    it("puts the document policy first in <head>, attribute-escaped, and refuses a page it cannot place it in", () => {
        const html = withDocumentPolicy('<html><head>\n<meta charset="utf-8">\n<title>t</title>', `connect-src "x" &`);
        assert.equal(html, '<html><head>\n<meta charset="utf-8">\n    <meta http-equiv="Content-Security-Policy" content="connect-src &quot;x&quot; &amp;">\n<title>t</title>');
        assert.throws(() => withDocumentPolicy("<title>t</title>", "default-src 'none'"), /must start its <head> with <meta charset="utf-8">/);
    });

    it("serves each file with its content type", () => {
        assert.deepEqual(
            ["index.html", "app-ABC234.js", "style.css", "config.json", "app-ABC234.js.LEGAL.txt", "blob"].map(contentTypeOf),
            ["text/html; charset=utf-8", "text/javascript; charset=utf-8", "text/css; charset=utf-8", "application/json", "text/plain; charset=utf-8", "application/octet-stream"],
        );
    });
});
