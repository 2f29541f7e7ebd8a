// inspector_env.ts - where the inspector tests find real captures, the WebAssembly decoder and
// Wireshark's command-line tools. The tests run as esbuild bundles from a temporary or build
// directory, so paths come from the environment or are searched upwards from the current
// directory (ctest runs them in <build>/ui, `npm test` in ui/).
//   NS_PCAPS  directory of captures      (else <ancestor>/shared/pcaps, e.g. /work/shared/pcaps)
//   NS_WASM   netscope_decode.wasm       (else <ancestor>/core/netscope_decode.wasm or
//                                          <ancestor>/build/dev/core/netscope_decode.wasm)
//   NS_FIELDS_DUMP  the native field dumper (else next to the .wasm: ../tests/tools/fields_dump)
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

function upwards(rel: string[]): string | null {
    let dir = process.cwd();
    for (;;) {
        for (const r of rel) {
            const p = path.join(dir, r);
            if (fs.existsSync(p))
                return p;
        }
        const up = path.dirname(dir);
        if (up === dir)
            return null;
        dir = up;
    }
}

export function pcapsDir(): string | null {
    const e = process.env.NS_PCAPS;
    if (e)
        return fs.existsSync(e) ? e : null;
    return upwards(['shared/pcaps']);
}

export function wasmFile(): string | null {
    const e = process.env.NS_WASM;
    if (e)
        return fs.existsSync(e) ? e : null;
    return upwards(['core/netscope_decode.wasm', 'build/dev/core/netscope_decode.wasm']);
}

export function fieldsDump(wasm: string): string | null {
    const e = process.env.NS_FIELDS_DUMP;
    if (e)
        return fs.existsSync(e) ? e : null;
    const p = path.join(path.dirname(wasm), '..', 'tests', 'tools', 'fields_dump');
    return fs.existsSync(p) ? p : null;
}

/** A program on PATH, or null. */
export function tool(name: string): string | null {
    for (const d of (process.env.PATH ?? '').split(':')) {
        const p = path.join(d, name);
        if (d && fs.existsSync(p))
            return p;
    }
    return null;
}

/** Run a program; stdout as text (throws when it cannot run at all). */
export function run(prog: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(prog, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.error)
        throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every capture under `dir` (.pcap, .pcapng, .cap), sorted. */
export function captures(dir: string): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory())
            out.push(...captures(p));
        else if (/\.(pcap|pcapng|cap)$/.test(e.name))
            out.push(p);
    }
    return out.sort();
}

export function readBytes(file: string): Uint8Array {
    return new Uint8Array(fs.readFileSync(file));
}

/** A small deterministic PRNG (xorshift32), so a failing mutation can be replayed. */
export function prng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        return x;
    };
}
