/** What a news-moe process's exit status means; scripts and schedulers rely on these. */
export const ExitCode = {
  /** Every item analysed by every chosen expert. */
  Ok: 0,
  /** The run finished, but some items were invalid or some expert failed on some item. */
  PartialFailure: 1,
  /** Nothing sensible could be done: bad usage, unreadable or malformed input, bad rules file. */
  Fatal: 2,
  /** Interrupted (Ctrl-C); finished items are kept in the journal for --resume. */
  Interrupted: 130,
  /** Not finished yet, try again later (sysexits' EX_TEMPFAIL): `collect` of a run still going. */
  Incomplete: 75,
  /**
   * A service the command needs cannot be reached (sysexits' EX_UNAVAILABLE): Redis is down, refuses
   * the connection, or went away mid-command. The same command may work once it is up.
   */
  Unavailable: 69,
} as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
