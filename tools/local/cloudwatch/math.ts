/**
 * CloudWatch metric math, as far as alarms of this kind use it, evaluated one period at a time:
 * numbers, metric ids, `+ - * /`, parentheses, and the functions SUM, AVG, MIN, MAX (of an array
 * `[a, b]` or `METRICS()`: the defined values at that period), and FILL(x, value). A missing
 * datapoint is `undefined`; arithmetic on a missing datapoint is missing, as CloudWatch aligns
 * series by timestamp.
 */
type Node =
    | { kind: "number"; value: number }
    | { kind: "id"; name: string }
    | { kind: "binary"; op: string; left: Node; right: Node }
    | { kind: "negate"; operand: Node }
    | { kind: "call"; name: string; args: Node[] }
    | { kind: "array"; items: Node[] };

export class MathError extends Error {}

const AGGREGATES: Record<string, (values: number[]) => number> = {
    SUM: (v) => v.reduce((a, b) => a + b, 0),
    AVG: (v) => v.reduce((a, b) => a + b, 0) / v.length,
    MIN: (v) => Math.min(...v),
    MAX: (v) => Math.max(...v),
};

function tokenize(text: string): string[] {
    const tokens: string[] = [];
    const pattern = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),[\]]))/y;
    let at = 0;
    while (at < text.length) {
        if (/^\s*$/.test(text.slice(at))) break;
        pattern.lastIndex = at;
        const match = pattern.exec(text);
        if (!match) throw new MathError(`cannot read "${text.slice(at, at + 20)}"`);
        tokens.push(match[1] ?? match[2] ?? match[3]);
        at = pattern.lastIndex;
    }
    return tokens;
}

/** Parses an expression; throws MathError naming what is not understood. */
export function parseExpression(text: string): Node {
    const tokens = tokenize(text);
    let i = 0;
    const peek = () => tokens[i];
    const take = (expected?: string) => {
        const token = tokens[i++];
        if (expected !== undefined && token !== expected) throw new MathError(`expected "${expected}" in ${text}, found ${token ?? "the end"}`);
        return token;
    };
    const list = (close: string): Node[] => {
        const items: Node[] = [];
        if (peek() === close) {
            take(close);
            return items;
        }
        for (;;) {
            items.push(sum());
            if (peek() === ",") take(",");
            else break;
        }
        take(close);
        return items;
    };
    const primary = (): Node => {
        const token = take();
        if (token === undefined) throw new MathError(`${text} ends too early`);
        if (token === "(") {
            const inner = sum();
            take(")");
            return inner;
        }
        if (token === "[") return { kind: "array", items: list("]") };
        if (token === "-") return { kind: "negate", operand: primary() };
        if (/^\d/.test(token)) return { kind: "number", value: Number(token) };
        if (/^[A-Za-z_]/.test(token)) {
            if (peek() === "(") {
                take("(");
                const name = token.toUpperCase();
                if (name !== "METRICS" && name !== "FILL" && !(name in AGGREGATES)) throw new MathError(`function ${token} is not evaluated locally`);
                return { kind: "call", name, args: list(")") };
            }
            return { kind: "id", name: token };
        }
        throw new MathError(`unexpected "${token}" in ${text}`);
    };
    const product = (): Node => {
        let left = primary();
        while (peek() === "*" || peek() === "/") left = { kind: "binary", op: take(), left, right: primary() };
        return left;
    };
    const sum = (): Node => {
        let left = product();
        while (peek() === "+" || peek() === "-") left = { kind: "binary", op: take(), left, right: product() };
        return left;
    };
    const node = sum();
    if (i < tokens.length) throw new MathError(`unexpected "${tokens[i]}" in ${text}`);
    return node;
}

/** The ids an expression reads (METRICS() reads every metric). */
export function referencedIds(node: Node): string[] {
    switch (node.kind) {
        case "id":
            return [node.name];
        case "binary":
            return [...referencedIds(node.left), ...referencedIds(node.right)];
        case "negate":
            return referencedIds(node.operand);
        case "call":
        case "array":
            return ("args" in node ? node.args : node.items).flatMap(referencedIds);
        default:
            return [];
    }
}

/**
 * The expression's value at one period. `values` holds each query id's value there (undefined:
 * missing); `metricIds` are the ids METRICS() stands for.
 */
export function evaluate(node: Node, values: Record<string, number | undefined>, metricIds: string[]): number | undefined {
    const many = (n: Node): (number | undefined)[] => {
        if (n.kind === "array") return n.items.map((item) => evaluate(item, values, metricIds));
        if (n.kind === "call" && n.name === "METRICS") return metricIds.map((id) => values[id]);
        return [evaluate(n, values, metricIds)];
    };
    switch (node.kind) {
        case "number":
            return node.value;
        case "id":
            if (!(node.name in values)) throw new MathError(`no query has the id ${node.name}`);
            return values[node.name];
        case "negate": {
            const value = evaluate(node.operand, values, metricIds);
            return value === undefined ? undefined : -value;
        }
        case "binary": {
            const left = evaluate(node.left, values, metricIds);
            const right = evaluate(node.right, values, metricIds);
            if (left === undefined || right === undefined) return undefined;
            if (node.op === "+") return left + right;
            if (node.op === "-") return left - right;
            if (node.op === "*") return left * right;
            return right === 0 ? undefined : left / right;
        }
        case "array":
            throw new MathError("an array is only an argument of SUM, AVG, MIN or MAX");
        case "call": {
            if (node.name === "FILL") {
                if (node.args.length !== 2) throw new MathError("FILL takes a series and a value");
                const value = evaluate(node.args[0], values, metricIds);
                return value ?? evaluate(node.args[1], values, metricIds);
            }
            if (node.name === "METRICS") throw new MathError("METRICS() is only an argument of SUM, AVG, MIN or MAX");
            const defined = node.args.flatMap(many).filter((v): v is number => v !== undefined);
            return defined.length === 0 ? undefined : AGGREGATES[node.name](defined);
        }
    }
}
