/**
 * Command-line flags made from the catalogue's settings: each setting's spelling, help and default
 * come from its schema (catalogue/setting.ts), so a flag's default exists in one place and its help
 * cannot drift from it. A parsed flag lands under the setting's own name (`--summary-memory` ->
 * `summaryMemoryMib`), the name it keeps all the way to the expert.
 */
import { InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { FLAG_SPELLINGS, unwrapSetting, type Settings } from "../catalogue/setting.js";

/** A flag stored under its setting's name rather than commander's camel-casing of the flag. */
class SettingOption extends Option {
  constructor(
    flags: string,
    description: string,
    readonly setting: string,
  ) {
    super(flags, description);
  }

  override attributeName(): string {
    return this.setting;
  }
}

/** The words for a number a schema accepts: "a whole number ≥ 1", "a number between 0 and 1". */
function numberWords(schema: z.ZodNumber): string {
  const min = schema.minValue;
  const max = schema.maxValue;
  const kind = schema.isInt ? "a whole number" : "a number";
  const bounded = (value: number | null): value is number => value !== null && Number.isFinite(value) && Math.abs(value) < Number.MAX_SAFE_INTEGER;
  if (bounded(min) && bounded(max)) return `${kind} between ${min} and ${max}`;
  if (bounded(min)) return `${kind} ≥ ${min}`;
  if (bounded(max)) return `${kind} ≤ ${max}`;
  return kind;
}

function numberParser(flag: string, schema: z.ZodNumber) {
  return (value: string) => {
    const n = value.trim() === "" ? Number.NaN : Number(value);
    if (!schema.safeParse(n).success) throw new InvalidArgumentError(`${flag} must be ${numberWords(schema)}`);
    return n;
  };
}

function commaList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

function repeated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The flag of one setting, or undefined for a setting the command line does not spell (library only). */
export function settingOption(name: string, schema: z.ZodType): Option | undefined {
  const spelling = FLAG_SPELLINGS.get(schema);
  if (!spelling) return undefined;
  const { inner, default: fallback } = unwrapSetting(schema);
  const option = new SettingOption(spelling.flag, schema.description ?? "", name);
  if (inner instanceof z.ZodEnum) option.choices(inner.options.map(String));
  else if (inner instanceof z.ZodNumber) option.argParser(numberParser(option.long ?? spelling.flag, inner));
  else if (inner instanceof z.ZodArray) option.argParser(spelling.list === "comma" ? commaList : repeated);
  // A --no-X flag's default (true) is commander's own; stating it would print "(default: true)" for --no-clean.
  if (fallback !== undefined && !option.negate) option.default(fallback);
  return option;
}

/** The flags of every setting the command line spells, in the settings' order, less those named in `leaveOut`. */
export function settingOptions(settings: Settings, leaveOut: readonly string[] = []): Option[] {
  return Object.entries(settings)
    .filter(([name]) => !leaveOut.includes(name))
    .map(([name, schema]) => settingOption(name, schema))
    .filter((option): option is Option => option !== undefined);
}
