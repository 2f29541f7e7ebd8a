// inspector_pcap.test.ts - the inspector's capture reader and writer (src/inspector/pcap.ts):
// real captures read like Wireshark reads them, hostile bytes never escape as exceptions,
// pcapng's per-interface link types and clocks, and the pcap writer's round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MAX_CAPLEN, readCapture, writePcap } from '../src/inspector/pcap';
import type { CaptureResult, Packet } from '../src/inspector/pcap';
import { captures, pcapsDir, prng, readBytes, run, tool } from './inspector_env';

const PCAPS = pcapsDir();
const CAPINFOS = tool('capinfos');
const TSHARK = tool('tshark');

/* Counts verified with capinfos 4.0.17 (Debian 12), used when Wireshark's tools are absent:
 * classic pcap both byte orders and nanoseconds, pcapng with several interfaces of different
 * if_tsresol, and link type 113 (Linux cooked). */
const KNOWN: Record<string, number> = {
    'ndpi/stun.pcap': 201,
    'ndpi/sites.pcapng': 699,
    'tcpdump/tcp-handshake-nano.pcap': 3,
    'ndpi/nfsv3.pcap': 128,
    'ndpi/quic-v2.pcapng': 19,
    'tcpdump/dns_tcp.pcap': 11,
    'ndpi/dtls.pcap': 24,
};
/* Files whose every packet the tests check against tshark, field by field. */
const SAMPLE = Object.keys(KNOWN);

/* tshark's time, wire length, captured length and protocol stack of every packet of `file`, one
 * tab-separated line each (cached: each tshark start costs about a second). */
const tsharkCache = new Map<string, string[]>();
function tsharkLines(file: string): string[] {
    let lines = tsharkCache.get(file);
    if (lines === undefined) {
        const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols'].flatMap((f) => ['-e', f]);
        lines = run(TSHARK as string, ['-r', file, '-T', 'fields', ...fields]).stdout.trim().split('\n');
        tsharkCache.set(file, lines);
    }
    return lines;
}

/* The first `n` columns of tshark lines. */
const columns = (lines: string[], n: number) => lines.map((l) => l.split('\t').slice(0, n).join('\t'));

function mustRead(buf: Uint8Array, what: string): Extract<CaptureResult, { ok: true }> {
    const r = readCapture(buf);
    assert.ok(r.ok, `${what}: ${r.ok ? '' : r.error}`);
    return r;
}

/* The invariants any result must keep, whatever the input: no escaped exception (checked by
 * the caller reaching here), views inside the input, sane lengths, and no error that only the
 * reader's last-resort catch produces (that would be a bug, not a verdict on the bytes). */
function checkSane(buf: Uint8Array, r: CaptureResult, what: string) {
    if (!r.ok) {
        assert.ok(r.error.length > 0, what);
        assert.ok(!r.error.startsWith('capture reader failed'), `${what}: ${r.error}`);
        return;
    }
    for (const p of r.packets) {
        assert.equal(p.data.buffer, buf.buffer, `${what}: a packet is not a view of the input`);
        assert.ok(p.data.byteOffset >= buf.byteOffset && p.data.byteOffset + p.data.length <= buf.byteOffset + buf.length, what);
        assert.ok(p.data.length <= MAX_CAPLEN, what);
        assert.ok(p.wireLen >= p.data.length, what);
        assert.ok(Number.isFinite(p.tsSec) && p.tsNsec >= 0 && p.tsNsec < 1e9, `${what}: time ${p.tsSec}.${p.tsNsec}`);
    }
}

