import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof db>;

/** Building drizzle's relational config walks the whole schema: once per binding, not per call. */
const instances = new WeakMap<D1Database, ReturnType<typeof connect>>();

const connect = (d1: D1Database) => drizzle(d1, { schema });

export function db(d1: D1Database) {
  let instance = instances.get(d1);
  if (!instance) {
    instance = connect(d1);
    instances.set(d1, instance);
  }
  return instance;
}
