/**
 * Generated blocks inside hand-written markdown: a block sits between `<!-- <name>:begin … -->`
 * and `<!-- <name>:end -->` lines, so the prose around it stays editable and the command that
 * generates the block rewrites only what lies between them.
 */

export interface Block {
    /** The text between the begin line and the end line. */
    body: string;
    /** Offsets of the body in the document. */
    start: number;
    end: number;
}

const beginPattern = (name: string) => new RegExp(`^<!-- ${escape(name)}:begin\\b.*-->\\n`, "m");
const endLine = (name: string) => `<!-- ${name}:end -->`;

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The generated block named `name` in a document; throws when its markers are missing or repeated. */
export function findBlock(document: string, name: string, file = "the document"): Block {
    const begin = beginPattern(name).exec(document);
    if (!begin) throw new Error(`${file} has no "<!-- ${name}:begin -->" line: add the begin and end markers where the block belongs.`);
    const start = begin.index + begin[0].length;
    const end = document.indexOf(`${endLine(name)}`, start);
    if (end < 0) throw new Error(`${file} has no "${endLine(name)}" line after its begin marker.`);
    if (beginPattern(name).test(document.slice(end))) throw new Error(`${file} has more than one "${name}" block.`);
    return { body: document.slice(start, end), start, end };
}

/** The document with the block named `name` replaced by `body` (a newline is added when missing). */
export function replaceBlock(document: string, name: string, body: string, file?: string): string {
    const block = findBlock(document, name, file);
    const text = body.endsWith("\n") ? body : `${body}\n`;
    return document.slice(0, block.start) + text + document.slice(block.end);
}
