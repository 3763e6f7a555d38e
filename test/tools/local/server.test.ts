import { strict as assert } from "node:assert";
import { hostName, isLoopbackHost, originAllowed } from "../../../tools/local/server";
import { s3HostAccepted } from "../../../tools/local/s3/request";

describe("local server helpers", () => {
    it("accepts only loopback names and addresses as Host, with any port", () => {
        for (const host of ["localhost", "localhost:3000", "LOCALHOST", "app.localhost", "a.b.localhost:80", "127.0.0.1", "127.0.0.1:9", "127.1.2.3:65535", "[::1]", "[::1]:8080", "localhost."]) {
            assert.equal(isLoopbackHost(host), true, host);
        }
        for (const host of [undefined, "", "evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "128.0.0.1", "0.0.0.0", "[::2]", "[::ffff:127.0.0.1]", "127.0.0.1:abc", "local host", "127.0.0.1@evil.example", "::1"]) {
            assert.equal(isLoopbackHost(host), false, String(host));
        }
        assert.equal(hostName("Example.COM:443"), "example.com");
    });

    it("accepts the region's S3 host names on the S3 front, and no other region's", () => {
        assert.equal(s3HostAccepted("notes-bucket.s3.us-east-1.amazonaws.com", "us-east-1"), true);
        assert.equal(s3HostAccepted("s3.us-east-1.amazonaws.com:443", "us-east-1"), true);
        assert.equal(s3HostAccepted("notes-bucket.s3.amazonaws.com", "us-east-1"), true);
        assert.equal(s3HostAccepted("notes-bucket.s3.amazonaws.com", "eu-west-1"), false);
        assert.equal(s3HostAccepted("notes-bucket.s3.eu-west-1.amazonaws.com", "us-east-1"), false);
        assert.equal(s3HostAccepted("s3.us-east-1.amazonaws.com.evil.example", "us-east-1"), false);
        assert.equal(s3HostAccepted("localhost:4566", "us-east-1"), true);
    });

    it("matches origins exactly or by the stack's wildcards", () => {
        assert.equal(originAllowed(["http://localhost:5173"], "http://localhost:5173"), true);
        assert.equal(originAllowed(["http://localhost:5173"], "http://localhost:5174"), false);
        assert.equal(originAllowed(["https://*.example.com"], "https://app.example.com"), true);
        assert.equal(originAllowed([], "http://localhost:5173"), false);
        assert.equal(originAllowed(["http://localhost:5173"], undefined), false);
    });
});
