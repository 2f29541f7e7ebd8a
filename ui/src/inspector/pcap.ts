// pcap.ts - capture files in and out: a reader for classic pcap and pcapng, a classic pcap writer.
//
// The inspector opens files a user drops on the page and the bytes an agent's ring sends, so
// every byte is hostile: each read is bounds-checked against the buffer, lengths are checked
// against each other and against fixed limits, and readCapture() never throws. A file that
// goes bad part way keeps the packets read before the damage and says where it stopped
// (`warning`), the way libpcap stops at a "truncated dump file"; a file that is not a capture
// at all is an `error`. Packets are views into the caller's buffer (no copies).
//
// Classic pcap: both byte orders, micro- and nanosecond magic; versions 2.0-2.2 have caplen
// and len swapped (libpcap's rule, 2.3 when caplen > len); a record longer than the snaplen is
// cut to it. pcapng: SHB/IDB/EPB/SPB and the obsolete PB, each section with its own byte order
// and interfaces, per-interface link type, snaplen, if_tsresol and if_tsoffset; other blocks
// are skipped.

/** The largest packet a record may hold (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPLEN = 262144;
/** The largest pcapng block accepted (a packet block of MAX_CAPLEN plus generous options). */
export const MAX_BLOCK = 16 * 1024 * 1024;
/** The interfaces one pcapng section may declare. */
export const MAX_IFACES = 65536;
/** Packets read by default before the reader stops (and says so). */
export const DEFAULT_MAX_PACKETS = 1_000_000;

