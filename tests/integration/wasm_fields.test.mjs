// wasm_fields.test.mjs - the WebAssembly decoder's field lists equal the native ones, capture by
// capture, packet by packet.
//
// Every pcap/pcapng under NS_PCAPS is read twice: here, by a small pcap/pcapng reader, and
// feeding each frame to netscope_decode.wasm through its exported API (core/include/netscope/
// wasm_api.h); and by the native build (tests/tools/fields_dump, libpcap + ns_decode_frame). For
// each packet the two must agree on the frame (lengths and an FNV-1a of the bytes), the outcome,
// and every field: name, offset, length, depth, type and value text. Run by test_wasm_fields.sh:
//   NS_WASM=path/to/netscope_decode.wasm NS_FIELDS_DUMP=path/to/fields_dump NS_PCAPS=dir
//   node --test wasm_fields.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const WASM = process.env.NS_WASM;
const DUMP = process.env.NS_FIELDS_DUMP;
const PCAPS = process.env.NS_PCAPS;

// ---------------------------------------------------------------- the module

async function loadDecoder(file) {
    const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
    const ex = instance.exports;
    const names = new Map(); // static strings by address
    const mem = () => new Uint8Array(ex.memory.buffer);
    const ascii = (p, n) => {
        const m = mem();
        let s = '';
        for (let i = 0; i < n; i += 8192)
            s += String.fromCharCode.apply(null, m.subarray(p + i, p + Math.min(n, i + 8192)));
        return s;
    };
    const cstring = (p) => {
        let s = names.get(p);
        if (s === undefined) {
            const m = mem();
            s = ascii(p, m.indexOf(0, p) - p);
            names.set(p, s);
        }
        return s;
    };
    const textPtr = ex.ns_wasm_text();
    return {
        ex,
        cstring,
        // Decode one frame; returns the same record fields_dump prints, minus n and linktype.
        decode(linktype, frame, wireLen) {
            const p = ex.ns_wasm_buf(frame.length);
            assert.notEqual(p, 0, `frame of ${frame.length} bytes does not fit`);
            mem().set(frame, p);
            const n = ex.ns_wasm_decode(linktype, frame.length, wireLen);
            assert.ok(n >= 0);
            const fields = new Array(n);
            for (let i = 0; i < n; i++) {
                const tl = ex.ns_wasm_field_text(i);
                fields[i] = [cstring(ex.ns_wasm_field_name(i)), ex.ns_wasm_field_off(i),
                             ex.ns_wasm_field_len(i), ex.ns_wasm_field_depth(i),
                             cstring(ex.ns_wasm_type_name(ex.ns_wasm_field_type(i))),
                             ascii(textPtr, tl)];
            }
            return {
                outcome: cstring(ex.ns_wasm_outcome_name(ex.ns_wasm_outcome())),
                layer: cstring(ex.ns_wasm_layer_name(ex.ns_wasm_err_layer())),
                truncated: ex.ns_wasm_fields_truncated(),
                fields,
            };
        },
    };
}

// ---------------------------------------------------------------- capture files

function fnv1a(b) {
    let h = 0x811c9dc5;
    for (let i = 0; i < b.length; i++)
        h = Math.imul(h ^ b[i], 16777619) >>> 0;
    return h.toString(16).padStart(8, '0');
}

// Frames of a pcap or pcapng file as {linktype, data, wireLen}, read the way libpcap and the
// capture module read them: pcap 2.0-2.2 records have caplen and len swapped (2.3 when caplen >
// len), a record longer than the file's snaplen is cut to it, and the wire length is never
// less than the captured length. Stops quietly at a record that runs past the end of the file
// (libpcap's "truncated dump file", which the capture module ends on). Throws on a non-capture.
function* readCapture(buf) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.length < 24)
        throw new Error('too short for a capture file');
    const magic = dv.getUint32(0, false);
    const pcapMagic = [0xa1b2c3d4, 0xa1b23c4d];
    if (pcapMagic.includes(magic) || pcapMagic.includes(dv.getUint32(0, true))) {
        const le = !pcapMagic.includes(magic);
        const major = dv.getUint16(4, le), minor = dv.getUint16(6, le);
        const swapped = major === 543 || (major === 2 && minor < 3) ? 'yes'
                      : major === 2 && minor === 3 ? 'maybe' : 'no';
        const linktype = dv.getUint32(20, le) & 0x03ffffff;
        let snap = dv.getUint32(16, le);
        if (snap === 0 || snap > 262144)
            snap = 262144;
        for (let off = 24; off + 16 <= buf.length;) {
            let incl = dv.getUint32(off + 8, le);
            let orig = dv.getUint32(off + 12, le);
            if (swapped === 'yes' || (swapped === 'maybe' && incl > orig))
                [incl, orig] = [orig, incl];
            if (incl > 262144 || off + 16 + incl > buf.length)
                return;
            const cap = Math.min(incl, snap);
            yield { linktype, data: buf.subarray(off + 16, off + 16 + cap),
                    wireLen: Math.max(orig, cap) };
            off += 16 + incl;
        }
        return;
    }
    if (magic !== 0x0a0d0d0a)
        throw new Error('not a pcap or pcapng file');
    let le = true;
    let ifaces = [];
    for (let off = 0; off + 12 <= buf.length;) {
        let type = dv.getUint32(off, le);
        if (type === 0x0a0d0d0a) {
            le = dv.getUint32(off + 8, true) === 0x1a2b3c4d;
            ifaces = [];
        }
        const blen = dv.getUint32(off + 4, le);
        if (blen < 12 || off + blen > buf.length)
            return;
        if (type === 1) {
            ifaces.push({ linktype: dv.getUint16(off + 8, le), snap: dv.getUint32(off + 12, le) });
        } else if (type === 6 || type === 2) { // enhanced / obsolete packet block
            const id = type === 6 ? dv.getUint32(off + 8, le) : dv.getUint16(off + 8, le);
            const incl = dv.getUint32(off + 20, le);
            const orig = dv.getUint32(off + 24, le);
            const iface = ifaces[id];
            if (iface === undefined || 28 + incl > blen)
                throw new Error(`bad packet block at ${off}`);
            yield { linktype: iface.linktype, data: buf.subarray(off + 28, off + 28 + incl),
                    wireLen: Math.max(orig, incl) };
        } else if (type === 3) { // simple packet block: interface 0
            const orig = dv.getUint32(off + 8, le);
            const iface = ifaces[0];
            let incl = Math.min(orig, blen - 16);
            if (iface && iface.snap)
                incl = Math.min(incl, iface.snap);
            yield { linktype: iface.linktype, data: buf.subarray(off + 12, off + 12 + incl),
                    wireLen: Math.max(orig, incl) };
        }
        off += blen;
    }
}

