/**
 * A setting of the engine: one zod schema that carries its type, its default and its help text
 * (`.describe()`), plus how the command line spells it. The catalogue (catalogue.ts) writes every
 * setting once this way; the CLI flags, their help and the library's option types are read from it.
 */
import { z } from "zod";

/** How the command line spells a setting. */
export interface FlagSpelling {
  /** commander's spelling: `--summary-memory <MiB>`, `--offline`, `--no-clean` (a setting that defaults to true). */
  flag: string;
  /** A list setting: `comma` splits each value on commas (`--experts a,b`), `repeat` takes one per use (`--plugin x --plugin y`). */
  list?: "comma" | "repeat";
}

/** The command-line spelling of each setting schema, kept beside the schema rather than inside its type. */
export const FLAG_SPELLINGS = z.registry<FlagSpelling>();

/**
 * A setting: `schema` with its default (if any) and `help` as its description, spelled `flag` on
 * the command line. The key the setting has in its entry's option object is its one name, from
 * the CLI's parsed flags to the expert's options.
 */
export function setting<S extends z.ZodType>(flag: string, schema: S, help: string, list?: FlagSpelling["list"]): S {
  const described = schema.describe(help) as S;
  FLAG_SPELLINGS.add(described, { flag, ...(list ? { list } : {}) });
  return described;
}

/** An object of settings, by their one name. */
export type Settings = Record<string, z.ZodType>;

/** The schema without its default and optional wrappers, and the default when it has one. */
export function unwrapSetting(schema: z.ZodType): { inner: z.ZodType; default?: unknown } {
  let inner: z.ZodType = schema;
  let fallback: { default?: unknown } = {};
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      fallback = { default: inner.def.defaultValue };
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodOptional) {
      inner = inner.unwrap() as z.ZodType;
    } else {
      return { inner, ...fallback };
    }
  }
}

/** The default a setting's schema gives when the setting is left out (undefined: none). */
export function settingDefault(schema: z.ZodType): unknown {
  return unwrapSetting(schema).default;
}
