// model.ts - the inspector's pure logic: the protocol tree, field <-> byte mapping, hex rows,
// packet summaries and times. No DOM here, so node tests cover all of it.

import type { Decoded, Field } from './wasm';

/** A tree node: field `index` of the decoded list and the fields nested under it. */
export interface TreeNode {
    index: number;
    field: Field;
    children: TreeNode[];
}

/**
 * Nest a field list by depth: a field belongs under the nearest earlier field of smaller
 * depth (the decoder emits protocol nodes at depth 0 and their fields after them, deeper).
 * A jump of more than one level is nested under that nearest field all the same.
 */
export function buildTree(fields: readonly Field[]): TreeNode[] {
    const roots: TreeNode[] = [];
    const stack: TreeNode[] = [];
    fields.forEach((field, index) => {
        const node: TreeNode = { index, field, children: [] };
        while (stack.length > 0 && stack[stack.length - 1].field.depth >= field.depth)
            stack.pop();
        if (stack.length === 0)
            roots.push(node);
        else
            stack[stack.length - 1].children.push(node);
        stack.push(node);
    });
    return roots;
}

/** The byte range [start, end) field `f` covers, clipped to a frame of `frameLen` bytes. */
export function fieldRange(f: Field, frameLen: number): [number, number] {
    const start = Math.min(Math.max(0, f.off), frameLen);
    const end = Math.min(Math.max(start, f.off + f.len), frameLen);
    return [start, end];
}

/**
 * The field a click on byte `byte` selects: of the fields covering it, the deepest; among
 * equally deep ones the narrowest, then the last in the list (the most specific the decoder
 * wrote). Returns its index, or -1 when no field covers the byte.
 */
export function fieldAtByte(fields: readonly Field[], byte: number): number {
    let best = -1;
    for (let i = 0; i < fields.length; i++) {
        const f = fields[i];
        if (f.len <= 0 || byte < f.off || byte >= f.off + f.len)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        const b = fields[best];
        if (f.depth > b.depth || (f.depth === b.depth && f.len <= b.len))
            best = i;
    }
    return best;
}

/** The indices of `index`'s ancestors in the tree of `fields` (outermost first). */
export function ancestors(fields: readonly Field[], index: number): number[] {
    const out: number[] = [];
    if (index < 0 || index >= fields.length)
        return out;
    let depth = fields[index].depth;
    for (let i = index - 1; i >= 0 && depth > 0; i--) {
        if (fields[i].depth < depth) {
            out.unshift(i);
            depth = fields[i].depth;
        }
    }
    return out;
}

/** One line of a hex dump: the offset of its first byte and the bytes it shows. */
export interface HexRow {
    offset: number;
    bytes: Uint8Array;
}

/** Split `data` into rows of `width` bytes, at most `maxRows` of them. */
export function hexRows(data: Uint8Array, width = 16, maxRows = Infinity): HexRow[] {
    const rows: HexRow[] = [];
    for (let off = 0; off < data.length && rows.length < maxRows; off += width)
        rows.push({ offset: off, bytes: data.subarray(off, Math.min(off + width, data.length)) });
    return rows;
}

export function hex2(b: number): string {
    return (b < 16 ? '0' : '') + b.toString(16);
}

export function hexOffset(off: number): string {
    return off.toString(16).padStart(4, '0');
}

/** A byte as the dump's ASCII column shows it: printable ASCII as itself, the rest as '.'. */
export function asciiChar(b: number): string {
    return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

function fieldText(fields: readonly Field[], name: string): string | undefined {
    // The last one: with tunnels, the innermost header is the one the flow is about.
    for (let i = fields.length - 1; i >= 0; i--) {
        if (fields[i].name === name)
            return fields[i].text;
    }
    return undefined;
}

/**
 * A one-line summary of a decoded frame: its innermost protocol, then addresses and ports
 * ("TCP 10.0.0.1:443 -> 10.0.0.2:51000"), and the outcome when it is not "ok".
 */
export function summarize(d: Decoded): string {
    const f = d.fields;
    const protos = f.filter((x) => x.type === 'proto').map((x) => x.name);
    const top = protos.length > 0 ? protos[protos.length - 1].toUpperCase() : '';
    const src = fieldText(f, 'ipv6.src') ?? fieldText(f, 'ip.src');
    const dst = fieldText(f, 'ipv6.dst') ?? fieldText(f, 'ip.dst');
    const l4 = protos.includes('tcp') ? 'tcp' : protos.includes('udp') ? 'udp' : '';
    const sport = l4 ? fieldText(f, `${l4}.srcport`) : undefined;
    const dport = l4 ? fieldText(f, `${l4}.dstport`) : undefined;
    const ep = (a: string, p: string | undefined) => (p === undefined ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
    let s = top;
    if (src !== undefined && dst !== undefined)
        s += ` ${ep(src, sport)} \u2192 ${ep(dst, dport)}`;
    else if (f.length > 0 && f[0].type === 'proto') {
        const es = fieldText(f, 'eth.src');
        const ed = fieldText(f, 'eth.dst');
        if (es !== undefined && ed !== undefined)
            s += ` ${es} \u2192 ${ed}`;
    }
    if (d.outcome !== 'ok')
        s += ` [${d.outcome}${d.outcome === 'unsupported' && f.length === 0 ? '' : ` ${d.layer}`}]`;
    return s.trim();
}

/** Seconds from `t0` to a packet's time, as "12.345678". */
export function relTime(tsSec: number, tsNsec: number, t0Sec: number, t0Nsec: number): string {
    let sec = tsSec - t0Sec;
    let nsec = tsNsec - t0Nsec;
    if (nsec < 0) {
        nsec += 1_000_000_000;
        sec -= 1;
    }
    const neg = sec < 0;
    if (neg) {
        // Show -(t0 - t) the same way, rather than a negative fraction.
        sec = -sec - (nsec > 0 ? 1 : 0);
        nsec = nsec > 0 ? 1_000_000_000 - nsec : 0;
    }
    return `${neg ? '-' : ''}${sec}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}`;
}