function captures(dir) {
    const out = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory())
            out.push(...captures(p));
        else if (/\.(pcap|pcapng|cap)$/.test(e.name))
            out.push(p);
    }
    return out.sort();
}

// ---------------------------------------------------------------- the test

// The first difference between two records, as a sentence.
function firstDiff(nat, wasm) {
    for (const k of ['cap_len', 'wire_len', 'fnv', 'outcome', 'layer', 'truncated']) {
        if (nat[k] !== wasm[k])
            return `${k}: native ${nat[k]}, wasm ${wasm[k]}`;
    }
    const n = Math.max(nat.fields.length, wasm.fields.length);
    for (let i = 0; i < n; i++) {
        const a = JSON.stringify(nat.fields[i]);
        const b = JSON.stringify(wasm.fields[i]);
        if (a !== b)
            return `field ${i}: native ${a}, wasm ${b}`;
    }
    return 'records differ';
}

test('wasm and native field lists agree on every capture', async (t) => {
    if (!WASM || !DUMP || !PCAPS)
        return t.skip('NS_WASM, NS_FIELDS_DUMP and NS_PCAPS are needed');
    const dec = await loadDecoder(WASM);
    const ex = dec.ex;
    assert.equal(ex.ns_wasm_abi_version(), 1);
    assert.equal(ex.ns_wasm_buf(ex.ns_wasm_buf_cap() + 1), 0);
    assert.equal(dec.cstring(ex.ns_wasm_layer_name(0)), 'eth');
    assert.equal(dec.cstring(ex.ns_wasm_outcome_name(1)), 'truncated');

    const t0 = process.hrtime.bigint();
    let files = 0, packets = 0, fields = 0, unreadable = 0;
    const failures = [];
    for (const file of captures(PCAPS)) {
        const rel = path.relative(PCAPS, file);
        const nat = spawnSync(DUMP, [file], { maxBuffer: 1 << 30, encoding: 'utf8' });
        const natLines = nat.stdout.split('\n');
        natLines.pop(); // after the last newline
        let frames;
        try {
            frames = [...readCapture(fs.readFileSync(file))];
        } catch (e) {
            frames = null;
            if (natLines.length === 0) { // neither reader takes it: nothing to compare
                unreadable++;
                continue;
            }
            failures.push(`${rel}: native read ${natLines.length} packets, JS reader: ${e.message}`);
            continue;
        }
        files++;
        if (frames.length !== natLines.length) {
            failures.push(`${rel}: native read ${natLines.length} packets, JS ${frames.length}` +
                          (nat.stderr ? ` (${nat.stderr.trim()})` : ''));
        }
        const n = Math.min(frames.length, natLines.length);
        for (let i = 0; i < n; i++) {
            const f = frames[i];
            const w = dec.decode(f.linktype, f.data, f.wireLen);
            const line = `{"n":${i + 1},"linktype":${f.linktype},"cap_len":${f.data.length},` +
                `"wire_len":${f.wireLen},"fnv":"${fnv1a(f.data)}","outcome":"${w.outcome}",` +
                `"layer":"${w.layer}","truncated":${w.truncated},"fields":` +
                `${JSON.stringify(w.fields)}}`;
            packets++;
            fields += w.fields.length;
            if (line !== natLines[i]) {
                const nrec = JSON.parse(natLines[i]);
                const wrec = JSON.parse(line);
                // libpcap renumbers a few LINKTYPE_ values as its DLT_ ones (100 -> 11, ...);
                // for link types neither side decodes, that is the only difference allowed.
                if (nrec.linktype !== wrec.linktype && nrec.fields.length === 0 &&
                    wrec.fields.length === 0 && nrec.outcome === 'unsupported') {
                    nrec.linktype = wrec.linktype;
                    if (JSON.stringify(nrec) === JSON.stringify(wrec))
                        continue;
                }
                failures.push(`${rel} packet ${i + 1}: ` +
                              (nrec.linktype !== wrec.linktype
                                   ? `linktype: native ${nrec.linktype}, wasm ${wrec.linktype}`
                                   : firstDiff(nrec, wrec)));
                if (failures.length > 50)
                    break;
            }
        }
        if (failures.length > 50)
            break;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    t.diagnostic(`${files} captures (${unreadable} unreadable by both), ${packets} packets, ` +
                 `${fields} fields compared in ${secs.toFixed(1)} s`);
    console.log(`wasm_fields: ${files} captures (${unreadable} unreadable by both), ` +
                `${packets} packets, ${fields} fields compared in ${secs.toFixed(1)} s`);
    assert.ok(packets > 0, 'no packets compared');
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} differences`);
});
