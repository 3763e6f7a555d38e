/**
 * CloudWatch Logs metric filter patterns, as far as JSON log lines need them: a JSON pattern
 * `{ $.a = "x" && $.b >= 500 || $.c != * }` (comparisons joined by `&&` and `||`, `&&` binding
 * tighter; strings with `*` wildcards, numbers, `IS TRUE`/`IS FALSE`/`IS NULL`, `NOT EXISTS`), or
 * a term pattern (every term, quoted or not, must appear; `""` matches every event).
 */
export type LogMatcher = (line: string) => boolean;

export class PatternError extends Error {}

type Comparison = (event: unknown) => boolean;

function select(event: unknown, path: string): unknown {
    let value: unknown = event;
    for (const part of path.split(".").filter(Boolean)) {
        const indexed = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
        if (!indexed) return undefined;
        if (indexed[1]) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[indexed[1]] : undefined;
        for (const index of indexed[2].matchAll(/\[(\d+)\]/g)) value = Array.isArray(value) ? value[Number(index[1])] : undefined;
    }
    return value;
}

function wildcard(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "s");
}

function comparison(text: string): Comparison {
    const special = /^\$(\.[\w.[\]]*)\s+(IS\s+TRUE|IS\s+FALSE|IS\s+NULL|NOT\s+EXISTS)$/i.exec(text.trim());
    if (special) {
        const [, path, test] = special;
        const kind = test.toUpperCase().replace(/\s+/g, " ");
        return (event) => {
            const value = select(event, path);
            if (kind === "IS TRUE") return value === true;
            if (kind === "IS FALSE") return value === false;
            if (kind === "IS NULL") return value === null;
            return value === undefined;
        };
    }
    const match = /^\$(\.[\w.[\]]*)\s*(=|!=|>=|<=|>|<)\s*(.+)$/.exec(text.trim());
    if (!match) throw new PatternError(`cannot read the comparison "${text.trim()}"`);
    const [, path, op, raw] = match;
    const operand = raw.trim();
    const quoted = /^"(.*)"$/.exec(operand);
    const number = Number(operand);
    if (!quoted && operand !== "*" && !Number.isNaN(number)) {
        return (event) => {
            const value = select(event, path);
            if (typeof value !== "number") return op === "!=" && value !== undefined;
            switch (op) {
                case "=":
                    return value === number;
                case "!=":
                    return value !== number;
                case ">":
                    return value > number;
                case "<":
                    return value < number;
                case ">=":
                    return value >= number;
                default:
                    return value <= number;
            }
        };
    }
    if (op !== "=" && op !== "!=") throw new PatternError(`${op} compares numbers, not "${operand}"`);
    const expected = wildcard(quoted ? quoted[1] : operand);
    return (event) => {
        const value = select(event, path);
        if (value === undefined || (value !== null && typeof value === "object")) return false;
        const equal = expected.test(String(value));
        return op === "=" ? equal : !equal;
    };
}

/** Compiles a filter pattern; throws PatternError when it is not one this matcher reads. */
export function compilePattern(pattern: string): LogMatcher {
    const text = pattern.trim();
    if (text.startsWith("{")) {
        if (!text.endsWith("}")) throw new PatternError(`a JSON pattern ends with "}": ${text}`);
        const body = text.slice(1, -1);
        if (/[()]/.test(body.replace(/"[^"]*"/g, ""))) throw new PatternError("parentheses in a JSON pattern are not evaluated locally");
        const alternatives = body.split("||").map((alt) => alt.split("&&").map(comparison));
        return (line) => {
            let event: unknown;
            try {
                event = JSON.parse(line);
            } catch {
                return false;
            }
            if (event === null || typeof event !== "object") return false;
            return alternatives.some((all) => all.every((test) => test(event)));
        };
    }
    const terms = [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]).filter((t) => t !== "");
    return (line) => terms.every((term) => line.includes(term));
}
