// wasm.ts - NetScope's decoder (netscope_decode.wasm) from TypeScript.
//
// The module's interface is core/include/netscope/wasm_api.h: plain integers and offsets into
// its memory, so nothing here knows a C struct layout. One Decoder wraps one instance (one
// decoder state: each decode() replaces the previous field list, which decode() copies out
// into plain objects before returning). The browser loads the module with loadDecoder() (the
// .wasm sits next to app.js); node tests hand the bytes to Decoder.fromBytes().

/** The ABI this file was written against (NS_WASM_ABI_VERSION). */
export const WASM_ABI_VERSION = 1;

/** One field of the decoded frame: bytes [off, off + len) of the frame, at tree depth `depth`. */
export interface Field {
    name: string;
    off: number;
    len: number;
    depth: number;
    /** "proto" for protocol nodes, else the value's type ("uint", "ipv4", "str", ...). */
    type: string;
    /** The value as printable ASCII ("" for protocol nodes). */
    text: string;
}

export interface Decoded {
    /** "ok", "truncated", "invalid", "unsupported", or "too big" (frame over the buffer). */
    outcome: string;
    /** The layer the outcome belongs to (meaningless when the outcome is "ok"). */
    layer: string;
    /** True when the frame had more fields than the decoder's list holds. */
    fieldsTruncated: boolean;
    fields: Field[];
}

interface Exports {
    memory: WebAssembly.Memory;
    ns_wasm_abi_version(): number;
    ns_wasm_buf(size: number): number;
    ns_wasm_buf_cap(): number;
    ns_wasm_decode(linktype: number, capLen: number, wireLen: number): number;
    ns_wasm_outcome(): number;
    ns_wasm_err_layer(): number;
    ns_wasm_fields_truncated(): number;
    ns_wasm_field_name(i: number): number;
    ns_wasm_field_off(i: number): number;
    ns_wasm_field_len(i: number): number;
    ns_wasm_field_depth(i: number): number;
    ns_wasm_field_type(i: number): number;
    ns_wasm_field_text(i: number): number;
    ns_wasm_text(): number;
    ns_wasm_outcome_name(rc: number): number;
    ns_wasm_layer_name(layer: number): number;
    ns_wasm_type_name(type: number): number;
}

const REQUIRED: readonly (keyof Exports)[] = [
    'memory', 'ns_wasm_abi_version', 'ns_wasm_buf', 'ns_wasm_buf_cap', 'ns_wasm_decode',
    'ns_wasm_outcome', 'ns_wasm_err_layer', 'ns_wasm_fields_truncated', 'ns_wasm_field_name',
    'ns_wasm_field_off', 'ns_wasm_field_len', 'ns_wasm_field_depth', 'ns_wasm_field_type',
    'ns_wasm_field_text', 'ns_wasm_text', 'ns_wasm_outcome_name', 'ns_wasm_layer_name',
    'ns_wasm_type_name',
];

/* Bytes of module memory as a string; the module writes printable ASCII only. */
function ascii(mem: Uint8Array, p: number, n: number): string {
    let s = '';
    for (let i = 0; i < n; i += 4096) {
        const part = mem.subarray(p + i, p + Math.min(n, i + 4096));
        s += String.fromCharCode(...part);
    }
    return s;
}

export class Decoder {
    private readonly ex: Exports;
    private readonly names = new Map<number, string>(); // static strings, by address
    /** The largest frame decode() takes whole. */
    readonly bufCap: number;

    private constructor(ex: Exports) {
        this.ex = ex;
        this.bufCap = ex.ns_wasm_buf_cap();
    }

    /** Instantiate the module from its bytes. Rejects with a sentence when they are not the
     *  decoder this file knows (missing exports, another ABI version). */
    static async fromBytes(bytes: BufferSource): Promise<Decoder> {
        const { instance } = await WebAssembly.instantiate(bytes, {});
        const ex = instance.exports as Record<string, unknown>;
        for (const k of REQUIRED) {
            if (ex[k] === undefined)
                throw new Error(`netscope_decode.wasm lacks the export ${k}`);
        }
        const e = ex as unknown as Exports;
        const v = e.ns_wasm_abi_version();
        if (v !== WASM_ABI_VERSION)
            throw new Error(`netscope_decode.wasm has ABI version ${v}, this dashboard needs ${WASM_ABI_VERSION}`);
        return new Decoder(e);
    }

    private mem(): Uint8Array {
        // Re-created on every use: memory.grow detaches the previous buffer.
        return new Uint8Array(this.ex.memory.buffer);
    }

    private cstring(p: number): string {
        let s = this.names.get(p);
        if (s === undefined) {
            const m = this.mem();
            const end = p === 0 ? -1 : m.indexOf(0, p);
            s = end < 0 ? '' : ascii(m, p, end - p);
            this.names.set(p, s);
        }
        return s;
    }

    /** Decode one frame of link type `linktype` that was `wireLen` bytes on the wire. */
    decode(linktype: number, frame: Uint8Array, wireLen: number): Decoded {
        const ex = this.ex;
        const p = ex.ns_wasm_buf(frame.length);
        if (p === 0 || frame.length > this.bufCap)
            return { outcome: 'too big', layer: 'frame', fieldsTruncated: false, fields: [] };
        this.mem().set(frame, p);
        const n = ex.ns_wasm_decode(linktype >>> 0, frame.length, Math.max(wireLen, frame.length) >>> 0);
        const fields: Field[] = [];
        const textPtr = ex.ns_wasm_text();
        for (let i = 0; i < n; i++) {
            const tl = ex.ns_wasm_field_text(i);
            fields.push({
                name: this.cstring(ex.ns_wasm_field_name(i)),
                off: ex.ns_wasm_field_off(i),
                len: ex.ns_wasm_field_len(i),
                depth: ex.ns_wasm_field_depth(i),
                type: this.cstring(ex.ns_wasm_type_name(ex.ns_wasm_field_type(i))),
                text: ascii(this.mem(), textPtr, tl),
            });
        }
        return {
            outcome: this.cstring(ex.ns_wasm_outcome_name(ex.ns_wasm_outcome())),
            layer: this.cstring(ex.ns_wasm_layer_name(ex.ns_wasm_err_layer())),
            fieldsTruncated: ex.ns_wasm_fields_truncated() !== 0,
            fields,
        };
    }
}

/** Fetch and instantiate the decoder; `url` defaults to netscope_decode.wasm next to the page
 *  (the UI build puts it beside app.js). */
export async function loadDecoder(url = 'netscope_decode.wasm'): Promise<Decoder> {
    const resp = await fetch(url);
    if (!resp.ok)
        throw new Error(`loading the decoder (${url}): HTTP ${resp.status}`);
    return Decoder.fromBytes(await resp.arrayBuffer());
}
