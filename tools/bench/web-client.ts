/**
 * webClient: the reference client's script as the hosted site serves it, taken from the program's
 * own run (the `app-<hash>.js` object NotesSite uploads), in bytes and gzip bytes. The budget is
 * 100 KB gzip (`WEB_CLIENT_GZIP_BUDGET_BYTES`), checked by `checkTargets` and by the site's tests.
 */
import { gzipSync } from "node:zlib";
import type { ProgramRun } from "../engine/program";

/** The script's budget: what a first visit downloads before the app can answer. */
export const WEB_CLIENT_GZIP_BUDGET_BYTES = 100 * 1024;

/** The content-hashed script the site uploads (`aws:s3/bucketObjectv2` with key `app-<hash>.js`). */
export function deployedWebClientScript(run: ProgramRun): { key: string; content: string } {
    const scripts = run.resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && /^app-[A-Z2-7]+\.js$/.test(String(r.inputs.key)));
    if (scripts.length !== 1) throw new Error(`stack ${run.stack}: expected the site to upload one app-<hash>.js, found ${scripts.length} (is site false?)`);
    return { key: scripts[0].inputs.key, content: scripts[0].inputs.content };
}

/** Its size, minified and gzip-compressed (gzip level 9, what CloudFront's compression approaches; Brotli is smaller). */
export function webClientFigures(run: ProgramRun): { scriptBytes: number; scriptGzipBytes: number } {
    const bytes = Buffer.from(deployedWebClientScript(run).content);
    return { scriptBytes: bytes.length, scriptGzipBytes: gzipSync(bytes, { level: 9 }).length };
}
