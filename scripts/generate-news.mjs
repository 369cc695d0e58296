#!/usr/bin/env node
// Writes N synthetic news items in the web-scraper format (BBC Sport style) for load tests.
// Dependency-free; streams item by item, so memory stays flat whatever --count is.
// Output is deterministic for a given --seed and word range: item i depends only on (seed, i),
// so a smaller --count gives a prefix of a larger one.
import { createWriteStream } from "node:fs";

const USAGE = `Usage: node scripts/generate-news.mjs --out FILE [options]

Writes synthetic sports news items in the web-scraper format (id, url, author, headline,
topics, publication_date, content, videos, images, related_articles, keyword, timestamp,
input), streaming, for load tests.

Options:
  --count N          number of items (default 1000)
  --out FILE         output file, or - for stdout (required)
  --format FMT       json (one JSON array) or jsonl (one item per line);
                     default: jsonl if FILE ends in .jsonl/.ndjson, else json
  --seed S           PRNG seed, any integer or string (default 1)
  --min-words N      content length range, in words: each item draws a target in
  --max-words N      [min, max] and gets whole sentences until it reaches it, so it may
                     overshoot by one sentence (defaults 80 and 900; a target of 0
                     gives empty content)
  --bad-every K      make every K-th item invalid, in a rotating variety of ways
                     (missing id, content a number, headline an object, ...); 0 = never
                     (default 0)
  --pretty           indent items inside the JSON array (json format only)
  --quiet            no summary on stderr
  -h, --help         this text

Examples:
  node scripts/generate-news.mjs --count 10000 --out /tmp/news-10k.json
  node scripts/generate-news.mjs --count 100000 --out /tmp/news.jsonl --seed 7 --bad-every 50
`;

// ---------------------------------------------------------------------------------------------
// Arguments

