/**
 * A Map that holds at most `limit` entries, dropping the oldest insertion first. For per-isolate caches
 * of immutable things (rendered library versions, version items), where recency tracking would cost
 * more than the occasional re-read it saves.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
