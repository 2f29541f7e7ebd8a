// index.tsx - the packet inspector: a packet list, a protocol tree and a hex + ASCII dump.
//
// Packets come from a flow (getPackets(uid): the collector fetches them from the agent's ring
// as a classic pcap file) or from a pcap/pcapng file the user drops on the page or picks; a
// file is read and decoded here and never leaves the browser. Frames are decoded on demand by
// NetScope's own decoder compiled to WebAssembly (wasm.ts), only the rows on screen, and the
// results are cached. Everything taken from a packet is rendered as text nodes, never as HTML.
// The list is virtualized (fixed row height), so a file of DISPLAY_CAP packets stays usable;
// past that the reader stops and the page says so. Styles are set as properties (CSSOM), which
// the dashboard's Content-Security-Policy allows, so the component needs no stylesheet.

import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { ancestors, asciiChar, buildTree, fieldAtByte, fieldRange, hex2, hexOffset, hexRows, relTime, summarize } from './model';
import type { TreeNode } from './model';
import { readCapture, writePcap } from './pcap';
import type { CaptureFormat, Packet } from './pcap';
import { loadDecoder } from './wasm';
import type { Decoded, Decoder } from './wasm';

export { ancestors, buildTree, fieldAtByte, fieldRange, hexRows, relTime, summarize } from './model';
export { readCapture, writePcap } from './pcap';
export { Decoder, loadDecoder } from './wasm';

/** Packets read from one source at most (the list says when it stopped there). */
export const DISPLAY_CAP = 200_000;
/** Files larger than this are refused before reading. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Rows of the hex dump shown for one frame (16 bytes each). */
const HEX_MAX_ROWS = 4096;
const ROW_H = 20;
const LIST_H = 320;
const DECODE_CACHE = 4096;

interface Source {
    label: string;
    format: CaptureFormat;
    packets: Packet[];
    warning: string | null;
    limited: boolean;
}

const S = {
    root: { display: 'flex', flexDirection: 'column', gap: '8px', fontSize: '13px' },
    bar: { display: 'flex', gap: '12px', alignItems: 'center', flexWrap: 'wrap' },
    note: { color: '#d80' },
    err: { color: '#e33', whiteSpace: 'pre-wrap' },
    drop: { outline: '2px dashed #48c', outlineOffset: '4px' },
    list: { height: `${LIST_H}px`, overflowY: 'auto', border: '1px solid rgba(128, 128, 128, 0.5)', position: 'relative', fontFamily: 'monospace' },
    row: { position: 'absolute', left: 0, right: 0, height: `${ROW_H}px`, lineHeight: `${ROW_H}px`, whiteSpace: 'nowrap', overflow: 'hidden', cursor: 'default', display: 'flex', gap: '12px', padding: '0 4px' },
    rowSel: { background: 'rgba(80, 140, 220, 0.45)' },
    panes: { display: 'flex', gap: '8px', alignItems: 'flex-start', flexWrap: 'wrap' },
    tree: { flex: '1 1 380px', minWidth: '300px', maxHeight: '480px', overflow: 'auto', border: '1px solid rgba(128, 128, 128, 0.5)', fontFamily: 'monospace', padding: '4px' },
    treeRow: { whiteSpace: 'pre', cursor: 'pointer' },
    hex: { flex: '0 0 auto', maxHeight: '480px', overflow: 'auto', border: '1px solid rgba(128, 128, 128, 0.5)', fontFamily: 'monospace', padding: '4px', whiteSpace: 'pre' },
    byte: { cursor: 'pointer' },
    hl: { background: 'rgba(255, 190, 0, 0.5)' },
} satisfies Record<string, JSX.CSSProperties>;

const col = (w: string, align: 'left' | 'right' = 'left'): JSX.CSSProperties => ({ flex: `0 0 ${w}`, textAlign: align });

