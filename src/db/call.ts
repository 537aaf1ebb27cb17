import { z } from "zod";
import type { SqlClient } from "./client.ts";

/**
 * The one way Tollgate's code talks to Postgres: a typed door per SQL function, or per plain statement,
 * over the raw Neon client. Arguments are named (`create_job(p_via => $1::text, ...)`), so a reordered
 * signature cannot silently swap two values; rows are parsed, so a drifting `RETURNS TABLE` fails loudly
 * instead of flowing on as `undefined`. Errors name the function and the failing column, never a value:
 * parameters include key digests and session tokens.
 */

/** Postgres types a parameter is cast to; `?` marks one the function has a default for (omit it). */
type BaseType =
  | "text"
  | "uuid"
  | "bigint"
  | "integer"
  | "boolean"
  | "jsonb"
  | "timestamptz"
  | "uuid[]"
  | "text[]"
  | "bigint[]";
export type ParamType = BaseType | `${BaseType}?`;

type Base<T> = T extends `${infer B}?` ? B : T;
type ValueOf<T> = T extends "jsonb"
  ? unknown
  : T extends "uuid[]" | "text[]"
    ? readonly string[]
    : T extends "bigint[]"
      ? readonly number[]
      : T extends "bigint" | "integer"
        ? number
        : T extends "boolean"
          ? boolean
          : T extends "timestamptz"
            ? Date | string
            : string;
type RequiredKeys<P> = { [K in keyof P]: P[K] extends `${string}?` ? never : K }[keyof P];
type OptionalKeys<P> = Exclude<keyof P, RequiredKeys<P>>;

export type Args<P extends Record<string, ParamType>> = {
  [K in RequiredKeys<P>]: ValueOf<Base<P[K]>> | null;
} & { [K in OptionalKeys<P>]?: ValueOf<Base<P[K]>> | null };

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);

function encode(type: string, value: unknown): unknown {
  if (value === null) return null;
  if (type.startsWith("jsonb")) return JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Parses what a statement answered; the error says where the shape broke, not what the values were. */
export function parseRows<R extends z.ZodType>(what: string, schema: R, rows: unknown): z.output<R>[] {
  const parsed = z.array(schema).safeParse(rows);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.slice(1).join(".") || "(row)"}: ${issue.message}`)
    .join("; ");
  throw new Error(`${what} answered rows of an unexpected shape (${where})`);
}

export type SqlFunction<P extends Record<string, ParamType>, R extends z.ZodType> = {
  (db: SqlClient, args: Args<P>): Promise<z.output<R>[]>;
  /** For functions that always answer one row. */
  one(db: SqlClient, args: Args<P>): Promise<z.output<R>>;
};

/** The typed wrapper of one SQL function: `select * from name(p_x => $1::type, ...)`. */
export function sqlFunction<P extends Record<string, ParamType>, R extends z.ZodType>(
  name: string,
  params: P,
  row: R,
): SqlFunction<P, R> {
  const call = async (db: SqlClient, args: Args<P>) => {
    const named: string[] = [];
    const values: unknown[] = [];
    for (const [key, type] of Object.entries(params)) {
      const value = (args as Record<string, unknown>)[key];
      if (value === undefined) continue; // the function's default applies
      const base = type.replace("?", "");
      values.push(encode(base, value));
      named.push(`p_${snakeCase(key)} => $${values.length}::${base}`);
    }
    const rows = await db.sql.query(`select * from ${name}(${named.join(", ")})`, values);
    return parseRows(`${name}()`, row, rows);
  };
  const one = async (db: SqlClient, args: Args<P>) => {
    const [first] = await call(db, args);
    if (first === undefined) throw new Error(`${name}() answered no row`);
    return first;
  };
  return Object.assign(call, { one });
}

/** A plain statement with a parsed answer, for reads that need no function (`$1`-style parameters). */
export async function sqlQuery<R extends z.ZodType>(
  db: SqlClient,
  what: string,
  text: string,
  values: unknown[],
  row: R,
): Promise<z.output<R>[]> {
  return parseRows(what, row, await db.sql.query(text, values));
}