test('packet counts agree with capinfos on every capture', (t) => {
    if (!PCAPS)
        return t.skip('no captures (NS_PCAPS or ../shared/pcaps)');
    const files = captures(PCAPS);
    const expected = new Map<string, number>();
    if (CAPINFOS) {
        // One run over all files: capinfos prints "file<TAB>count" for every file it can read.
        const out = run(CAPINFOS, ['-c', '-M', '-T', '-r', ...files]).stdout;
        for (const line of out.split('\n')) {
            const tab = line.lastIndexOf('\t');
            if (tab > 0)
                expected.set(line.slice(0, tab), Number(line.slice(tab + 1)));
        }
    } else {
        for (const [rel, n] of Object.entries(KNOWN))
            expected.set(path.join(PCAPS, rel), n);
        t.diagnostic('capinfos not found: comparing the committed counts only');
    }
    let compared = 0;
    let packets = 0;
    const bad: string[] = [];
    for (const f of files) {
        const buf = readBytes(f);
        const r = readCapture(buf);
        checkSane(buf, r, f);
        const want = expected.get(f);
        if (want === undefined)
            continue; // a link type Wireshark does not know
        compared++;
        const got = r.ok ? r.packets.length : `error: ${r.error}`;
        if (got !== want)
            bad.push(`${path.relative(PCAPS, f)}: capinfos ${want}, reader ${got}`);
        else
            packets += want;
    }
    t.diagnostic(`${compared} of ${files.length} captures compared, ${packets} packets`);
    assert.ok(compared > 0, 'nothing compared');
    assert.deepEqual(bad, []);
});

test('times and lengths agree with tshark, packet by packet', (t) => {
    if (!PCAPS || !TSHARK)
        return t.skip('needs the captures and tshark');
    for (const rel of SAMPLE) {
        const f = path.join(PCAPS, rel);
        if (!fs.existsSync(f))
            continue;
        const r = mustRead(readBytes(f), rel);
        const lines = columns(tsharkLines(f), 3);
        assert.equal(r.packets.length, lines.length, rel);
        r.packets.forEach((p, i) => {
            const mine = `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}\t${p.wireLen}\t${p.data.length}`;
            assert.equal(mine, lines[i], `${rel} packet ${i + 1}`);
        });
    }
});

// ---------------------------------------------------------------- pcapng built by hand

/* A pcapng writer for the tests, either byte order: blocks padded to 4 with both lengths. */
class Ng {
    parts: Uint8Array[] = [];
    constructor(readonly le: boolean) {}
    block(type: number, body: Uint8Array, trailerLen?: number) {
        const pad = (4 - (body.length % 4)) % 4;
        const len = 12 + body.length + pad;
        const b = new Uint8Array(len);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, type, this.le);
        dv.setUint32(4, len, this.le);
        b.set(body, 8);
        dv.setUint32(len - 4, trailerLen ?? len, this.le);
        this.parts.push(b);
        return this;
    }
    words(spec: [number, 'u8' | 'u16' | 'u32' | 'i64'][], tail: Uint8Array = new Uint8Array(0)): Uint8Array {
        const size = spec.reduce((s, [, k]) => s + { u8: 1, u16: 2, u32: 4, i64: 8 }[k], 0);
        const b = new Uint8Array(size + tail.length);
        const dv = new DataView(b.buffer);
        let o = 0;
        for (const [v, k] of spec) {
            if (k === 'u8') dv.setUint8(o, v);
            else if (k === 'u16') dv.setUint16(o, v, this.le);
            else if (k === 'u32') dv.setUint32(o, v, this.le);
            else dv.setBigInt64(o, BigInt(v), this.le);
            o += { u8: 1, u16: 2, u32: 4, i64: 8 }[k];
        }
        b.set(tail, size);
        return b;
    }
    shb() {
        return this.block(0x0a0d0d0a, this.words([[0x1a2b3c4d, 'u32'], [1, 'u16'], [0, 'u16'], [-1, 'i64']]));
    }
    /* An IDB with optional if_tsresol and if_tsoffset. */
    idb(linktype: number, snap: number, tsresol?: number, tsoffset?: number) {
        const opts: [number, 'u8' | 'u16' | 'u32' | 'i64'][] = [];
        if (tsresol !== undefined)
            opts.push([9, 'u16'], [1, 'u16'], [tsresol, 'u8'], [0, 'u8'], [0, 'u8'], [0, 'u8']);
        if (tsoffset !== undefined)
            opts.push([14, 'u16'], [8, 'u16'], [tsoffset, 'i64']);
        opts.push([0, 'u16'], [0, 'u16']);
        return this.block(1, this.words([[linktype, 'u16'], [0, 'u16'], [snap, 'u32'], ...opts]));
    }
    epb(iface: number, ts: bigint, data: Uint8Array, wire: number) {
        return this.block(6, this.words([[iface, 'u32'], [Number(ts >> 32n), 'u32'], [Number(ts & 0xffffffffn), 'u32'],
                                         [data.length, 'u32'], [wire, 'u32']], data));
    }
    spb(data: Uint8Array) {
        return this.block(3, this.words([[data.length, 'u32']], data));
    }
    bytes(): Uint8Array {
        const n = this.parts.reduce((s, p) => s + p.length, 0);
        const out = new Uint8Array(n);
        let o = 0;
        for (const p of this.parts) {
            out.set(p, o);
            o += p.length;
        }
        return out;
    }
}

