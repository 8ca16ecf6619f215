/** A node of a {@link Queue}; keep it to remove the item later in O(1). */
export interface QueueNode<T> {
  readonly value: T;
  prev: QueueNode<T> | undefined;
  next: QueueNode<T> | undefined;
  /** False once the node has left the queue. */
  queued: boolean;
}

/**
 * A FIFO queue with O(1) push, shift and removal from the middle. Requests cancelled by their
 * signal or deadline leave at once, so a queue's memory is bounded by the requests still
 * waiting, never by the ones that gave up.
 */
export class Queue<T> {
  private head: QueueNode<T> | undefined;
  private tail: QueueNode<T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(value: T): QueueNode<T> {
    const node: QueueNode<T> = { value, prev: this.tail, next: undefined, queued: true };
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.count++;
    return node;
  }

  peek(): T | undefined {
    return this.head?.value;
  }

  first(): QueueNode<T> | undefined {
    return this.head;
  }

  shift(): T | undefined {
    const node = this.head;
    if (node === undefined) return undefined;
    this.remove(node);
    return node.value;
  }

  remove(node: QueueNode<T>): void {
    if (!node.queued) return;
    node.queued = false;
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.count--;
  }
}
