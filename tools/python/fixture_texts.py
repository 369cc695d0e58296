"""Sports-news style texts written for news-moe's test fixtures (original prose, no sources).

Every sentence ends with '.', '!' or '?' followed by whitespace (or the end of the text), and
no other '.', '!' or '?' is followed by whitespace (no abbreviations such as "Mr." or "St."),
so the sentence split used by the chunking rule is unambiguous on them.
"""
from __future__ import annotations

import random

ARTICLES = {
    "football_late_winner": (
        "Harbourside Athletic snatched a dramatic 2-1 victory over Millbrook Rovers on Saturday, "
        "with substitute Tomasz Wren heading in the winner in the fourth minute of stoppage time. "
        "The visitors had led through a curling free-kick from captain Dele Osei shortly before half-time, "
        "and for long spells they looked comfortable on a heavy pitch. "
        "Athletic manager Carla Ruiz made three changes on the hour and her side finally found a way through "
        "when full-back Jonas Pike drilled a low shot inside the near post. "
        "Wren, who had been on the pitch for only six minutes, then rose above two defenders to meet a corner. "
        "\"We never stopped believing,\" Ruiz said afterwards. "
        "The result lifts Athletic to fourth in the table, two points behind the promotion places."
    ),
    "cricket_rain_delay": (
        "Persistent rain meant only 31 overs were possible on the opening day of the county match at Eastgate. "
        "The visitors, put in to bat under heavy cloud, slipped to 48 for four as the seamers found lavish movement. "
        "Opener Priya Natarajan resisted for almost two hours, leaving well outside off stump and punishing anything short. "
        "She had reached 41 when the covers came on for the final time shortly after tea. "
        "Left-armer Sam Okafor was the pick of the home attack with three wickets for 17 runs. "
        "Forecasters expect brighter weather for the rest of the week, and both captains will hope to force a result."
    ),
    "tennis_retirement": (
        "The second seed retired injured midway through the third set of her quarter-final on Wednesday, "
        "handing a place in the last four to the unseeded qualifier Lina Marsh. "
        "Marsh had won the first set 6-4 and was leading 3-1 in the decider when her opponent called for the trainer "
        "to treat a problem with her left thigh. "
        "After a lengthy medical time-out she attempted two more points before shaking hands at the net. "
        "It is the first time Marsh, ranked 143rd in the world, has reached the semi-finals of a tour event. "
        "She will face the fifth seed, who needed only 58 minutes to beat her compatriot in straight sets."
    ),
    "f1_lineup": (
        "The Aurora Formula One team has confirmed its driver line-up for next season after weeks of speculation. "
        "Veteran Matteo Gallo will stay for a sixth campaign, while reserve driver Kenji Aoyama is promoted to a race seat. "
        "Aoyama, 21, impressed in two practice sessions this year and won four races in the junior series. "
        "Team principal Ruth Adler said the decision balanced experience with the need to build for new regulations. "
        "The outgoing driver, who scored the team's only podium of the year, is expected to move to endurance racing. "
        "Aurora currently sit seventh in the constructors' standings with five rounds remaining."
    ),
    "athletics_record": (
        "Nadia Forde broke the championship record in the 400 metres hurdles on Friday night, "
        "beating the reigning world champion by half a second in a thrilling final. "
        "The 24-year-old was third over the eighth hurdle but produced a ferocious finish to pull clear on the run-in. "
        "Her time of 52 seconds and 31 hundredths also took almost a second off her personal best. "
        "\"I could hear the crowd getting louder and I just kept attacking,\" she said. "
        "Forde's coach revealed that she had trained through a foot injury for much of the spring. "
        "The champion, who had been unbeaten all season, congratulated her rival on the track."
    ),
    "rugby_comeback": (
        "Valley Warriors came from 20 points down to beat Northport 33-30 in a breathless league match on Sunday. "
        "The hosts were shell-shocked after three first-half tries from the visitors' rampaging back row. "
        "Fly-half Owen Price kicked two penalties before the break to keep his side within reach. "
        "Two tries in five minutes from winger Isaac Mensah turned the game after the interval. "
        "Price then landed a touchline conversion with the final kick of the match to seal the win. "
        "Northport's coach called the defeat the most painful of his career."
    ),
    "golf_playoff": (
        "Scotland's Fiona Baird won her first professional title after a three-hole play-off at Linkside on Sunday. "
        "Baird and American Jess Moreno had finished level on eleven under par after both closed with rounds of 68. "
        "The pair halved the first two extra holes with pars before Baird holed from twenty feet for a birdie. "
        "\"I have dreamed about that putt since I was a little girl,\" Baird said as she lifted the trophy. "
        "The victory secures her playing rights on the main tour for the next two seasons."
    ),
    "cycling_breakaway": (
        "A five-rider breakaway stayed clear to the finish on stage nine, with Belgian Pieter Claes taking the sprint. "
        "The group escaped after 40 kilometres and built a lead of more than six minutes on the rolling roads. "
        "The peloton, controlled by the race leader's team, showed little interest in a chase. "
        "Claes launched his sprint from 250 metres and held off Spain's Diego Alba by half a wheel. "
        "The overall standings were unchanged, and Monday's rest day comes before three mountain stages."
    ),
    "swimming_relay": (
        "The women's medley relay team set a national record on the final night of the championships! "
        "Backstroker Ellie Tran gave them a flying start, and breaststroker Maya Korsgaard extended the lead. "
        "Butterfly specialist Rosa Lind held off a fierce challenge before freestyler Ada Quinn brought them home. "
        "Their time was quick enough to place them fourth in the world rankings this season. "
        "Could this quartet challenge for a medal at next summer's games? "
        "Head coach Liam Dorsey believes they can, provided the group stays healthy."
    ),
    "boxing_title": (
        "Marcus Bell retained his middleweight title with a unanimous decision over Andre Silva in a gruelling fight. "
        "Two judges scored the bout 116-112 and the third had it 115-113 in favour of the champion. "
        "Bell dropped his challenger with a right hand in the seventh round but could not find a finishing blow. "
        "Silva, bleeding from a cut above his left eye, rallied in the championship rounds. "
        "Both fighters said afterwards that they would welcome a rematch next year."
    ),
    "basketball_overtime": (
        "Capital City Comets beat the Riverside Hawks 118-112 in overtime to level their play-off series at two games each. "
        "Point guard Dana Howell scored 14 of her 38 points in the fourth quarter and overtime. "
        "The Hawks led by nine with three minutes left in regulation before a string of turnovers let the Comets back in. "
        "Howell's three-pointer with four seconds remaining forced the extra period. "
        "Game five is on Thursday in Riverside."
    ),
    "snooker_final": (
        "Wei Lun Chen won the Northern Open with a 10-8 victory over defending champion Graham Platt in a tense final. "
        "Chen trailed 6-3 after the afternoon session but compiled three centuries in the evening to turn the match around. "
        "Platt missed a simple black off the spot when leading 8-7, and his opponent punished him with a clearance of 92. "
        "The title is Chen's second ranking victory and lifts him into the world's top 16 for the first time."
    ),
}

