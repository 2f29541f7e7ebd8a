// stream.ts - the WebSocket client of docs/stream.md: state frames into a LiveState, the
// filter message, get_packets requests answered by binary frames, and reconnection.

import { applyFrame, emptyState, addSample, emptySeries, type LiveState, type StateFrame, type Series } from "./state";

export type StreamStatus = "connecting" | "open" | "closed";

interface Pending {
  resolve: (b: ArrayBuffer) => void;
  reject: (e: Error) => void;
}

export class Stream {
  state: LiveState = emptyState();
  series: Series = emptySeries();
  status: StreamStatus = "closed";
  hello: Record<string, unknown> | null = null;
  /** the last error frame per request type, verbatim */
  errors = new Map<string, string>();
  /** collector-to-screen latency samples, ms: the local clock at the animation frame after a state frame arrived minus its ts */
  latency: number[] = [];
  private ws: WebSocket | null = null;
  private listeners = new Set<() => void>();
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private bpf = "";
  private retry = 500;
  private stopped = false;

  constructor(private url: () => Promise<string>) {}

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  async connect(): Promise<void> {
    this.stopped = false;
    this.status = "connecting";
    this.emit();
    let url: string;
    try {
      url = await this.url();
    } catch (e) {
      this.errors.set("connect", String((e as Error).message ?? e));
      this.reconnectLater();
      return;
    }
    const ws = new WebSocket(url, "netscope.v1");
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.status = "open";
      this.retry = 500;
      this.errors.delete("connect");
      // the collector forgets a client's filter with its connection
      if (this.bpf) this.send({ type: "filter", bpf: this.bpf });
      this.emit();
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.status = "closed";
      for (const p of this.pending.values()) p.reject(new Error("the stream closed"));
      this.pending.clear();
      this.emit();
      this.reconnectLater();
    };
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private reconnectLater(): void {
    if (this.stopped) return;
    const wait = this.retry;
    this.retry = Math.min(this.retry * 2, 10000);
    setTimeout(() => void this.connect(), wait);
  }

  private send(msg: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  private onMessage(data: unknown): void {
    if (data instanceof ArrayBuffer) {
      if (data.byteLength < 4) return;
      const id = new DataView(data).getUint32(0, true);
      const p = this.pending.get(id);
      if (p) {
        this.pending.delete(id);
        p.resolve(data.slice(4));
      }
      return;
    }
    let f: { type?: string; ts?: number; request?: string; message?: string; id?: number };
    try {
      f = JSON.parse(String(data));
    } catch {
      return;
    }
    if (f.type === "hello") {
      this.hello = f as Record<string, unknown>;
      this.state = emptyState();
    } else if (f.type === "state") {
      const sf = f as StateFrame;
      applyFrame(this.state, sf);
      if (sf.global) addSample(this.series, sf.ts, sf.global);
      // on screen at the next animation frame (the one the views re-render in)
      requestAnimationFrame(() => {
        this.latency.push(Date.now() - sf.ts / 1e6);
        if (this.latency.length > 1000) this.latency.splice(0, this.latency.length - 1000);
      });
    } else if (f.type === "error") {
      const req = f.request ?? "";
      if (req === "get_packets" && typeof f.id === "number") {
        const p = this.pending.get(f.id);
        if (p) {
          this.pending.delete(f.id);
          p.reject(new Error(f.message ?? "get_packets failed"));
        }
      }
      this.errors.set(req, f.message ?? "");
    }
    this.emit();
  }

  /** Sets the stream's BPF filter ("" = none); an error comes back as errors.get("filter"). */
  setFilter(bpf: string): void {
    this.bpf = bpf;
    this.errors.delete("filter");
    this.send({ type: "filter", bpf });
    this.emit();
  }

  get filter(): string {
    return this.bpf;
  }

  /** The pcap bytes of a live flow's recent frames, from its agent's ring. */
  getPackets = (uid: string): Promise<ArrayBuffer> => {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.send({ type: "get_packets", id, uid })) {
        this.pending.delete(id);
        reject(new Error("the stream is not connected"));
      }
    });
  };
}