export interface Packet {
    /** LINKTYPE_* of the frame (the file's, or its pcapng interface's). */
    linktype: number;
    /** Capture time: whole seconds since the epoch, and nanoseconds within the second. */
    tsSec: number;
    tsNsec: number;
    /** The captured bytes (a view into the file's buffer). */
    data: Uint8Array;
    /** The length on the wire (never less than data.length). */
    wireLen: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export type CaptureResult =
    | {
          ok: true;
          format: CaptureFormat;
          packets: Packet[];
          /** Why reading stopped before the end of the file, or null when it did not. */
          warning: string | null;
          /** True when maxPackets was reached. */
          limited: boolean;
      }
    | { ok: false; error: string };

export interface ReadOptions {
    /** Stop after this many packets (limited: true). */
    maxPackets?: number;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_HDR_LEN = 24;
const PCAP_REC_LEN = 16;
/* The link type sits in the low bits of the header's field; the top bits carry FCS
 * information (pcap spec, "LinkType and additional information"). */
const PCAP_LINKTYPE_MASK = 0x03ffffff;

const NG_SHB = 0x0a0d0d0a;
const NG_IDB = 1;
const NG_PB = 2; /* obsolete packet block */
const NG_SPB = 3;
const NG_EPB = 6;
const NG_BOM = 0x1a2b3c4d;
const NG_OPT_END = 0;
const NG_OPT_TSRESOL = 9;
const NG_OPT_TSOFFSET = 14;

/** Read a classic pcap or pcapng file. Never throws. */
export function readCapture(buf: Uint8Array, opts: ReadOptions = {}): CaptureResult {
    const maxPackets = Math.max(0, Math.floor(opts.maxPackets ?? DEFAULT_MAX_PACKETS));
    try {
        if (buf.length < 4)
            return { ok: false, error: `not a capture file: ${buf.length} bytes` };
        const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        const be = dv.getUint32(0, false);
        const le = dv.getUint32(0, true);
        if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS)
            return readPcap(buf, dv, maxPackets);
        if (be === NG_SHB)
            return readPcapng(buf, dv, maxPackets);
        return { ok: false, error: 'not a pcap or pcapng file (unknown magic number)' };
    } catch (e) {
        // Every read above is checked first; this is a last line so a bug cannot take the page.
        return { ok: false, error: `capture reader failed: ${e instanceof Error ? e.message : String(e)}` };
    }
}

// ---------------------------------------------------------------- classic pcap

function readPcap(buf: Uint8Array, dv: DataView, maxPackets: number): CaptureResult {
    if (buf.length < PCAP_HDR_LEN)
        return { ok: false, error: `pcap file header cut short: ${buf.length} of ${PCAP_HDR_LEN} bytes` };
    const le = dv.getUint32(0, true) === PCAP_MAGIC_US || dv.getUint32(0, true) === PCAP_MAGIC_NS;
    const nano = dv.getUint32(0, le) === PCAP_MAGIC_NS;
    const major = dv.getUint16(4, le);
    const minor = dv.getUint16(6, le);
    if (major !== 2 && major !== 543)
        return { ok: false, error: `unsupported pcap version ${major}.${minor}` };
    // libpcap's rule for old writers: 2.0-2.2 (and 543, a byte-swapped 2) always swapped
    // caplen and len, 2.3 did only when caplen > len.
    const swapped = major === 543 || minor < 3 ? 'yes' : minor === 3 ? 'maybe' : 'no';
    let snap = dv.getUint32(16, le);
    if (snap === 0 || snap > MAX_CAPLEN)
        snap = MAX_CAPLEN;
    const linktype = dv.getUint32(20, le) & PCAP_LINKTYPE_MASK;
    const packets: Packet[] = [];
    let off = PCAP_HDR_LEN;
    let warning: string | null = null;
    let limited = false;
    while (off < buf.length) {
        if (packets.length >= maxPackets) {
            limited = true;
            break;
        }
        if (off + PCAP_REC_LEN > buf.length) {
            warning = `record header at byte ${off} cut short: the file is truncated`;
            break;
        }
        const sec = dv.getUint32(off, le);
        const frac = dv.getUint32(off + 4, le);
        let incl = dv.getUint32(off + 8, le);
        let orig = dv.getUint32(off + 12, le);
        if (swapped === 'yes' || (swapped === 'maybe' && incl > orig))
            [incl, orig] = [orig, incl];
        if (incl > MAX_CAPLEN) {
            warning = `record at byte ${off} claims ${incl} captured bytes (more than ${MAX_CAPLEN}): the file is damaged`;
            break;
        }
        if (off + PCAP_REC_LEN + incl > buf.length) {
            warning = `record at byte ${off} runs past the end of the file (${incl} bytes): the file is truncated`;
            break;
        }
        const cap = Math.min(incl, snap);
        const start = off + PCAP_REC_LEN;
        packets.push({
            linktype,
            tsSec: sec,
            tsNsec: nano ? Math.min(frac, 999_999_999) : Math.min(frac, 999_999) * 1000,
            data: buf.subarray(start, start + cap),
            wireLen: Math.max(orig, cap),
        });
        off = start + incl;
    }
    return { ok: true, format: 'pcap', packets, warning, limited };
}

// ---------------------------------------------------------------- pcapng

interface Iface {
    linktype: number;
    snap: number;
    /** Timestamp units per second, and seconds added to every timestamp. */
    unitsPerSec: bigint;
    offsetSec: bigint;
}

/* if_tsresol: the high bit picks a power of two, otherwise a power of ten (RFC draft
 * pcapng section 4.2). Exponents beyond what a 64-bit count can use are refused. */
function tsresol(v: number): bigint | null {
    const exp = v & 0x7f;
    if (v & 0x80)
        return exp <= 63 ? 1n << BigInt(exp) : null;
    return exp <= 19 ? 10n ** BigInt(exp) : null;
}

/* Parse an IDB's body [start, end). Returns the interface or an error sentence. */
function readIdb(dv: DataView, start: number, end: number, le: boolean): Iface | string {
    if (end - start < 8)
        return 'interface description block too short';
    const iface: Iface = {
        linktype: dv.getUint16(start, le),
        snap: dv.getUint32(start + 4, le),
        unitsPerSec: 1_000_000n,
        offsetSec: 0n,
    };
    // Options: code, length, value padded to 4 bytes, until opt_endofopt or the block's end.
    for (let o = start + 8; o + 4 <= end;) {
        const code = dv.getUint16(o, le);
        const len = dv.getUint16(o + 2, le);
        if (code === NG_OPT_END)
            break;
        if (o + 4 + len > end)
            return 'interface option runs past its block';
        if (code === NG_OPT_TSRESOL && len >= 1) {
            const r = tsresol(dv.getUint8(o + 4));
            if (r === null)
                return `unusable if_tsresol ${dv.getUint8(o + 4)}`;
            iface.unitsPerSec = r;
        } else if (code === NG_OPT_TSOFFSET && len >= 8) {
            iface.offsetSec = dv.getBigInt64(o + 4, le);
        }
        o += 4 + ((len + 3) & ~3);
    }
    return iface;
}

function timestamp(iface: Iface, hi: number, lo: number): { tsSec: number; tsNsec: number } {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const sec = units / iface.unitsPerSec + iface.offsetSec;
    const nsec = ((units % iface.unitsPerSec) * 1_000_000_000n) / iface.unitsPerSec;
    return { tsSec: Number(sec), tsNsec: Number(nsec) };
}

function readPcapng(buf: Uint8Array, dv: DataView, maxPackets: number): CaptureResult {
    const packets: Packet[] = [];
    let le = true;
    let ifaces: Iface[] = [];
    let warning: string | null = null;
    let limited = false;
    let sawShb = false;
    let off = 0;
    const stop = (why: string) => {
        warning = `block at byte ${off}: ${why}`;
    };
    while (off < buf.length) {
        if (off + 12 > buf.length) {
            stop('block header cut short: the file is truncated');
            break;
        }
        if (dv.getUint32(off, false) === NG_SHB) {
            // A new section: its byte-order magic decides how everything in it is read.
            const bom = dv.getUint32(off + 8, true);
            if (bom !== NG_BOM && dv.getUint32(off + 8, false) !== NG_BOM) {
                if (!sawShb)
                    return { ok: false, error: 'pcapng section header has no byte-order magic' };
                stop('section header has no byte-order magic');
                break;
            }
            le = bom === NG_BOM;
            ifaces = [];
            sawShb = true;
        } else if (!sawShb) {
            return { ok: false, error: 'pcapng file does not start with a section header' };
        }
        const type = dv.getUint32(off, le);
        const blen = dv.getUint32(off + 4, le);
        if (blen < 12 || blen % 4 !== 0) {
            stop(`bad block length ${blen}`);
            break;
        }
        if (blen > MAX_BLOCK) {
            stop(`block of ${blen} bytes is larger than ${MAX_BLOCK}`);
            break;
        }
        if (off + blen > buf.length) {
            stop(`block of ${blen} bytes runs past the end of the file: the file is truncated`);
            break;
        }
        if (dv.getUint32(off + blen - 4, le) !== blen) {
            stop('block lengths at its start and end differ');
            break;
        }
        const body = off + 8;
        const end = off + blen - 4;
        if (type === NG_IDB) {
            if (ifaces.length >= MAX_IFACES) {
                stop(`more than ${MAX_IFACES} interfaces`);
                break;
            }
            const iface = readIdb(dv, body, end, le);
            if (typeof iface === 'string') {
                stop(iface);
                break;
            }
            ifaces.push(iface);
        } else if (type === NG_EPB || type === NG_PB || type === NG_SPB) {
            if (packets.length >= maxPackets) {
                limited = true;
                break;
            }
            let id = 0, hi = 0, lo = 0, incl: number, orig: number, data: number;
            if (type === NG_SPB) {
                if (end - body < 4) {
                    stop('simple packet block too short');
                    break;
                }
                orig = dv.getUint32(body, le);
                data = body + 4;
                incl = Math.min(orig, end - data);
            } else {
                if (end - body < 20) {
                    stop('packet block too short');
                    break;
                }
                id = type === NG_EPB ? dv.getUint32(body, le) : dv.getUint16(body, le);
                hi = dv.getUint32(body + 4, le);
                lo = dv.getUint32(body + 8, le);
                incl = dv.getUint32(body + 12, le);
                orig = dv.getUint32(body + 16, le);
                data = body + 20;
                if (incl > end - data) {
                    stop(`packet claims ${incl} captured bytes, its block holds ${end - data}`);
                    break;
                }
            }
            const iface = ifaces[id];
            if (iface === undefined) {
                stop(`packet of interface ${id}, which the section does not describe`);
                break;
            }
            if (incl > MAX_CAPLEN) {
                stop(`packet claims ${incl} captured bytes (more than ${MAX_CAPLEN})`);
                break;
            }
            if (type === NG_SPB && iface.snap !== 0)
                incl = Math.min(incl, iface.snap);
            const ts = type === NG_SPB ? { tsSec: 0, tsNsec: 0 } : timestamp(iface, hi, lo);
            packets.push({
                linktype: iface.linktype,
                ...ts,
                data: buf.subarray(data, data + incl),
                wireLen: Math.max(orig, incl),
            });
        }
        off += blen;
    }
    return { ok: true, format: 'pcapng', packets, warning, limited };
}

// ---------------------------------------------------------------- writer

export type WriteResult =
    | { ok: true; bytes: Uint8Array<ArrayBuffer>; written: number; skipped: number }
    | { ok: false; error: string };

/**
 * Write packets as a classic pcap file (little-endian, nanosecond timestamps, version 2.4).
 * A pcap file has one link type: packets whose link type differs from the first packet's are
 * left out and counted in `skipped`. Packets longer than MAX_CAPLEN are cut to it.
 */
export function writePcap(packets: readonly Packet[]): WriteResult {
    if (packets.length === 0)
        return { ok: false, error: 'no packets to write' };
    const linktype = packets[0].linktype;
    const kept = packets.filter((p) => p.linktype === linktype);
    let size = PCAP_HDR_LEN;
    for (const p of kept)
        size += PCAP_REC_LEN + Math.min(p.data.length, MAX_CAPLEN);
    const bytes = new Uint8Array(size);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, PCAP_MAGIC_NS, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true); /* thiszone */
    dv.setUint32(12, 0, true); /* sigfigs */
    dv.setUint32(16, MAX_CAPLEN, true);
    dv.setUint32(20, linktype >>> 0, true);
    let off = PCAP_HDR_LEN;
    for (const p of kept) {
        const cap = Math.min(p.data.length, MAX_CAPLEN);
        dv.setUint32(off, p.tsSec >>> 0, true);
        dv.setUint32(off + 4, Math.min(Math.max(0, p.tsNsec), 999_999_999) >>> 0, true);
        dv.setUint32(off + 8, cap, true);
        dv.setUint32(off + 12, Math.max(p.wireLen, cap) >>> 0, true);
        bytes.set(p.data.subarray(0, cap), off + PCAP_REC_LEN);
        off += PCAP_REC_LEN + cap;
    }
    return { ok: true, bytes, written: kept.length, skipped: packets.length - kept.length };
}
