// inspector_wasm.test.ts - the inspector's decoder wrapper (src/inspector/wasm.ts) on the real
// netscope_decode.wasm: frames read by the inspector's own pcap reader decode to the same field
// lists as the native build prints (tests/tools/fields_dump), and the tree and byte mapping hold
// on real field lists. Skipped when the .wasm is not built (NS_WASM or a build dir upwards).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { buildTree, fieldAtByte, fieldRange, summarize } from '../src/inspector/model';
import type { TreeNode } from '../src/inspector/model';
import { readCapture } from '../src/inspector/pcap';
import { Decoder } from '../src/inspector/wasm';
import type { Decoded } from '../src/inspector/wasm';
import { fieldsDump, pcapsDir, readBytes, run, wasmFile } from './inspector_env';

const WASM = wasmFile();
const PCAPS = pcapsDir();
const FILES = ['tcpdump/dns_tcp.pcap', 'ndpi/quic-v2.pcapng', 'ndpi/sites.pcapng', 'tcpdump/tcp-handshake-nano.pcap'];

/* One line of fields_dump's output. */
interface NativeRecord {
    outcome: string;
    layer: string;
    truncated: number;
    fields: [string, number, number, number, string, string][];
}

async function decoder(): Promise<Decoder> {
    return Decoder.fromBytes(fs.readFileSync(WASM as string));
}

function decodeFile(dec: Decoder, file: string): Decoded[] {
    const r = readCapture(readBytes(file));
    assert.ok(r.ok, r.ok ? '' : r.error);
    return r.packets.map((p) => dec.decode(p.linktype, p.data, p.wireLen));
}

test('the module loads, and a module that is not the decoder is refused with a sentence', async (t) => {
    if (!WASM)
        return t.skip('netscope_decode.wasm not built (make build, or NS_WASM)');
    const dec = await decoder();
    assert.equal(dec.bufCap, 262144);
    // The smallest valid module: no exports at all.
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    await assert.rejects(Decoder.fromBytes(empty), /lacks the export memory/);
    await assert.rejects(Decoder.fromBytes(new Uint8Array([1, 2, 3])));
    // A frame over the module's buffer is not decoded.
    const big = dec.decode(1, new Uint8Array(dec.bufCap + 1), dec.bufCap + 1);
    assert.deepEqual([big.outcome, big.fields.length], ['too big', 0]);
    // An unknown link type is "unsupported" with no fields.
    const unk = dec.decode(65000, new Uint8Array(40), 40);
    assert.deepEqual([unk.outcome, unk.fields.length], ['unsupported', 0]);
});

test('field lists equal the native decoder\'s, packet by packet', async (t) => {
    if (!WASM || !PCAPS)
        return t.skip('needs netscope_decode.wasm and the captures');
    const dump = fieldsDump(WASM);
    if (!dump)
        return t.skip('tests/tools/fields_dump not built next to the .wasm');
    const dec = await decoder();
    let packets = 0;
    for (const rel of FILES) {
        const file = path.join(PCAPS, rel);
        const native: NativeRecord[] = run(dump, [file]).stdout.trim().split('\n').map((l) => JSON.parse(l) as NativeRecord);
        const mine = decodeFile(dec, file);
        assert.equal(mine.length, native.length, rel);
        mine.forEach((d, i) => {
            const n = native[i];
            assert.deepEqual([d.outcome, d.layer, d.fieldsTruncated ? 1 : 0], [n.outcome, n.layer, n.truncated], `${rel} ${i + 1}`);
            assert.deepEqual(d.fields.map((f) => [f.name, f.off, f.len, f.depth, f.type, f.text]), n.fields, `${rel} ${i + 1}`);
        });
        packets += mine.length;
    }
    t.diagnostic(`${packets} packets compared`);
    assert.ok(packets > 0);
});

function flatten(nodes: TreeNode[], out: number[] = []): number[] {
    for (const n of nodes) {
        out.push(n.index);
        for (const c of n.children)
            assert.ok(c.field.depth > n.field.depth, `${c.field.name} under ${n.field.name}`);
        flatten(n.children, out);
    }
    return out;
}

test('tree and byte mapping on real frames', async (t) => {
    if (!WASM || !PCAPS)
        return t.skip('needs netscope_decode.wasm and the captures');
    const dec = await decoder();
    let bytes = 0;
    for (const rel of FILES) {
        const r = readCapture(readBytes(path.join(PCAPS, rel)));
        assert.ok(r.ok);
        r.packets.slice(0, 40).forEach((p, k) => {
            const d = dec.decode(p.linktype, p.data, p.wireLen);
            const f = d.fields;
            // The tree holds every field once, in list order, children deeper than parents.
            const tree = buildTree(f);
            assert.deepEqual(flatten(tree), f.map((_, i) => i), `${rel} ${k + 1}`);
            assert.ok(tree.every((n) => n.field.type === 'proto'), `${rel} ${k + 1}: a root is not a protocol`);
            // A byte selects a field that covers it, and none covering it is deeper.
            for (let b = 0; b < p.data.length; b++) {
                const i = fieldAtByte(f, b);
                const covering = f.filter((x) => x.len > 0 && x.off <= b && b < x.off + x.len);
                if (covering.length === 0) {
                    assert.equal(i, -1);
                    continue;
                }
                assert.ok(i >= 0 && covering.includes(f[i]));
                assert.equal(f[i].depth, Math.max(...covering.map((x) => x.depth)), `${rel} ${k + 1} byte ${b}`);
                bytes++;
            }
            // Every field's bytes lie inside the captured frame.
            for (const x of f)
                assert.deepEqual(fieldRange(x, p.data.length), [x.off, x.off + x.len], `${rel} ${k + 1} ${x.name}`);
        });
    }
    t.diagnostic(`${bytes} bytes mapped`);
    // The first DNS-over-TCP packet, as tshark shows it: 192.168.1.11:33779 -> 209.87.249.18:53.
    const first = decodeFile(dec, path.join(PCAPS, FILES[0]))[0];
    assert.equal(summarize(first), 'TCP 192.168.1.11:33779 \u2192 209.87.249.18:53');
    assert.equal(first.fields[fieldAtByte(first.fields, 28)].name, 'ip.src');
    assert.equal(first.fields[fieldAtByte(first.fields, 36)].name, 'tcp.dstport');
});
