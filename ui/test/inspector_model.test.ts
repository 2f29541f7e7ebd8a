// inspector_model.test.ts - the inspector's pure helpers (src/inspector/model.ts) on hand-made
// field lists: tree nesting, byte -> field and field -> bytes, hex rows, summaries, times.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ancestors, asciiChar, buildTree, fieldAtByte, fieldRange, hex2, hexOffset, hexRows, relTime, summarize } from '../src/inspector/model';
import type { TreeNode } from '../src/inspector/model';
import type { Field } from '../src/inspector/wasm';

const F = (name: string, off: number, len: number, depth: number, text = '', type = text === '' ? 'proto' : 'str'): Field =>
    ({ name, off, len, depth, type, text });

// eth [0,14) > dst, src, type; ip [14,34) > flags [20,22) > df [20,21) (depth 2); tcp [34,54).
const FIELDS: Field[] = [
    F('eth', 0, 14, 0),
    F('eth.dst', 0, 6, 1, '00:11:22:33:44:66', 'mac'),
    F('eth.src', 6, 6, 1, '00:11:22:33:44:55', 'mac'),
    F('eth.type', 12, 2, 1, '0x0800', 'hex'),
    F('ip', 14, 20, 0),
    F('ip.flags', 20, 2, 1, '0x02', 'hex'),
    F('ip.flags.df', 20, 1, 2, 'true', 'bool'),
    F('ip.src', 26, 4, 1, '10.0.0.1', 'ipv4'),
    F('ip.dst', 30, 4, 1, '10.0.0.2', 'ipv4'),
    F('tcp', 34, 20, 0),
    F('tcp.srcport', 34, 2, 1, '443', 'uint'),
    F('tcp.dstport', 36, 2, 1, '51000', 'uint'),
];

const shape = (nodes: TreeNode[]): unknown[] => nodes.map((n) => (n.children.length ? [n.field.name, shape(n.children)] : n.field.name));

test('buildTree nests fields by depth', () => {
    assert.deepEqual(shape(buildTree(FIELDS)), [
        ['eth', ['eth.dst', 'eth.src', 'eth.type']],
        ['ip', [['ip.flags', ['ip.flags.df']], 'ip.src', 'ip.dst']],
        ['tcp', ['tcp.srcport', 'tcp.dstport']],
    ]);
    // A jump of two levels nests under the nearest shallower field; leading deep fields are roots.
    assert.deepEqual(shape(buildTree([F('a.x', 0, 1, 2, 'v'), F('b', 0, 4, 0), F('b.y', 0, 1, 3, 'v'), F('b.z', 1, 1, 1, 'v')])),
                     ['a.x', ['b', ['b.y', 'b.z']]]);
    assert.deepEqual(buildTree([]), []);
    // Indices point back into the list.
    const tree = buildTree(FIELDS);
    assert.equal(tree[1].children[0].children[0].index, 6);
});

test('fieldAtByte picks the deepest, then narrowest, field covering a byte', () => {
    const at = (b: number) => {
        const i = fieldAtByte(FIELDS, b);
        return i < 0 ? null : FIELDS[i].name;
    };
    assert.equal(at(0), 'eth.dst');
    assert.equal(at(13), 'eth.type');
    assert.equal(at(20), 'ip.flags.df');
    assert.equal(at(21), 'ip.flags');
    assert.equal(at(15), 'ip'); // only the protocol node covers it
    assert.equal(at(29), 'ip.src');
    assert.equal(at(54), null);
    assert.equal(at(-1), null);
    // Equal depth: the narrower wins, then the later one.
    const eq = [F('p', 0, 8, 0), F('p.a', 0, 4, 1, 'x'), F('p.b', 0, 2, 1, 'y'), F('p.c', 0, 2, 1, 'z')];
    assert.equal(fieldAtByte(eq, 1), 3);
    assert.equal(fieldAtByte(eq, 3), 1);
    // Zero-length fields cover nothing.
    assert.equal(fieldAtByte([F('e', 4, 0, 1, 'x')], 4), -1);
});