const frame = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test('pcapng: per-interface link type, if_tsresol, if_tsoffset, both byte orders, sections', (t) => {
    // Section 1, big-endian: interface 0 Ethernet in nanoseconds, interface 1 raw IP in 1/8 s
    // with an offset of 1000 s; section 2, little-endian, microseconds by default.
    const a = new Ng(false).shb().idb(1, 0, 9).idb(101, 0, 0x83, 1000)
        .epb(0, 1_700_000_000_123_456_789n, frame(60, 1), 60)
        .epb(1, 13n, frame(40, 2), 1500) // 13/8 s = 1.625 s, plus 1000
        .block(0x99, new Uint8Array(8)) // an unknown block: skipped
        .bytes();
    const b = new Ng(true).shb().idb(1, 0).epb(0, 1_600_000_000_000_001n, frame(50, 3), 50).spb(frame(30, 4)).bytes();
    const file = new Uint8Array(a.length + b.length);
    file.set(a);
    file.set(b, a.length);
    const r = mustRead(file, 'built pcapng');
    assert.equal(r.format, 'pcapng');
    assert.equal(r.warning, null);
    const got = r.packets.map((p) => [p.linktype, p.tsSec, p.tsNsec, p.data.length, p.wireLen, p.data[1]]);
    assert.deepEqual(got, [
        [1, 1_700_000_000, 123_456_789, 60, 60, frame(60, 1)[1]],
        [101, 1001, 625_000_000, 40, 1500, frame(40, 2)[1]],
        [1, 1_600_000_000, 1000, 50, 50, frame(50, 3)[1]],
        [1, 0, 0, 30, 30, frame(30, 4)[1]],
    ]);
    if (TSHARK) {
        // Wireshark agrees on the packets and their lengths.
        const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insp-')), 'built.pcapng');
        fs.writeFileSync(tmp, file);
        const out = run(TSHARK, ['-r', tmp, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len']).stdout.trim();
        assert.equal(out, r.packets.map((p) => `${p.wireLen}\t${p.data.length}`).join('\n'));
        fs.rmSync(path.dirname(tmp), { recursive: true });
    } else {
        t.diagnostic('tshark not found: hand-computed expectations only');
    }
});

// ---------------------------------------------------------------- hostile input

test('malformed inputs give an error or a warning, never an exception', () => {
    const err = (buf: Uint8Array) => {
        const r = readCapture(buf);
        assert.ok(!r.ok, 'expected an error');
        return r.error;
    };
    const warn = (buf: Uint8Array) => {
        const r = readCapture(buf);
        assert.ok(r.ok, r.ok ? '' : r.error);
        assert.ok(r.warning, 'expected a warning');
        return { warning: r.warning, n: r.packets.length };
    };
    assert.match(err(new Uint8Array(0)), /not a capture file: 0 bytes/);
    assert.match(err(new TextEncoder().encode('<html>hello</html>')), /unknown magic/);
    const hdr = (major: number, snap = 65535) => {
        const b = new Uint8Array(24);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, 0xa1b2c3d4, true);
        dv.setUint16(4, major, true);
        dv.setUint16(6, 4, true);
        dv.setUint32(16, snap, true);
        dv.setUint32(20, 1, true);
        return b;
    };
    assert.match(err(hdr(2).subarray(0, 20)), /file header cut short: 20 of 24/);
    assert.match(err(hdr(3)), /unsupported pcap version 3\.4/);
    const rec = (incl: number, orig: number, body: number) => {
        const b = new Uint8Array(24 + 16 + body);
        b.set(hdr(2));
        const dv = new DataView(b.buffer);
        dv.setUint32(24 + 8, incl, true);
        dv.setUint32(24 + 12, orig, true);
        return b;
    };
    assert.match(warn(rec(0xffffffff, 10, 0)).warning, /claims 4294967295 captured bytes.*damaged/);
    assert.match(warn(rec(100, 100, 99)).warning, /runs past the end.*truncated/);
    // A header alone is a valid, empty capture.
    const empty = readCapture(hdr(2));
    assert.ok(empty.ok && empty.packets.length === 0 && empty.warning === null);
    // A record over the snaplen is cut to it; the wire length stays.
    const cut = mustRead((() => { const b = rec(100, 100, 100); new DataView(b.buffer).setUint32(16, 64, true); return b; })(), 'snap');
    assert.deepEqual([cut.packets[0].data.length, cut.packets[0].wireLen], [64, 100]);

    // pcapng
    const ng = (f: (n: Ng) => Ng) => f(new Ng(true)).bytes();
    const shbNoBom = ng((n) => n.shb());
    new DataView(shbNoBom.buffer).setUint32(8, 0x12345678, true);
    assert.match(err(shbNoBom), /no byte-order magic/);
    assert.match(warn(ng((n) => n.shb().idb(1, 0).epb(3, 0n, frame(10, 0), 10))).warning, /interface 3, which the section does not describe/);
    assert.match(warn(ng((n) => n.shb().idb(1, 0, 0x7f))).warning, /unusable if_tsresol 127/);
    assert.match(warn(ng((n) => n.shb().idb(1, 0).block(6, new Uint8Array(8)))).warning, /packet block too short/);
    assert.match(warn(ng((n) => n.shb().idb(1, 0).block(1, new Uint8Array(8), 99))).warning, /lengths at its start and end differ/);
    const badLen = ng((n) => n.shb().idb(1, 0));
    new DataView(badLen.buffer).setUint32(28 + 4, 13, true); // the IDB's length: not a multiple of 4
    assert.match(warn(badLen).warning, /bad block length 13/);
    const epbLies = ng((n) => n.shb().idb(1, 0).epb(0, 0n, frame(8, 0), 8));
    new DataView(epbLies.buffer).setUint32(28 + 24 + 20, 5000, true); // SHB 28, IDB 24: the EPB's caplen
    const lies = warn(epbLies);
    assert.match(lies.warning, /claims 5000 captured bytes, its block holds 8/);
    assert.equal(lies.n, 0);
    // Packets before the damage are kept.
    const two = ng((n) => n.shb().idb(1, 0).epb(0, 0n, frame(8, 0), 8).epb(0, 0n, frame(8, 0), 8));
    const w = warn(two.subarray(0, two.length - 3));
    assert.equal(w.n, 1);
    assert.match(w.warning, /runs past the end of the file/);
});

test('maxPackets stops the reader and says so', (t) => {
    if (!PCAPS)
        return t.skip('no captures');
    const r = readCapture(readBytes(path.join(PCAPS, 'ndpi/stun.pcap')), { maxPackets: 7 });
    assert.ok(r.ok);
    assert.equal(r.packets.length, 7);
    assert.equal(r.limited, true);
    const all = mustRead(readBytes(path.join(PCAPS, 'ndpi/stun.pcap')), 'stun');
    assert.equal(all.limited, false);
});

/* The byte offsets at which a record or block ends, from a whole file's packets: a prefix
 * ending there is a complete (shorter) capture. For classic pcap only (a packet's data ends
 * its record when it was not cut to the snaplen). */
function recordEnds(buf: Uint8Array, r: Extract<CaptureResult, { ok: true }>): Set<number> {
    return new Set(r.packets.map((p) => p.data.byteOffset - buf.byteOffset + p.data.length));
}

test('every prefix of real captures: a shorter capture or a clear stop, never an exception', (t) => {
    if (!PCAPS)
        return t.skip('no captures');
    for (const rel of ['tcpdump/dns_tcp.pcap', 'tcpdump/tcp-handshake-nano.pcap', 'ndpi/quic-v2.pcapng']) {
        const whole = readBytes(path.join(PCAPS, rel));
        const full = mustRead(whole, rel);
        const ends = recordEnds(whole, full);
        let prev = 0;
        for (let n = 0; n <= Math.min(whole.length, 6000); n++) {
            const buf = whole.slice(0, n); // a copy of exactly n bytes
            const r = readCapture(buf);
            checkSane(buf, r, `${rel}[0:${n}]`);
            if (!r.ok)
                continue;
            assert.ok(r.packets.length >= prev && r.packets.length <= full.packets.length, `${rel}[0:${n}]`);
            prev = r.packets.length;
            // What was read is what the whole file has.
            r.packets.forEach((p, i) => assert.deepEqual(p.data, full.packets[i].data));
            if (full.format === 'pcap' && n >= 24)
                assert.equal(r.warning === null, n === 24 || ends.has(n), `${rel}[0:${n}]: ${r.warning}`);
        }
        if (whole.length <= 6000)
            assert.equal(prev, full.packets.length, `${rel}: the whole file`);
    }
});

test('mutated captures keep every invariant', (t) => {
    if (!PCAPS)
        return t.skip('no captures');
    const next = prng(0x5eed);
    for (const rel of ['tcpdump/dns_tcp.pcap', 'ndpi/stun.pcap', 'ndpi/quic-v2.pcapng', 'ndpi/sites.pcapng']) {
        const orig = readBytes(path.join(PCAPS, rel)).slice(0, 8192);
        for (let k = 0; k < 1500; k++) {
            const buf = orig.slice();
            const dv = new DataView(buf.buffer);
            const edits = 1 + (next() % 4);
            for (let e = 0; e < edits; e++) {
                const at = next() % (buf.length - 4);
                const how = next() % 4;
                if (how === 0)
                    buf[at] ^= 1 << (next() % 8);
                else
                    dv.setUint32(at, how === 1 ? 0xffffffff : how === 2 ? 0 : next(), next() % 2 === 0);
            }
            const r = readCapture(buf);
            checkSane(buf, r, `${rel} mutant ${k}`);
        }
    }
});

// ---------------------------------------------------------------- writer

function samePackets(a: readonly Packet[], b: readonly Packet[], what: string) {
    assert.equal(a.length, b.length, what);
    a.forEach((p, i) => {
        const q = b[i];
        assert.deepEqual([p.linktype, p.tsSec, p.tsNsec, p.wireLen], [q.linktype, q.tsSec, q.tsNsec, q.wireLen], `${what} packet ${i + 1}`);
        assert.deepEqual(p.data, q.data, `${what} packet ${i + 1} bytes`);
    });
}

test('writer round trip: our reader and tshark read back what was written', (t) => {
    if (!PCAPS)
        return t.skip('no captures');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insp-'));
    try {
        for (const rel of SAMPLE) {
            const f = path.join(PCAPS, rel);
            const r = mustRead(readBytes(f), rel);
            const w = writePcap(r.packets);
            assert.ok(w.ok, w.ok ? '' : w.error);
            assert.equal(w.written + w.skipped, r.packets.length);
            const back = mustRead(w.bytes, `${rel} written`);
            assert.equal(back.format, 'pcap');
            assert.equal(back.warning, null);
            if (w.skipped === 0)
                samePackets(back.packets, r.packets, rel);
            if (TSHARK) {
                const out = path.join(dir, 'out.pcap');
                fs.writeFileSync(out, w.bytes);
                // The dissection too, for classic pcap input (a pcapng file may carry decryption
                // secrets, which a pcap file cannot).
                const n = r.format === 'pcap' ? 4 : 3;
                assert.deepEqual(columns(tsharkLines(out), n), columns(tsharkLines(f), n), rel);
                tsharkCache.delete(out);
            }
        }
    } finally {
        fs.rmSync(dir, { recursive: true });
    }
});

test('writer: one link type per file, nothing to write is an error', () => {
    const p = (linktype: number, n: number): Packet => ({ linktype, tsSec: 5, tsNsec: 7, data: frame(n, n), wireLen: n + 10 });
    const w = writePcap([p(1, 20), p(101, 30), p(1, 40)]);
    assert.ok(w.ok);
    assert.deepEqual([w.written, w.skipped], [2, 1]);
    const back = mustRead(w.bytes, 'mixed');
    samePackets(back.packets, [p(1, 20), p(1, 40)], 'mixed');
    const none = writePcap([]);
    assert.ok(!none.ok);
    assert.match(none.error, /no packets/);
});
