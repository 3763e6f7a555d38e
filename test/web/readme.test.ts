import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("web/README.md's Amplify configuration", () => {
    it("is the code the browser test runs (web/src/amplify.ts between its README markers)", () => {
        const source = read("web/src/amplify.ts");
        const start = source.indexOf("// README: the Amplify configuration");
        const end = source.indexOf("// README: end");
        assert.ok(start >= 0 && end > start, "web/src/amplify.ts lost its README markers");
        const tested = source.slice(source.indexOf("\n", start) + 1, end);
        assert.ok(read("web/README.md").includes(`\`\`\`ts\n${tested}\`\`\``), "web/README.md's Amplify snippet differs from web/src/amplify.ts");
    });

    it("names the aws-amplify version the lock file installs, and web/package.json's range", () => {
        const installed = JSON.parse(read("node_modules/aws-amplify/package.json")).version;
        const range = JSON.parse(read("web/package.json")).dependencies["aws-amplify"];
        assert.match(read("web/README.md"), new RegExp(`run with aws-amplify ${installed.replace(/\./g, "\\.")}\\s.*\`${range.replace(/[.^]/g, "\\$&")}\``, "s"));
    });
});