test('field -> bytes -> field maps back onto a field covering the same bytes', () => {
    FIELDS.forEach((f, i) => {
        const [s, e] = fieldRange(f, 60);
        for (let b = s; b < e; b++) {
            const j = fieldAtByte(FIELDS, b);
            assert.ok(j >= 0 && FIELDS[j].off <= b && b < FIELDS[j].off + FIELDS[j].len, `${f.name} byte ${b}`);
            assert.ok(FIELDS[j].depth >= f.depth, `${f.name} byte ${b}: ${FIELDS[j].name} is shallower`);
        }
        if (f.name === 'ip.src')
            assert.equal(fieldAtByte(FIELDS, s), i);
    });
    assert.deepEqual(fieldRange(F('x', 10, 10, 1, 'v'), 15), [10, 15]); // clipped to the frame
    assert.deepEqual(fieldRange(F('x', 20, 4, 1, 'v'), 15), [15, 15]);
});

test('ancestors lists the way from the root', () => {
    assert.deepEqual(ancestors(FIELDS, 6), [4, 5]);
    assert.deepEqual(ancestors(FIELDS, 10), [9]);
    assert.deepEqual(ancestors(FIELDS, 0), []);
    assert.deepEqual(ancestors(FIELDS, 99), []);
});

test('hex rows, bytes and offsets', () => {
    const data = Uint8Array.from({ length: 37 }, (_, i) => i * 5);
    const rows = hexRows(data);
    assert.deepEqual(rows.map((r) => [r.offset, r.bytes.length]), [[0, 16], [16, 16], [32, 5]]);
    assert.equal(rows[2].bytes[4], 36 * 5 & 0xff);
    assert.equal(hexRows(data, 16, 2).length, 2);
    assert.equal(hexRows(new Uint8Array(0)).length, 0);
    assert.deepEqual([hex2(0), hex2(10), hex2(255)], ['00', '0a', 'ff']);
    assert.equal(hexOffset(0x1a0), '01a0');
    assert.equal([0x41, 0x20, 0x7e, 0x7f, 0x00, 0xe9, 0x3c].map(asciiChar).join(''), 'A ~...<');
});

test('summaries: innermost protocol, endpoints, outcome', () => {
    const ok = { outcome: 'ok', layer: 'eth', fieldsTruncated: false };
    assert.equal(summarize({ ...ok, fields: FIELDS }), 'TCP 10.0.0.1:443 \u2192 10.0.0.2:51000');
    const v6 = [F('ipv6', 0, 40, 0), F('ipv6.src', 8, 16, 1, '2001:db8::1', 'ipv6'), F('ipv6.dst', 24, 16, 1, '2001:db8::2', 'ipv6'),
                F('udp', 40, 8, 0), F('udp.srcport', 40, 2, 1, '53', 'uint'), F('udp.dstport', 42, 2, 1, '5353', 'uint'), F('dns', 48, 12, 0)];
    assert.equal(summarize({ ...ok, fields: v6 }), 'DNS [2001:db8::1]:53 \u2192 [2001:db8::2]:5353');
    assert.equal(summarize({ outcome: 'truncated', layer: 'ip', fieldsTruncated: false, fields: FIELDS.slice(0, 4) }),
                 'ETH 00:11:22:33:44:55 \u2192 00:11:22:33:44:66 [truncated ip]');
    assert.equal(summarize({ outcome: 'unsupported', layer: 'eth', fieldsTruncated: false, fields: [] }), '[unsupported]');
});

test('relative times', () => {
    assert.equal(relTime(100, 500_000_000, 100, 0), '0.500000');
    assert.equal(relTime(101, 100_000, 100, 900_000_000), '0.100100');
    assert.equal(relTime(100, 0, 100, 0), '0.000000');
    assert.equal(relTime(99, 0, 100, 250_000_000), '-1.250000');
    assert.equal(relTime(1_700_000_123, 999_999_999, 1_700_000_000, 0), '123.999999');
});