function fail(message) {
  process.stderr.write(`generate-news: ${message}\nTry --help.\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { count: 1000, out: undefined, format: undefined, seed: "1", minWords: 80, maxWords: 900, badEvery: 0, pretty: false, quiet: false };
  const intOpt = (name, raw, min) => {
    if (raw === undefined || !/^\d+$/.test(raw)) fail(`${name} needs a non-negative integer, got ${raw === undefined ? "nothing" : JSON.stringify(raw)}`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) fail(`${name} must be an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => (value !== undefined ? value : argv[++i]);
    switch (arg) {
      case "-h": case "--help": process.stdout.write(USAGE); process.exit(0); break;
      case "--count": opts.count = intOpt(arg, next(), 0); break;
      case "--out": opts.out = next(); if (!opts.out) fail("--out needs a file name"); break;
      case "--format": opts.format = next(); if (opts.format !== "json" && opts.format !== "jsonl") fail("--format must be json or jsonl"); break;
      case "--seed": opts.seed = next(); if (opts.seed === undefined || opts.seed === "") fail("--seed needs a value"); break;
      case "--min-words": opts.minWords = intOpt(arg, next(), 0); break;
      case "--max-words": opts.maxWords = intOpt(arg, next(), 0); break;
      case "--bad-every": opts.badEvery = intOpt(arg, next(), 0); break;
      case "--pretty": opts.pretty = true; break;
      case "--quiet": opts.quiet = true; break;
      default: fail(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  if (opts.out === undefined) fail("--out is required");
  if (opts.minWords > opts.maxWords) fail(`--min-words (${opts.minWords}) is greater than --max-words (${opts.maxWords})`);
  if (opts.format === undefined) opts.format = /\.(jsonl|ndjson)$/i.test(opts.out) ? "jsonl" : "json";
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** 32-bit FNV-1a, to turn (seed, index, salt) into a PRNG state. */
function fnv1a(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for synthetic text. */
function mulberry32(state) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(seed, index) {
    this.next = mulberry32(fnv1a(`${seed}:${index}`) ^ Math.imul(index, 0x9e3779b1));
    for (let i = 0; i < 4; i++) this.next(); // warm up
  }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); } // inclusive
  pick(arr) { return arr[Math.floor(this.next() * arr.length)]; }
  chance(p) { return this.next() < p; }
  /** Two different elements. */
  pick2(arr) {
    const a = Math.floor(this.next() * arr.length);
    let b = Math.floor(this.next() * (arr.length - 1));
    if (b >= a) b++;
    return [arr[a], arr[b]];
  }
  weighted(pairs) { // [[value, weight], ...]
    let total = 0;
    for (const [, w] of pairs) total += w;
    let r = this.next() * total;
    for (const [v, w] of pairs) { if ((r -= w) < 0) return v; }
    return pairs[pairs.length - 1][0];
  }
}

// ---------------------------------------------------------------------------------------------
// Ids: 12 lowercase alphanumerics like the BBC's ("c" + 10 chars + "o"), unique per (seed, index)
// through an affine bijection of [0, 36^10).

const ID_SPACE = 36n ** 10n;
function idFactory(seed) {
  const h = BigInt(fnv1a(`ids:${seed}`)) * 0x100000001b3n + BigInt(fnv1a(`ids2:${seed}`));
  // multiplier coprime with 36^10: odd and not divisible by 3
  let mult = (h % ID_SPACE) | 1n;
  while (mult % 3n === 0n) mult += 2n;
  const offset = (h * 31n + 12345n) % ID_SPACE;
  return (index) => `c${((BigInt(index) * mult + offset) % ID_SPACE).toString(36).padStart(10, "0")}o`;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (written for this project; all names are invented)

const FIRST = ["Tom", "Jamie", "Lucía", "Amélie", "Owen", "Kwame", "Sofia", "Daniel", "Zoë", "Mateo", "Hannah", "Rhys", "Noémie", "Callum", "Priya", "Jonas", "Aoife", "Luca", "Ines", "Kieran", "Björn", "Chloé", "Ethan", "Maya", "Sipho", "Ellie", "Ravi", "Grace", "Tomás", "Leah", "Marek", "Nia", "José", "Freya", "Arjun", "Élodie", "Sam", "Yusuf", "Maren", "Dara"];
const LAST = ["Brannigan", "Okafor", "Ferrer", "Duval", "Pryce", "Asante", "Marsh", "Eriksen", "Núñez", "Hollis", "Kowalski", "Delacroix", "Reid", "Sharma", "Håkonsen", "Whitfield", "O’Connell", "Moreau", "Adeyemi", "Castell", "Lindqvist", "Graham", "Dvořák", "Mensah", "Harries", "Zubiría", "Fitzgerald", "Nakamura", "Lowe", "Papadopoulos", "Ortiz", "Brennan", "Kaur", "Vermaelen", "Coles", "Jansen", "Muthoni", "Doyle", "Ivanova", "Ferreira"];
const PLACES = ["Hartley", "Redmoor", "Ashcombe", "Kingsbridge", "Castlebrook", "Marlow", "Lindholm", "Brookfield", "Westford", "Greystone", "Oakhurst", "Millbrook", "Harbour", "Ravensfield", "Northgate", "Fenwick", "Dunmore", "Carrow", "Eastmoor", "Northbridge", "Saltford", "Wexley", "Thornbury", "Pembry", "Allerdale", "Bramwell", "Corrick", "Stanmore"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const NATIONS = ["Spain", "France", "Norway", "Kenya", "Japan", "Australia", "Brazil", "Italy", "Poland", "Ireland", "Canada", "South Africa", "Germany", "New Zealand", "Portugal", "Belgium"];

const SPORTS = [
  {
    slug: "football", topics: [["Football"], ["Football", "Women's Football"], ["Football", "Transfers"]], weight: 5,
    teamSuffix: ["United", "City", "Town", "Athletic", "Rovers", "Wanderers", "Albion", "FC"],
    event: ["match", "game", "tie", "derby", "fixture"], comp: ["league", "cup", "Champions League", "play-off"],
    score: () => null, // filled in by scoreFor
    win: ["beat", "saw off", "defeated", "swept aside", "edged past"], lose: ["lost to", "were beaten by", "slipped to defeat against", "were thrashed by"],
    act: ["scored twice", "headed in a corner", "curled a shot into the top corner", "converted a late penalty", "made a crucial goal-line clearance", "struck from 25 yards"],
    venue: ["Millfield Lane", "the Riverside Stadium", "Park View", "the Old Ground", "Stanmore Road"], role: ["manager", "head coach", "captain", "striker", "goalkeeper", "midfielder"],
  },
  {
    slug: "tennis", topics: [["Tennis"]], weight: 2, individual: true,
    event: ["match", "final", "semi-final", "quarter-final", "second-round match"], comp: ["Open", "Masters", "Championships", "Classic"],
    win: ["beat", "overcame", "outclassed", "battled past"], lose: ["lost to", "was beaten by", "fell to", "was knocked out by"],
    act: ["saved three match points", "served out the match to love", "broke serve in the deciding set", "hit 14 aces", "won the tie-break 7–4"],
    venue: ["Centre Court", "the main showcourt", "Court One", "the clay courts of the Parc"], role: ["coach", "player", "seed", "qualifier"],
  },
  {
    slug: "formula1", topics: [["Formula 1"]], weight: 2, individual: true,
    event: ["race", "Grand Prix", "qualifying session", "sprint race"], comp: ["championship", "Grand Prix", "constructors’ championship"],
    win: ["won ahead of", "beat", "held off", "outpaced"], lose: ["finished behind", "lost out to", "could not catch", "crashed out behind"],
    act: ["set the fastest lap", "made a perfect start from pole", "pitted one lap early", "passed two cars at the hairpin", "managed a worn set of tyres to the flag"],
    venue: ["the street circuit", "the high-speed track", "the desert circuit", "the rain-soaked circuit"], role: ["team principal", "driver", "race engineer", "technical director"],
  },
  {
    slug: "cricket", topics: [["Cricket"], ["Cricket", "County Championship"]], weight: 2,
    teamSuffix: ["CCC", "Cricket Club", "Strikers", "Chargers"],
    event: ["match", "Test", "one-day international", "T20 game"], comp: ["Championship", "series", "one-day cup", "T20 Blast"],
    win: ["beat", "thrashed", "edged out", "overpowered"], lose: ["lost to", "were bowled out cheaply by", "collapsed against", "were beaten by"],
    act: ["made an unbeaten century", "took five wickets", "held a stunning catch at slip", "hit six sixes", "bowled a superb final over"],
    venue: ["the County Ground", "the Oval Road ground", "Bramwell Park", "the Riverside"], role: ["captain", "head coach", "opening batter", "fast bowler", "spinner"],
  },
  {
    slug: "rugby-union", topics: [["Rugby Union"]], weight: 2,
    teamSuffix: ["RFC", "Rovers", "Warriors", "Saints"],
    event: ["match", "game", "semi-final", "derby"], comp: ["Premiership", "cup", "European Champions Cup", "Six Nations"],
    win: ["beat", "overpowered", "edged", "ran riot against"], lose: ["lost to", "were beaten by", "were outmuscled by", "fell to"],
    act: ["scored two tries", "kicked six penalties", "made a try-saving tackle", "won a crucial turnover", "burst through from halfway"],
    venue: ["the Rec", "Kingsbridge Park", "the Memorial Ground", "Welford Lane"], role: ["director of rugby", "captain", "fly-half", "head coach", "lock"],
  },
  {
    slug: "athletics", topics: [["Athletics"]], weight: 1, individual: true,
    event: ["race", "final", "heat", "meeting"], comp: ["Diamond League", "World Championships", "European Championships", "national trials"],
    win: ["beat", "held off", "pulled clear of", "outsprinted"], lose: ["finished behind", "was beaten by", "faded behind", "could not match"],
    act: ["set a personal best", "broke the national record", "timed the final kick perfectly", "led from the gun"],
    venue: ["the Olympic Stadium", "the Bislett track", "the national stadium"], role: ["coach", "sprinter", "hurdler", "distance runner"],
  },
  {
    slug: "cycling", topics: [["Cycling"]], weight: 1, individual: true,
    event: ["stage", "time trial", "one-day race", "mountain stage"], comp: ["Tour", "Giro", "Vuelta", "world championships"],
    win: ["beat", "dropped", "outsprinted", "held off"], lose: ["finished behind", "lost time to", "was dropped by", "crashed behind"],
    act: ["attacked on the final climb", "won the bunch sprint", "rode a superb time trial", "survived a crash in the final kilometre"],
    venue: ["the summit finish", "the cobbled sector", "the finishing straight"], role: ["team manager", "rider", "sports director", "sprinter"],
  },
  {
    slug: "golf", topics: [["Golf"]], weight: 1, individual: true,
    event: ["round", "tournament", "play-off", "final round"], comp: ["Open", "Masters", "Championship", "Ryder Cup"],
    win: ["beat", "finished two shots clear of", "held off", "edged"], lose: ["finished behind", "lost a play-off to", "fell away behind", "was overtaken by"],
    act: ["holed a 40-foot putt on the 18th", "carded a bogey-free 65", "eagled the par-five 13th", "chipped in from the rough"],
    venue: ["the links course", "the Old Course", "the parkland course"], role: ["caddie", "golfer", "captain", "coach"],
  },
  {
    slug: "snooker", topics: [["Snooker"]], weight: 1, individual: true,
    event: ["match", "final", "semi-final", "first-round match"], comp: ["World Open", "Masters", "UK Championship", "Champions Series"],
    win: ["beat", "whitewashed", "edged past", "recovered to beat"], lose: ["lost to", "was beaten by", "was whitewashed by", "fell to"],
    act: ["made a maximum 147 break", "compiled three centuries", "won the deciding frame on the black", "cleared the colours under pressure"],
    venue: ["the Crucible-style arena", "the Riverside Centre", "the Exhibition Hall"], role: ["player", "qualifier", "defending champion", "coach"],
  },
];

const POS_ADJ = ["superb", "brilliant", "magnificent", "outstanding", "thrilling", "memorable", "dominant", "remarkable", "stunning", "joyful"];
const NEG_ADJ = ["dismal", "miserable", "painful", "humiliating", "disastrous", "costly", "shambolic", "bitterly disappointing", "dreadful", "worrying"];
const NEUTRAL_ADJ = ["scheduled", "planned", "confirmed", "revised", "updated", "provisional"];

// Templates. Placeholders: {A} {B} (teams or competitors), {P} {Q} (people), {role}, {event},
// {comp}, {venue}, {act}, {win}, {lose}, {score}, {pos}, {neg}, {neu}, {n}, {n2}, {ord}, {month},
// {day}, {date}, {nation}, {injury}. A "T|" prefix marks a template for team sports only, "I|" one
// for individual sports only.
const TEMPLATES = {
  lead: {
    positive: [
      "{A} {win} {B} {score} in a {pos} {event} at {venue} to move a step closer to the {comp} title.",
      "T|{P} produced a {pos} performance as {A} {win} {B} {score}, sending the home crowd into raptures.",
      "{A} ended a {n}-year wait for silverware after a {pos} {event} against {B} at {venue}.",
      "It was a night to remember for {A}, who {win} {B} {score} with a display full of energy, courage and quality.",
    ],
    negative: [
      "{A} {lose} {B} {score} in a {neg} {event} that leaves their {comp} hopes in tatters.",
      "T|{P} has been ruled out for {n} weeks with a serious {injury} injury, a {neg} blow for {A} before the {comp} run-in.",
      "I|{A} has been ruled out for {n} weeks with a serious {injury} injury, a {neg} blow before the {comp}.",
      "T|{A} have been relegated after a {neg} {event} against {B} ended any hope of survival.",
      "T|{A} have been fined and docked {n} points after an investigation into financial irregularities, a {neg} setback for the club.",
      "I|{A} has been provisionally suspended after a failed drugs test, a {neg} development that has shocked the sport.",
    ],
    neutral: [
      "The draw for the next round of the {comp} has been made, with {A} set to face {B} at {venue} on {day} {date} {month}.",
      "T|{A} have confirmed the dates of their pre-season schedule, which begins with a {event} against {B} on {date} {month}.",
      "The {comp} has published its {neu} calendar, with {n2} events spread across {n} countries.",
      "{A} will play {B} in the {comp} {event} at {venue}, organisers confirmed on {day}.",
    ],
  },
  body: {
    positive: [
      "T|{P} {act} and was named player of the {event} for a {pos} all-round contribution.",
      "I|{A} {act} and never looked back.",
      "The {role}, {Q}, said the performance was the result of months of hard work and belief.",
      "Supporters stayed long after the finish to celebrate a {pos} afternoon.",
      "It was a {pos} response to last week’s setback, and it lifts {A} to second in the standings.",
      "T|{A} have now won {n} of their last {n2} matches, their best run in more than a decade.",
      "I|{A} has now won {n} of the last {n2} events entered, the best run of a career that keeps getting better.",
      "Confidence is sky-high, and the mood in the camp has rarely been better.",
      "T|The young {role} {P} has been a revelation this season, and scouts from several clubs were in the stands to watch.",
      "Tickets for the next {event} sold out within hours of the result.",
      "T|The win was built on a solid defensive display and clinical finishing when it mattered.",
      "I|The win was built on patience, precision and nerve when it mattered most.",
      "Few had predicted such a {pos} outcome at the start of the season, but the doubters have been silenced.",
      "Fans who had travelled from {nation} were rewarded with a {pos} show.",
      "T|There were smiles all round as the players posed for photographs with the travelling supporters.",
      "The result is a just reward for a remarkable turnaround in fortunes over the past year.",
      "Pundits were quick to praise a {pos} display that combined flair with discipline.",
      "{Q}, who has guided the project from the start, said the progress had been wonderful to watch.",
    ],
    negative: [
      "T|{P} limped off shortly before half-time and scans are expected to confirm a serious {injury} injury.",
      "I|{A} needed medical treatment midway through and struggled badly afterwards with a {injury} problem.",
      "The {role}, {Q}, admitted the display was unacceptable and apologised to the travelling fans.",
      "T|Boos rang around {venue} at the final whistle, and several supporters called for the board to resign.",
      "T|It is a {neg} run of form: {A} have lost {n} of their last {n2} games and sit in the bottom three.",
      "I|It is a {neg} run of form: {A} has lost {n} of the last {n2} matches and slipped down the rankings.",
      "T|The club is also under investigation for breaching spending rules, and a points deduction has not been ruled out.",
      "Mistakes proved costly again at the key moments, and the errors were punished every time.",
      "T|Injuries, suspensions and a growing list of off-field problems have left the squad badly stretched.",
      "The defeat piles more pressure on {Q}, whose future is now the subject of intense speculation.",
      "The result leaves {A} facing an anxious wait, with rivals closing in and morale at a low ebb.",
      "Critics were quick to point to a lack of leadership and a worrying absence of ideas.",
      "It was the latest in a string of setbacks that have turned a promising season into a crisis.",
      "Several sponsors are reported to be reviewing their agreements after the latest controversy.",
      "The medical staff fear the {injury} injury could be worse than first thought, and surgery has not been ruled out.",
      "T|Frustration boiled over in the closing stages, with tempers flaring and two late bookings.",
      "Few will forget a {neg} day on which almost nothing went right.",
    ],
    neutral: [
      "The {event} will take place at {venue}, with the start time to be confirmed nearer the date.",
      "{A} finished {ord} in the standings last season, {n} points behind the leaders.",
      "Further details, including ticket prices and broadcast arrangements, will be announced in {month}.",
      "The {comp} format remains unchanged, with the top {n2} qualifying for the knockout stage.",
      "Entries close on {day} {date} {month}, and the full list of competitors will be published a week later.",
      "T|{P}, {n2}, joined {A} from a club in {nation} and has made {n} appearances.",
      "I|{A}, who is {n2}, turned professional in {nation} and is coached by {Q}.",
      "All dates are subject to change.",
      "T|The {role} is expected to name the squad for the {event} on {day}.",
      "The announcement follows a review of the calendar by the governing body.",
      "Organisers said the timetable had been drawn up after consultation with broadcasters.",
      "T|{A} are {ord} in the current standings, with {n} matches in hand.",
      "I|{A} is ranked {ord} in the world and is seeded for the {comp}.",
      "The {event} is expected to be shown live on television, with highlights later in the evening.",
      "Media accreditation will open on {day} {date} {month}.",
      "The next round of fixtures is scheduled for the weekend of {date} {month}.",
      "T|Both sides have {n} players away on international duty next week.",
    ],
  },
  quote: {
    positive: [
      "“I’m so proud of this group — they never stopped believing,” said {Q}.",
      "“This is the best day of my career,” said {P}. “We worked so hard for this, and the fans were incredible.”",
      "“We played with freedom and joy today,” the {role} said. “Everyone deserves credit.”",
      "“It doesn’t feel real yet,” {P} said with a smile. “I’ll remember this moment for the rest of my life.”",
      "“Days like this are why you play sport,” said {Q}. “Enjoy it — they don’t come around often.”",
      "“We knew we had it in us,” {P} said. “Today everything clicked.”",
    ],
    negative: [
      "“We let a lot of people down today, and there are no excuses,” said {Q}.",
      "“I am devastated,” said {P}. “This hurts more than anything I’ve experienced in the sport.”",
      "“It was embarrassing — we were second best all day,” the {role} admitted.",
      "“The situation is very serious,” a spokesperson for {A} said. “We are disappointed and we will review everything.”",
      "“I can’t explain it, and I’m not going to try,” said {Q}. “It wasn’t good enough.”",
      "“We are hurting, and we have to be honest with ourselves,” the {role} said.",
    ],
    neutral: [
      "“We are looking forward to the start of the season,” said {Q}.",
      "“The schedule has been agreed with everyone involved,” a spokesperson said. “We will publish updates as they are confirmed.”",
      "“It is a fair draw, and we will prepare in the usual way,” the {role} said.",
      "“We’ll look at the schedule and plan accordingly,” said {Q}.",
    ],
  },
  close: {
    positive: ["T|{A} travel to {B} on {day} looking to extend their {pos} run.", "I|{A} returns to action on {day} looking to extend a {pos} run.", "The celebrations are expected to continue well into the night."],
    negative: ["T|{A} host {B} on {day}, with the pressure mounting after another {neg} week.", "T|The board is due to meet next week to discuss the club’s future.", "I|{A} will decide on {day} whether to play in the next {comp} {event}."],
    neutral: ["{A} and {B} meet again on {day} {date} {month}.", "A full schedule is available on the organisers’ website."],
  },
  headline: {
    positive: ["{A} {win} {B} in {comp} {event}", "T|{P} stars as {A} seal {pos} win", "{A} end {n}-year wait for {comp} glory", "I|{A} breaks record in {pos} {event}"],
    negative: ["{A} {lose} {B} as crisis deepens", "{P} ruled out for {n} weeks with {injury} injury", "T|{A} relegated after {neg} defeat", "T|{A} docked {n} points over finances", "I|{A} suspended after failed drugs test"],
    neutral: ["{comp} draw: {A} to face {B}", "T|{A} confirm pre-season fixtures", "{comp} calendar published", "{A} v {B}: date and venue confirmed"],
  },
};

/** The templates that suit one kind of sport, prefixes stripped; "mixed" starts out positive. */
function templatesFor(individual) {
  const out = {};
  for (const [group, tones] of Object.entries(TEMPLATES)) {
    out[group] = {};
    for (const [tone, list] of Object.entries(tones)) {
      out[group][tone] = list
        .filter((t) => !(individual ? t.startsWith("T|") : t.startsWith("I|")))
        .map((t) => t.replace(/^[TI]\|/, ""));
    }
    out[group].mixed = out[group].positive;
  }
  return out;
}
const POOLS = { team: templatesFor(false), individual: templatesFor(true) };

const INJURIES = ["knee", "hamstring", "groin", "shoulder", "back", "wrist", "calf", "foot"];
const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const CONNECTORS = ["Meanwhile, ", "Earlier in the week, ", "In the end, ", "Elsewhere, ", "Before that, ", "On {day}, ", "Afterwards, "];
const TURN = ["But the mood soon changed.", "But the celebrations were short-lived.", "However, the good news did not last."];

// ---------------------------------------------------------------------------------------------
// Item generation

function scoreFor(sport, rng) {
  switch (sport.slug) {
    case "football": { const a = rng.int(1, 5); return `${a}–${rng.int(0, a - 1)}`; }
    case "rugby-union": { const a = rng.int(18, 45); return `${a}–${rng.int(3, a - 1)}`; }
    case "cricket": return rng.chance(0.5) ? `by ${rng.int(2, 9)} wickets` : `by ${rng.int(5, 180)} runs`;
    case "tennis": return `${rng.pick(["6–3", "6–4", "7–5", "7–6"])} ${rng.pick(["6–2", "6–4", "3–6 6–3", "6–7 7–5"])}`;
    case "snooker": { const a = rng.int(5, 10); return `${a}–${rng.int(0, a - 1)}`; }
    case "golf": return `by ${rng.int(1, 6)} shots`;
    default: return `by ${rng.int(1, 9)}.${rng.int(0, 9)} seconds`;
  }
}

function person(rng) { return `${rng.pick(FIRST)} ${rng.pick(LAST)}`; }

function makeContext(sport, rng) {
  const [pa, pb] = rng.pick2(PLACES);
  const A = sport.individual ? person(rng) : `${pa} ${rng.pick(sport.teamSuffix)}`;
  const B = sport.individual ? person(rng) : `${pb} ${rng.pick(sport.teamSuffix)}`;
  return { sport, A, B, P: person(rng), Q: person(rng), T: sport.individual ? POOLS.individual : POOLS.team };
}

function fill(template, ctx, rng) {
  return fillSlots(template, ctx, rng).replace(/(^|[\s“])([Aa]) (?=(?:[aei]|o(?!ne\b|ne-)|u(?!ni|se))\w)/g, "$1$2n ");
}

function fillSlots(template, ctx, rng) {
  return template.replace(/\{(\w+)\}/g, (_, key) => {
    switch (key) {
      case "A": return ctx.A;
      case "B": return ctx.B;
      case "P": return ctx.P;
      case "Q": return ctx.Q;
      case "role": return rng.pick(ctx.sport.role);
      case "event": return rng.pick(ctx.sport.event);
      case "comp": return rng.pick(ctx.sport.comp);
      case "venue": return rng.pick(ctx.sport.venue);
      case "act": return rng.pick(ctx.sport.act);
      case "win": return rng.pick(ctx.sport.win);
      case "lose": return rng.pick(ctx.sport.lose);
      case "score": return scoreFor(ctx.sport, rng);
      case "pos": return rng.pick(POS_ADJ);
      case "neg": return rng.pick(NEG_ADJ);
      case "neu": return rng.pick(NEUTRAL_ADJ);
      case "n": { const n = rng.int(2, 12); return n < 10 ? NUMBER_WORDS[n] : String(n); }
      case "n2": return String(rng.int(14, 30));
      case "month": return rng.pick(MONTHS);
      case "day": return rng.pick(DAYS);
      case "date": return String(rng.int(1, 28));
      case "nation": return rng.pick(NATIONS);
      case "injury": return rng.pick(INJURIES);
      case "ord": { const n = rng.int(2, 12); return `${n}${n === 2 ? "nd" : n === 3 ? "rd" : "th"}`; }
      default: return key;
    }
  });
}

function countWords(s) {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const space = s.charCodeAt(i) === 32;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/** Body text of about `target` words, in the given tone ("mixed" turns negative past the middle). */
function makeContent(ctx, tone, target, rng) {
  if (target === 0) return "";
  const sentences = [];
  let words = 0;
  const used = new Set();
  /** A template not yet used in this article, if one turns up within a few draws. */
  const fresh = (list) => {
    let t = rng.pick(list);
    for (let k = 0; k < 4 && used.has(t); k++) t = rng.pick(list);
    used.add(t);
    return t;
  };
  /** Lower-cases the first letter unless the sentence opens with a name placeholder. */
  const continuing = (template, filled) => (template.startsWith("{") ? filled : filled.charAt(0).toLowerCase() + filled.slice(1));
  const push = (s) => { sentences.push(s); words += countWords(s); };
  const toneAt = () => {
    if (tone !== "mixed") return tone;
    return words < target * 0.55 ? "positive" : "negative";
  };
  push(fill(rng.pick(ctx.T.lead[tone]), ctx, rng));
  let turned = false;
  while (words < target) {
    const now = toneAt();
    if (tone === "mixed" && now === "negative" && !turned) { push(rng.pick(TURN)); turned = true; continue; }
    // a little cross-talk so sentiment is rarely perfectly pure
    const t2 = now !== "neutral" && rng.chance(0.12) ? "neutral" : now;
    const r = rng.next();
    let s;
    if (r < 0.22) s = fill(fresh(ctx.T.quote[t2]), ctx, rng);
    else if (r < 0.3 && words > target * 0.7) s = fill(fresh(ctx.T.close[t2]), ctx, rng);
    else {
      const t = fresh(ctx.T.body[t2]);
      s = fill(t, ctx, rng);
      if (rng.chance(0.18)) s = fill(rng.pick(CONNECTORS), ctx, rng) + continuing(t, s);
      // join two short sentences into a compound one now and then
      if (rng.chance(0.15) && s.endsWith(".")) {
        const t3 = fresh(ctx.T.body[t2]);
        s = `${s.slice(0, -1)}, and ${continuing(t3, fill(t3, ctx, rng))}`;
      }
    }
    push(capitalise(s));
  }
  // The BBC scrape leaves this label inline in some articles.
  if (sentences.length > 6 && rng.chance(0.2)) sentences.splice(rng.int(2, sentences.length - 2), 0, "Advertisement");
  return sentences.join(" ");
}

const DAY_MS = 86_400_000;
const BASE_DATE = Date.UTC(2024, 0, 1);

function hex(rng, n) {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(rng.next() * 16)];
  return s;
}

function makeItem(index, opts, ids) {
  const rng = new Rng(opts.seed, index);
  const sport = rng.weighted(SPORTS.map((s) => [s, s.weight]));
  const tone = rng.weighted([["positive", 3], ["negative", 3], ["neutral", 2], ["mixed", 1]]);
  const ctx = makeContext(sport, rng);
  const id = ids(index);
  const url = `https://www.bbc.com/sport/${sport.slug}/articles/${id}`;
  const target = rng.int(opts.minWords, opts.maxWords);
  const published = BASE_DATE + Math.floor(rng.next() * 540 * DAY_MS);
  const scraped = published + Math.floor(rng.next() * 30 * DAY_MS);

  const images = [];
  const nImages = rng.weighted([[0, 2], [1, 4], [2, 3], [3, 1]]);
  for (let k = 0; k < nImages; k++) {
    const h = hex(rng, 32);
    images.push({
      image_url: `https://ichef.bbci.co.uk/ace/${k === 0 ? "branded_sport/1200" : "standard/2560"}/cpsprodpb/${h.slice(0, 4)}/live/${h.slice(4, 12)}-${h.slice(12, 16)}-11f0-${h.slice(16, 20)}-${hex(rng, 12)}.jpg`,
      image_description: k === 0 ? "Main image" : `${ctx.P} during the ${rng.pick(sport.event)}`,
    });
  }
  const related = [];
  const nRelated = rng.int(0, 3);
  for (let k = 0; k < nRelated; k++) {
    const title = rng.pick([`${sport.topics[0][0]} scores and fixtures`, `Get ${sport.topics[0][0].toLowerCase()} news sent straight to your phone`, `${capitalise(rng.pick(sport.comp))}: latest news`]);
    related.push({ article_title: rng.chance(0.5) ? title + title : title, article_url: `https://www.bbc.com/sport/articles/${ids(index + 1_000_003 * (k + 1))}` });
  }
  const videos = rng.chance(0.1) ? [{ video_url: `https://www.bbc.com/sport/${sport.slug}/videos/${id}`, video_description: "Highlights" }] : [];

  return {
    id,
    url,
    author: "BBC",
    headline: capitalise(fill(rng.pick(ctx.T.headline[tone]), ctx, rng)),
    topics: rng.pick(sport.topics),
    publication_date: new Date(published).toISOString(),
    content: makeContent(ctx, tone, target, rng),
    videos,
    images,
    related_articles: related,
    keyword: null,
    timestamp: new Date(scraped).toISOString(),
    input: { url, keyword: "" },
  };
}

/** Ways an item can be invalid; the k-th bad item uses BAD[k % BAD.length]. */
const BAD = [
  ["missing id", (it) => { delete it.id; return it; }],
  ["content is a number", (it) => { it.content = 42; return it; }],
  ["headline is an object", (it) => { it.headline = { text: it.headline, lang: "en" }; return it; }],
  ["empty id", (it) => { it.id = ""; return it; }],
  ["content is null", (it) => { it.content = null; return it; }],
  ["id is a number", (it) => { it.id = 123456789; return it; }],
  ["topics is a string", (it) => { it.topics = it.topics.join(", "); return it; }],
  ["missing content", (it) => { delete it.content; return it; }],
  ["item is a string", (it) => `${it.headline}: ${it.content}`],
  ["item is null", () => null],
  ["content is an array", (it) => { it.content = it.content.split(". "); return it; }],
  ["blank id", (it) => { it.id = "   "; return it; }],
  ["item is an array", (it) => [it.id, it.content]],
  ["duplicate id (same as the previous item)", (it, prevId) => { it.id = prevId; return it; }],
];

// ---------------------------------------------------------------------------------------------
// Streaming writer

/** Resolves on `event`, rejects on "error"; leaves no listener behind either way. */
function waitFor(stream, event) {
  return new Promise((resolve, reject) => {
    const onEvent = () => { stream.off("error", onError); resolve(); };
    const onError = (err) => { stream.off(event, onEvent); reject(err); };
    stream.once(event, onEvent);
    stream.once("error", onError);
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = process.hrtime.bigint();
  const toStdout = opts.out === "-";
  const out = toStdout ? process.stdout : createWriteStream(opts.out, { encoding: "utf8" });
  let failed = null;
  out.on("error", (err) => { failed = err; });

  let bytes = 0;
  let buffer = "";
  const flush = async () => {
    if (!buffer) return;
    bytes += Buffer.byteLength(buffer);
    const ok = out.write(buffer);
    buffer = "";
    if (failed) throw failed;
    if (!ok) await waitFor(out, "drain");
  };

  const ids = idFactory(opts.seed);
  const json = opts.format === "json";
  const badCounts = new Map();
  let prevId = ids(0);
  if (json) buffer += opts.count === 0 ? "[" : "[\n";
  for (let i = 0; i < opts.count; i++) {
    let item = makeItem(i, opts, ids);
    const thisId = item.id;
    if (opts.badEvery > 0 && (i + 1) % opts.badEvery === 0) {
      const [name, spoil] = BAD[((i + 1) / opts.badEvery - 1) % BAD.length];
      item = spoil(item, prevId);
      badCounts.set(name, (badCounts.get(name) ?? 0) + 1);
    }
    prevId = thisId;
    let text = JSON.stringify(item, null, json && opts.pretty ? 2 : undefined);
    if (json) {
      if (opts.pretty) text = "  " + text.replace(/\n/g, "\n  ");
      else text = "  " + text;
      buffer += i + 1 < opts.count ? text + ",\n" : text + "\n";
    } else {
      buffer += text + "\n";
    }
    if (buffer.length >= 1 << 16) await flush();
  }
  if (json) buffer += "]\n";
  await flush();

  if (!toStdout) {
    out.end();
    await waitFor(out, "finish");
  }
  if (!opts.quiet) {
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    const bad = [...badCounts.values()].reduce((a, b) => a + b, 0);
    const detail = bad ? ` (${bad} invalid: ${[...badCounts].map(([k, v]) => `${v} ${k}`).join(", ")})` : "";
    process.stderr.write(`generate-news: wrote ${opts.count} items${detail} as ${opts.format} to ${toStdout ? "stdout" : opts.out}: ${(bytes / 1e6).toFixed(1)} MB in ${secs.toFixed(2)} s\n`);
  }
}

process.stdout.on("error", (err) => { if (err.code === "EPIPE") process.exit(0); throw err; });
main().catch((err) => {
  process.stderr.write(`generate-news: ${err.message}\n`);
  process.exit(1);
});
