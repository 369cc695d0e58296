/**
 * Word lists the sentence splitter needs to undo ICU's breaks after abbreviations. ICU's own
 * abbreviation suppressions (`-u-ss-standard`) are not honoured by V8's Intl.Segmenter, so we keep
 * our own, aimed at news: titles and ranks before names, and common Latin/European shorthands.
 */

/**
 * Abbreviations that almost never end a sentence because a name or phrase follows them. Written
 * without the final period, case as written in text (a lower-case "st." is not "St.").
 * Dotted forms keep their inner dots: "e.g" for "e.g.".
 */
export const NON_TERMINAL_ABBREVIATIONS: ReadonlySet<string> = new Set([
  // English titles and ranks
  "Mr", "Mrs", "Ms", "Mx", "Dr", "Prof", "Rev", "Hon", "Sen", "Rep", "Gov", "Pres", "Amb",
  "Gen", "Lt", "Col", "Maj", "Capt", "Cpt", "Sgt", "Cpl", "Pte", "Adm", "Cmdr", "Cdr", "Brig",
  "Supt", "Insp", "Det", "Const", "St", "Mt", "Ft", "Sr", "Messrs",
  // reference shorthands that introduce something
  "No", "Nos", "Vol", "Art", "Fig", "vs", "v", "cf", "approx", "ca", "e.g", "i.e", "viz",
  "E.g", "I.e",
  // French, German, Spanish, Italian, Portuguese titles and shorthands
  "M", "MM", "Mme", "Mmes", "Mlle", "Mgr", "Me", "Hr", "Fr", "Frl", "Nr", "z.B", "u.a", "bzw", "ggf",
  "Sra", "Srta", "Sres", "Dña", "Sig", "Sigg", "Dott", "Avv", "Ing", "Sto", "Sta", "Exmo", "Exma",
]);

/**
 * Words that usually begin a new sentence in English news. After a single-letter initial or an
 * abbreviation, one of these means the period did end the sentence ("...in Group B. The draw...").
 */
export const SENTENCE_STARTERS: ReadonlySet<string> = new Set([
  "The", "A", "An", "He", "She", "It", "They", "We", "I", "You", "This", "That", "These", "Those",
  "There", "Here", "His", "Her", "Their", "Its", "Our", "My", "Your", "But", "And", "Or", "So",
  "Yet", "However", "Meanwhile", "Then", "Now", "In", "On", "At", "After", "Before", "When",
  "While", "If", "As", "Although", "Though", "Despite", "Last", "Next", "Earlier", "Later",
  "What", "Who", "Why", "How", "Where", "Both", "Neither", "None", "All", "Some", "Many",
]);