# Short or unusual inputs.
SHORT_TEXTS = {
    "goal": "Goal!",
    "headline_only": "Keeper saves late penalty as Rovers hold on.",
}

# ---------------------------------------------------------------------------------------------
# Long articles: deterministic match-report sentences from templates (still original text).
# ---------------------------------------------------------------------------------------------

_TEAMS = ["Harbourside Athletic", "Millbrook Rovers", "Eastgate Town", "Northport City", "Valley United",
          "Linkside Wanderers", "Capital Borough", "Riverside Albion", "Ashford Rangers", "Kingsmere Celtic"]
_PLAYERS = ["Tomasz Wren", "Dele Osei", "Jonas Pike", "Isaac Mensah", "Owen Price", "Kofi Boateng", "Luca Ferri",
            "Sean Doyle", "Ravi Menon", "Eric Lund", "Hugo Blanc", "Aaron Mills", "Yusuf Kaya", "Niall Byrne"]
_EVENTS = [
    "{p} opened the scoring for {t} with a low finish after {m} minutes.",
    "{p} struck the crossbar from twenty yards as {t} pressed for a second goal.",
    "A superb save from the {t} goalkeeper denied {p} in the {m}th minute.",
    "{p} was booked for a late challenge, and {t} were fortunate not to lose another player.",
    "{t} equalised when {p} turned in a cross at the far post on {m} minutes.",
    "The referee waved away strong appeals for a penalty after {p} went down in the area.",
    "{p} limped off with a hamstring injury, forcing {t} into an early change.",
    "Was that the turning point of the afternoon? {t} certainly thought so.",
    "{t} manager described the performance as the best of the season!",
    "{p} completed a fine individual run before firing narrowly wide.",
    "Supporters of {t} sang throughout a tense second half.",
    "{p} headed home from a corner to put {t} in front with {m} minutes played.",
    "The home crowd fell silent when {p} fired {t} ahead against the run of play.",
    "{t} had more of the ball, but clear chances were scarce for long periods.",
]