export function Inspector(props: { uid?: string; getPackets?: (uid: string) => Promise<ArrayBuffer> }) {
    const { uid, getPackets } = props;
    const [source, setSource] = useState<Source | null>(null);
    const [error, setError] = useState<string | null>(null);
    const [busy, setBusy] = useState<string | null>(null);
    const [decoder, setDecoder] = useState<Decoder | null>(null);
    const [decoderError, setDecoderError] = useState<string | null>(null);
    const [sel, setSel] = useState(-1);
    const [field, setField] = useState(-1);
    const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
    const [scrollTop, setScrollTop] = useState(0);
    const [dragging, setDragging] = useState(false);
    const cache = useRef(new Map<number, Decoded>());
    const listRef = useRef<HTMLDivElement>(null);
    const fileRef = useRef<HTMLInputElement>(null);
    const treeRef = useRef<HTMLDivElement>(null);

    useEffect(() => {
        let live = true;
        loadDecoder().then(
            (d) => live && setDecoder(d),
            (e: unknown) => live && setDecoderError(e instanceof Error ? e.message : String(e)),
        );
        return () => {
            live = false;
        };
    }, []);

    const open = useCallback((label: string, bytes: Uint8Array) => {
        const r = readCapture(bytes, { maxPackets: DISPLAY_CAP });
        cache.current = new Map();
        setField(-1);
        setScrollTop(0);
        if (listRef.current)
            listRef.current.scrollTop = 0;
        if (!r.ok) {
            setSource(null);
            setSel(-1);
            setError(`${label}: ${r.error}`);
            return;
        }
        setError(null);
        setSource({ label, format: r.format, packets: r.packets, warning: r.warning, limited: r.limited });
        setSel(r.packets.length > 0 ? 0 : -1);
    }, []);

    useEffect(() => {
        if (!uid || !getPackets)
            return;
        let live = true;
        setBusy(`fetching the packets of flow ${uid}\u2026`);
        getPackets(uid).then(
            (ab) => {
                if (!live)
                    return;
                setBusy(null);
                open(`flow ${uid}`, new Uint8Array(ab));
            },
            (e: unknown) => {
                if (!live)
                    return;
                setBusy(null);
                setError(`flow ${uid}: ${e instanceof Error ? e.message : String(e)}`);
            },
        );
        return () => {
            live = false;
        };
    }, [uid, getPackets, open]);

    const openFile = useCallback(
        (file: File) => {
            if (file.size > MAX_FILE_BYTES) {
                setError(`${file.name}: ${file.size} bytes is more than the inspector reads (${MAX_FILE_BYTES})`);
                return;
            }
            setBusy(`reading ${file.name}\u2026`);
            file.arrayBuffer().then(
                (ab) => {
                    setBusy(null);
                    open(file.name, new Uint8Array(ab));
                },
                (e: unknown) => {
                    setBusy(null);
                    setError(`${file.name}: ${e instanceof Error ? e.message : String(e)}`);
                },
            );
        },
        [open],
    );

    // A file dropped anywhere on the page while the inspector is shown.
    useEffect(() => {
        const over = (e: DragEvent) => {
            if (e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files')) {
                e.preventDefault();
                setDragging(true);
            }
        };
        const leave = () => setDragging(false);
        const drop = (e: DragEvent) => {
            setDragging(false);
            const f = e.dataTransfer?.files?.[0];
            if (f) {
                e.preventDefault();
                openFile(f);
            }
        };
        document.addEventListener('dragover', over);
        document.addEventListener('dragleave', leave);
        document.addEventListener('drop', drop);
        return () => {
            document.removeEventListener('dragover', over);
            document.removeEventListener('dragleave', leave);
            document.removeEventListener('drop', drop);
        };
    }, [openFile]);

    const decodeAt = useCallback(
        (i: number): Decoded | null => {
            if (!decoder || !source || i < 0 || i >= source.packets.length)
                return null;
            let d = cache.current.get(i);
            if (d === undefined) {
                const p = source.packets[i];
                d = decoder.decode(p.linktype, p.data, p.wireLen);
                if (cache.current.size >= DECODE_CACHE)
                    cache.current = new Map();
                cache.current.set(i, d);
            }
            return d;
        },
        [decoder, source],
    );

    // A new packet's tree starts at its top.
    useEffect(() => {
        if (treeRef.current)
            treeRef.current.scrollTop = 0;
    }, [sel, source]);

    const packets = source?.packets ?? [];
    const t0 = packets[0];
    const cur = sel >= 0 && sel < packets.length ? packets[sel] : null;
    const decoded = cur ? decodeAt(sel) : null;
    const fields = decoded?.fields ?? [];
    const tree = useMemo(() => buildTree(fields), [decoded]);
    const range = field >= 0 && field < fields.length && cur ? fieldRange(fields[field], cur.data.length) : null;

    const select = useCallback(
        (i: number) => {
            if (packets.length === 0)
                return;
            const n = Math.min(Math.max(0, i), packets.length - 1);
            setSel(n);
            setField(-1);
            const el = listRef.current;
            if (el) {
                const top = n * ROW_H;
                if (top < el.scrollTop)
                    el.scrollTop = top;
                else if (top + ROW_H > el.scrollTop + el.clientHeight)
                    el.scrollTop = top + ROW_H - el.clientHeight;
            }
        },
        [packets.length],
    );

    const onListKey = (e: KeyboardEvent) => {
        const page = Math.max(1, Math.floor(LIST_H / ROW_H) - 1);
        const moves: Record<string, number> = {
            ArrowDown: sel + 1, ArrowUp: sel - 1, PageDown: sel + page, PageUp: sel - page,
            Home: 0, End: packets.length - 1,
        };
        if (e.key in moves) {
            e.preventDefault();
            select(moves[e.key]);
        }
    };

    const pickField = (i: number) => {
        setField(i);
        // Open the way to it, so a field picked in the dump is visible in the tree.
        const names = ancestors(fields, i).map((a) => nodeKey(fields[a].name, fields[a].depth));
        if (names.some((k) => collapsed.has(k))) {
            const next = new Set(collapsed);
            for (const k of names)
                next.delete(k);
            setCollapsed(next);
        }
    };

    const toggle = (key: string) => {
        const next = new Set(collapsed);
        if (next.has(key))
            next.delete(key);
        else
            next.add(key);
        setCollapsed(next);
    };

    const download = () => {
        if (!source)
            return;
        const w = writePcap(source.packets);
        if (!w.ok) {
            setError(w.error);
            return;
        }
        const url = URL.createObjectURL(new Blob([w.bytes], { type: 'application/vnd.tcpdump.pcap' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = `${source.label.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/\.(pcapng|pcap|cap)$/i, '')}.pcap`;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        if (w.skipped > 0)
            setError(`download: ${w.skipped} packets of another link type than the first packet's were left out (a pcap file has one link type)`);
    };

    // ---- the packet list (virtualized)
    const first = Math.max(0, Math.floor(scrollTop / ROW_H) - 5);
    const last = Math.min(packets.length, Math.ceil((scrollTop + LIST_H) / ROW_H) + 5);
    const rows: JSX.Element[] = [];
    for (let i = first; i < last; i++) {
        const p = packets[i];
        const d = decodeAt(i);
        rows.push(
            <div
                key={i}
                role="option"
                aria-selected={i === sel}
                data-index={i}
                style={{ ...S.row, ...(i === sel ? S.rowSel : {}), top: `${i * ROW_H}px` }}
                onClick={() => select(i)}
            >
                <span style={col('6em', 'right')}>{i + 1}</span>
                <span style={col('10em', 'right')}>{t0 ? relTime(p.tsSec, p.tsNsec, t0.tsSec, t0.tsNsec) : ''}</span>
                <span style={col('5em', 'right')}>{p.wireLen}</span>
                <span>{d ? summarize(d) : `linktype ${p.linktype}`}</span>
            </div>,
        );
    }

    return (
        <div class="inspector" style={{ ...S.root, ...(dragging ? S.drop : {}) }}>
            <div style={S.bar}>
                <label>
                    Open a capture (pcap, pcapng; read here, never uploaded):{' '}
                    <input
                        ref={fileRef}
                        type="file"
                        accept=".pcap,.pcapng,.cap,application/vnd.tcpdump.pcap"
                        onChange={(e) => {
                            const f = (e.currentTarget as HTMLInputElement).files?.[0];
                            if (f)
                                openFile(f);
                        }}
                    />
                </label>
                <button type="button" disabled={!source || packets.length === 0} onClick={download}>
                    Download pcap
                </button>
                {source && (
                    <span class="insp-source">
                        {source.label} ({source.format}): {packets.length} packets
                    </span>
                )}
                {busy && <span>{busy}</span>}
            </div>
            {error && <div class="insp-error" role="alert" style={S.err}>{error}</div>}
            {decoderError && <div style={S.err}>decoder unavailable, packets are listed undecoded: {decoderError}</div>}
            {source?.warning && <div style={S.note}>stopped reading: {source.warning}</div>}
            {source?.limited && <div style={S.note}>showing the first {DISPLAY_CAP} packets only</div>}
            {!source && !error && !busy && <div>Drop a pcap or pcapng file on the page, or choose one above.</div>}
            {source && (
                <div
                    ref={listRef}
                    class="insp-list"
                    role="listbox"
                    tabIndex={0}
                    aria-label="packets"
                    style={S.list}
                    onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
                    onKeyDown={onListKey}
                >
                    <div style={{ height: `${packets.length * ROW_H}px` }} />
                    {rows}
                </div>
            )}
            {cur && (
                <div style={S.panes}>
                    <div ref={treeRef} class="insp-tree" style={S.tree}>
                        {decoded && (
                            <div>
                                frame {sel + 1}: {cur.data.length} bytes captured, {cur.wireLen} on the wire, link type {cur.linktype}
                                {decoded.outcome !== 'ok' ? `; ${decoded.outcome} at ${decoded.layer}` : ''}
                                {decoded.fieldsTruncated ? '; more fields than the decoder lists' : ''}
                            </div>
                        )}
                        {tree.map((n) => (
                            <TreeView node={n} key={n.index} sel={field} collapsed={collapsed} onPick={pickField} onToggle={toggle} />
                        ))}
                    </div>
                    <HexDump
                        data={cur.data}
                        range={range}
                        onByte={(b) => {
                            const i = fieldAtByte(fields, b);
                            if (i >= 0)
                                pickField(i);
                            else
                                setField(-1);
                        }}
                    />
                </div>
            )}
        </div>
    );
}

/* Collapse state is kept by name and depth, so closing "eth" stays closed from packet to packet. */
function nodeKey(name: string, depth: number): string {
    return `${depth}:${name}`;
}

function TreeView(props: {
    node: TreeNode;
    sel: number;
    collapsed: ReadonlySet<string>;
    onPick: (i: number) => void;
    onToggle: (key: string) => void;
}) {
    const { node, sel, collapsed, onPick, onToggle } = props;
    const f = node.field;
    const key = nodeKey(f.name, f.depth);
    const open = !collapsed.has(key);
    const ref = useRef<HTMLDivElement>(null);
    useEffect(() => {
        if (node.index === sel)
            ref.current?.scrollIntoView({ block: 'nearest' });
    }, [sel, node.index]);
    return (
        <div>
            <div
                ref={ref}
                class="insp-field"
                data-field={node.index}
                style={{ ...S.treeRow, ...(node.index === sel ? S.hl : {}) }}
                onClick={() => onPick(node.index)}
            >
                {'  '.repeat(Math.min(f.depth, 32))}
                <span
                    onClick={(e) => {
                        e.stopPropagation();
                        if (node.children.length > 0)
                            onToggle(key);
                    }}
                >
                    {node.children.length === 0 ? '  ' : open ? '\u25be ' : '\u25b8 '}
                </span>
                {f.type === 'proto' ? f.name : `${f.name}: ${f.text}`}
            </div>
            {open && node.children.map((c) => <TreeView node={c} key={c.index} sel={sel} collapsed={collapsed} onPick={onPick} onToggle={onToggle} />)}
        </div>
    );
}

function HexDump(props: { data: Uint8Array; range: [number, number] | null; onByte: (b: number) => void }) {
    const { data, range, onByte } = props;
    const rows = hexRows(data, 16, HEX_MAX_ROWS);
    const inRange = (b: number) => range !== null && b >= range[0] && b < range[1];
    const cell = (b: number, text: string) => (
        <span key={b} data-byte={b} style={inRange(b) ? { ...S.byte, ...S.hl } : S.byte} onClick={() => onByte(b)}>
            {text}
        </span>
    );
    return (
        <div class="insp-hex" style={S.hex}>
            {rows.map((r) => {
                const hex: ComponentChildren[] = [];
                const asc: ComponentChildren[] = [];
                r.bytes.forEach((v, j) => {
                    const b = r.offset + j;
                    hex.push(cell(b, hex2(v)));
                    hex.push(j === 7 ? '  ' : ' ');
                    asc.push(cell(b, asciiChar(v)));
                });
                return (
                    <div key={r.offset}>
                        {hexOffset(r.offset)}
                        {'  '}
                        {hex}
                        {'   '.repeat(16 - r.bytes.length)}
                        {r.bytes.length <= 8 ? ' ' : ''}
                        {' '}
                        {asc}
                    </div>
                );
            })}
            {data.length > HEX_MAX_ROWS * 16 && <div>{`\u2026 ${data.length - HEX_MAX_ROWS * 16} more bytes not shown`}</div>}
        </div>
    );
}
