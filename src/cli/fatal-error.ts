/**
 * Errors the user can act on carry their own complete message (which file, which position, what
 * to do); anything else is a bug in news-moe or an expert, so its stack goes along for the report.
 */
const USER_FACING = new Set([
  "UsageError",
  "InputFormatError",
  "RulesConfigError",
  "JournalExistsError",
  "JournalCorruptError",
  "ExpertSelectionError",
  "ModelNotAvailableError",
]);

export function describeFatalError(error: unknown): string {
  if (error instanceof Error) {
    if (USER_FACING.has(error.name) || USER_FACING.has(error.constructor.name)) return error.message;
    return `internal error: ${error.stack ?? error.message}`;
  }
  return `internal error: ${String(error)}`;
}
