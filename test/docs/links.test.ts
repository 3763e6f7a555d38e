import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/engine/program";

/** Folders that hold no doc of this repository (dependencies, local data, build output). */
const SKIPPED = new Set(["node_modules", "dist", "tmp"]);

/** Every markdown file of the repository, relative to its root. */
function markdownFiles(dir = REPO_ROOT): string[] {
    return readdirSync(dir).flatMap((entry) => {
        const file = path.join(dir, entry);
        if (statSync(file).isDirectory()) return entry.startsWith(".") || SKIPPED.has(entry) ? [] : markdownFiles(file);
        return entry.endsWith(".md") ? [path.relative(REPO_ROOT, file)] : [];
    });
}

/** The text a reader sees as markdown: without fenced code blocks and inline code spans. */
function prose(markdown: string): string {
    return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, …. */
function headingAnchors(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
    for (const [, heading] of text.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
        const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
        const slug = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
        const count = seen.get(slug) ?? 0;
        seen.set(slug, count + 1);
        anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    return anchors;
}

/** Relative link targets (`[text](target)`, images too) of a markdown file. */
function relativeLinks(markdown: string): string[] {
    return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe("links between the repository's docs", () => {
    const files = markdownFiles();

    it("finds the docs to check", () => {
        for (const file of ["README.md", "SECURITY.md", "BENCHMARKS.md", "docs/threat-model.md", "docs/least-privilege.md", "policy/README.md", "web/README.md"]) {
            assert.ok(files.includes(file), `${file} is not among ${files.join(", ")}`);
        }
    });

    it("resolves every relative link, and every #anchor to a heading of its target", () => {
        const broken: string[] = [];
        for (const file of files) {
            const markdown = readFileSync(path.join(REPO_ROOT, file), "utf8");
            for (const link of relativeLinks(markdown)) {
                const [target, anchor] = link.split("#", 2);
                const resolved = target === "" ? path.join(REPO_ROOT, file) : path.resolve(REPO_ROOT, path.dirname(file), decodeURI(target));
                if (!existsSync(resolved)) {
                    broken.push(`${file}: ${link} (no ${path.relative(REPO_ROOT, resolved)})`);
                    continue;
                }
                if (anchor && resolved.endsWith(".md") && !headingAnchors(readFileSync(resolved, "utf8")).has(anchor)) {
                    broken.push(`${file}: ${link} (no heading #${anchor} in ${path.relative(REPO_ROOT, resolved)})`);
                }
            }
        }
        assert.deepEqual(broken, []);
    });

    it("makes the anchors GitHub makes", () => {
        const anchors = headingAnchors("# Security model\n## User Pool feature plan (`userPoolTier`)\n## Settings AWS would accept, refused here\n## Load\n## Load\n```sh\n# not a heading\n```\n");
        assert.deepEqual([...anchors], ["security-model", "user-pool-feature-plan-userpooltier", "settings-aws-would-accept-refused-here", "load", "load-1"]);
    });
});
