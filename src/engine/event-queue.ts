/**
 * A deterministic timer queue ordered by (time, priority, sequence), as in SimPy: two events
 * due at the same instant fire in priority order, then in the order they were scheduled, so a
 * run never depends on heap internals.
 */
export class EventQueue<T> {
  private times: number[] = [];
  private prios: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  push(time: number, priority: number, item: T): void {
    const i = this.items.length;
    this.times.push(time);
    this.prios.push(priority);
    this.seqs.push(this.nextSeq++);
    this.items.push(item);
    this.siftUp(i);
  }

  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.times[0];
  }

  pop(): { time: number; item: T } | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const time = this.times[0];
    const item = this.items[0];
    const last = n - 1;
    if (last > 0) this.move(last, 0);
    this.times.pop();
    this.prios.pop();
    this.seqs.pop();
    this.items.pop();
    if (last > 0) this.siftDown(0);
    return { time, item };
  }

  private less(a: number, b: number): boolean {
    if (this.times[a] !== this.times[b]) return this.times[a] < this.times[b];
    if (this.prios[a] !== this.prios[b]) return this.prios[a] < this.prios[b];
    return this.seqs[a] < this.seqs[b];
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.prios[to] = this.prios[from];
    this.seqs[to] = this.seqs[from];
    this.items[to] = this.items[from];
  }

  private swap(a: number, b: number): void {
    const t = this.times[a];
    const p = this.prios[a];
    const s = this.seqs[a];
    const it = this.items[a];
    this.move(b, a);
    this.times[b] = t;
    this.prios[b] = p;
    this.seqs[b] = s;
    this.items[b] = it;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