def long_article(n_sentences: int, seed: int) -> str:
    """A long match-report style text of n_sentences sentences (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_sentences):
        tmpl = rng.choice(_EVENTS)
        out.append(tmpl.format(p=rng.choice(_PLAYERS), t=rng.choice(_TEAMS), m=rng.randint(2, 89)))
    return " ".join(out)


def all_short_articles_text() -> str:
    """All hand-written articles joined, the raw material for exact-length inputs."""
    return " ".join(ARTICLES.values())


# Sentiment texts: (name, text). Varied scripts, punctuation and lengths.
SENTIMENT_TEXTS = [
    ("plain_positive", "What a fantastic performance from the whole team, a truly memorable night."),
    ("plain_negative", "A dismal, lifeless display that left the supporters angry and frustrated."),
    ("unicode_quotes", "\u201cWe were brilliant,\u201d said the coach \u2014 \u2018absolutely brilliant\u2019."),
    ("emoji", "Champions again!!! \U0001F3C6\U0001F389\u26BD What a season \U0001F60D"),
    ("accents", "Jos\u00e9 M\u00fcller scored a superb goal at the Estadio Jos\u00e9 Alvalade \u2014 na\u00efve defending, caf\u00e9-au-lait jerseys."),
    ("french", "L'\u00e9quipe a perdu un match tr\u00e8s d\u00e9cevant, les supporters sont furieux."),
    ("japanese", "\u9078\u624b\u305f\u3061\u306f\u7d20\u6674\u3089\u3057\u3044\u8a66\u5408\u3092\u898b\u305b\u305f\u3002"),
    ("mixed_cjk_latin", "The striker \u5927\u8c37 scored twice \u2014 \u7d20\u6674\u3089\u3057\u3044!"),
    ("whitespace_nbsp", "  Late   drama\u00a0at the\tstadium \n\n as the hosts   collapse  "),
    ("empty", ""),
    ("spaces_only", "   "),
    ("single_char", "!"),
]

# Tokenizer edge cases: (name, text)
TOKENIZER_TEXTS = [
    ("ascii", "Harbourside Athletic won 2-1."),
    ("leading_space", " Harbourside Athletic won 2-1."),
    ("unicode_quotes", "\u201cWe never stopped believing,\u201d Ruiz said \u2018afterwards\u2019."),
    ("emoji", "\U0001F3C6 Champions! \U0001F389\U0001F389 \u26BD\ufe0f"),
    ("zwj_emoji", "Fans \U0001F468\u200d\U0001F469\u200d\U0001F467 cheered"),
    ("accents", "Jos\u00e9 M\u00fcller, Fran\u00e7ois, \u00c5ngstr\u00f6m, na\u00efve"),
    ("combining_accent", "Jose\u0301 and Mu\u0308ller"),
    ("cjk", "\u9078\u624b\u305f\u3061\u306f\u7d20\u6674\u3089\u3057\u3044\u8a66\u5408\u3092\u898b\u305b\u305f\u3002 \u4e2d\u6587\u6d4b\u8bd5"),
    ("korean", "\uc120\uc218\ub4e4\uc774 \uc798\ud588\ub2e4"),
    ("arabic", "\u0641\u0627\u0632 \u0627\u0644\u0641\u0631\u064a\u0642"),
    ("multiple_spaces", "Goal    after    goal"),
    ("newlines", "Line one.\nLine two.\r\nLine three.\n\n\nEnd"),
    ("tabs", "Score:\t2\t-\t1"),
    ("nbsp", "12\u00a0000 fans\u202fattended"),
    ("numbers", "He ran 9.58s in 2009; 100m, 1,000,000 views, 3/4 of fans"),
    ("urls", "See https://example.com/sport/football?id=123&x=y for more."),
    ("apostrophes", "It's the club's best; they'll win, we're sure, I'd say, you've seen"),
    ("special_token_text", "The <mask> token and </s> and <s> inside text"),
    ("control_chars", "bell\u0007 and null\u0000 and del\u007f"),
    ("long_word", "Supercalifragilisticexpialidocious" * 3),
    ("empty", ""),
    ("only_spaces", "    "),
    ("uppercase", "CHAMPIONS LEAGUE FINAL TONIGHT"),
    ("math_symbols", "\u00bd time, 2\u00b2 = 4, \u221e, \u2264 10\u00b0C"),
]
