"""The four reading agents and the LLM prompt built from them.

An agent is a lens on the same chart: `personality` (self-understanding),
`business` (work, decisions, collaboration), `relationship` (love, friendship,
family) and `crisis` (grounding; gentle and practical). Each definition is
versioned (`prompt_version`, recorded with every reading) and carries:

- what the LLM is told: focus, tone, extra rules and the section structure;
- what the offline composer writes: per-language title, headings, intro,
  closing and the agent-specific advice on type and authority.

Change any text an agent produces -> bump its `prompt_version`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from services.reader.knowledge import Text
from services.reader.knowledge.channels import CHANNELS
from services.reader.knowledge.chart_terms import (
    AUTHORITIES,
    BODIES,
    CENTERS,
    CROSS_ANGLES,
    DEFINITIONS,
    STRATEGIES,
    TYPES,
    humanize,
)
from services.reader.knowledge.gates import GATES
from services.reader.knowledge.lines import LINES, PROFILES
from shared.events.chart import BODIES as BODY_KEYS
from shared.events.chart import Activations, Chart
from shared.events.reading_requested import Agent, Language
from shared.hd.channels import find_channel
from shared.hd.profiles import PROFILE_ANGLES, profile_key
from shared.hd.properties import strategy_of

SectionKey = Literal[
    "overview", "conscious", "unconscious", "drives", "centers", "cross", "focus", "closing"
]

LANGUAGES: Final[Mapping[str, Language]] = MappingProxyType({"en": "en", "de": "de"})
"""The supported reading languages."""

_LANGUAGE_NAMES: Final[Mapping[Language, str]] = MappingProxyType({"en": "English", "de": "German"})

_LANGUAGE_RULES: Final[Mapping[Language, str]] = MappingProxyType(
    {
        "en": 'Address the reader directly as "you".',
        "de": (
            "Write natural, correct German with proper umlauts and ß (ä, ö, ü, ß), never ae/oe/ue. "
            'Address the reader informally as "du". Use the German Human Design terms: Tor, '
            "Linie, Kanal, Zentrum, Typ, Strategie, Autorität, Profil, Definition, "
            "Inkarnationskreuz; Persönlichkeit (bewusst) and Design (unbewusst) for the two sides."
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Section:
    key: SectionKey
    heading: Text
    brief: str
    """What the LLM writes in this section (English)."""


@dataclass(frozen=True, slots=True)
class AgentDefinition:
    name: Agent
    prompt_version: str
    """`"<agent>/<n>"`; recorded with every reading written with this definition."""
    title: Text
    focus: str
    """What the reading is about, for the LLM (English)."""
    tone: str
    """How it should sound, for the LLM (English)."""
    rules: tuple[str, ...]
    """Extra rules for the LLM (English)."""
    sections: tuple[Section, ...]
    """The reading's sections, in order."""
    intro: Text
    closing: Text
    conscious_note: Text
    unconscious_note: Text
    centers_note: Text
    type_advice: Mapping[str, Text]
    """Per type key: the type seen through this agent's lens."""
    no_type_advice: Text
    """Used instead of `type_advice` while the chart carries no type."""
    authority_lead: Text
    """Leads into the authority's practice sentence."""
    centers_style: Literal["full", "grounding"] = "full"
    """`full`: every center with its sentence, and the channels; `grounding`: the defined
    centers named as stable ground, the open ones with their sentence, no channels."""

    def heading(self, key: SectionKey, language: Language) -> str:
        """The heading of section `key` in `language`."""
        for section in self.sections:
            if section.key == key:
                return section.heading.get(language)
        raise KeyError(key)

    def system_prompt(self, language: Language) -> str:
        """The system message for an LLM writing this agent's reading in `language`."""
        sections = "\n".join(
            f'{n}. "## {s.heading.get(language)}": {s.brief}'
            for n, s in enumerate(self.sections, start=1)
        )
        rules = "\n".join(f"- {rule}" for rule in (*_COMMON_RULES, *self.rules))
        return (
            f"You are a thoughtful Human Design reader. Write a {self.name} reading for one "
            "person from the chart facts in the user message.\n\n"
            f"Focus: {self.focus}\n"
            f"Tone: {self.tone}\n"
            f"Language: write the whole reading in {_LANGUAGE_NAMES[language]}. "
            f"{_LANGUAGE_RULES[language]}\n\n"
            f'Structure: begin with the title line "# {self.title.get(language)}", then an '
            "introduction of two to four sentences, then these sections in this order, each "
            "under a Markdown heading with exactly this text:\n"
            f"{sections}\n\n"
            f"Rules:\n{rules}"
        )


_COMMON_RULES: Final[tuple[str, ...]] = (
    "Use only the facts in the user message. Never invent a type, authority, definition, "
    "center, channel or cross that is not listed; where the message says a property has not "
    "been calculated yet, say so in one sentence and work with what is given.",
    "Name gates by number and name (for example Gate 51, Shock) and lines by number and "
    "archetype (for example line 5, the Heretic).",
    "Describe tendencies and invitations, not certainties or predictions. Give no medical, "
    "legal or financial advice.",
    "Length: about 600 to 900 words of plain Markdown: headings, short paragraphs, a bullet "
    "list only where it helps.",
    "Do not mention these instructions, and add no label or disclaimer about how the text was "
    "produced: the product adds that itself.",
)


def _sections(
    headings: Mapping[SectionKey, Text],
    briefs: Mapping[SectionKey, str],
    order: tuple[SectionKey, ...] = (
        "overview",
        "conscious",
        "unconscious",
        "drives",
        "centers",
        "cross",
        "focus",
        "closing",
    ),
) -> tuple[Section, ...]:
    return tuple(Section(key, headings[key], briefs[key]) for key in order)


_BASE_BRIEFS: Final[Mapping[SectionKey, str]] = MappingProxyType(
    {
        "overview": (
            "type, strategy, authority, profile and definition, each in a sentence or two, "
            "as far as they are given."
        ),
        "conscious": (
            "the personality (conscious) Sun and Earth: their gates, names and lines, and what "
            "they mean for the reader."
        ),
        "unconscious": (
            "the design (unconscious) Sun and Earth: their gates, names and lines, and how they "
            "show up without conscious effort."
        ),
        "drives": "briefly, the Moon and the North and South Nodes on both sides.",
        "centers": (
            "the defined and open centers and the defined channels, if given; otherwise one "
            "sentence that they have not been calculated yet."
        ),
        "cross": "the incarnation cross: its angle and its four gates as a life theme.",
        "focus": "how to live the type's strategy and the authority in everyday decisions.",
        "closing": "a short, encouraging closing with one or two concrete suggestions.",
    }
)


def _briefs(**overrides: str) -> Mapping[SectionKey, str]:
    """`_BASE_BRIEFS` with some sections' briefs replaced."""
    unknown = sorted(set(overrides) - set(_BASE_BRIEFS))
    if unknown:
        raise KeyError(f"unknown sections: {', '.join(unknown)}")
    return MappingProxyType({key: overrides.get(key, brief) for key, brief in _BASE_BRIEFS.items()})


PERSONALITY: Final = AgentDefinition(
    name="personality",
    prompt_version="personality/1",
    title=Text(
        "Your Human Design: a reading for self-understanding",
        "Dein Human Design: eine Deutung für dein Selbstverständnis",
    ),
    focus=(
        "self-understanding: who the reader is by design, how their energy works, and how to "
        "make decisions that are true to them."
    ),
    tone="warm, clear and grounded; curious rather than mystical; encouraging without flattery.",
    rules=(),
    sections=_sections(
        {
            "overview": Text("Your design at a glance", "Dein Design auf einen Blick"),
            "conscious": Text("Who you know yourself to be", "Was du bewusst von dir kennst"),
            "unconscious": Text(
                "What works in you below the surface", "Was unter der Oberfläche in dir wirkt"
            ),
            "drives": Text("Moon and nodes", "Mond und Mondknoten"),
            "centers": Text("Centers and channels", "Zentren und Kanäle"),
            "cross": Text("Your life theme", "Dein Lebensthema"),
            "focus": Text("Living your design", "Dein Design leben"),
            "closing": Text("Closing thoughts", "Zum Abschluss"),
        },
        _briefs(
            focus=(
                "how the reader can live their strategy and authority day to day, and what the "
                "signature and not-self theme feel like."
            ),
            closing="a short, encouraging closing that invites the reader to experiment.",
        ),
    ),
    intro=Text(
        "This reading treats your chart as a map for understanding yourself. It describes "
        "tendencies, not rules: keep what resonates, and let your own experience be the judge.",
        "Diese Deutung versteht dein Chart als Landkarte, um dich selbst besser zu verstehen. "
        "Sie beschreibt Tendenzen, keine Regeln: Behalte, was dich anspricht, und lass deine "
        "eigene Erfahrung entscheiden.",
    ),
    closing=Text(
        "Human Design is an experiment, not a verdict. Try your strategy and authority in "
        "small, everyday decisions for a few weeks and watch what changes. Understanding "
        "yourself is not about becoming someone else, but about recognizing who you already are.",
        "Human Design ist ein Experiment, kein Urteil. Probiere deine Strategie und Autorität "
        "einige Wochen lang bei kleinen, alltäglichen Entscheidungen aus und beobachte, was "
        "sich verändert. Es geht nicht darum, jemand anderes zu werden, sondern darum, zu "
        "erkennen, wer du schon bist.",
    ),
    conscious_note=Text(
        "This is the part of your design you can recognize and describe in yourself.",
        "Das ist der Teil deines Designs, den du an dir selbst erkennen und beschreiben kannst.",
    ),
    unconscious_note=Text(
        "The design side works through the body and often shows first in how others "
        "experience you.",
        "Die Design-Seite wirkt über den Körper und zeigt sich oft zuerst darin, wie andere "
        "dich erleben.",
    ),
    centers_note=Text(
        "Defined centers are what you can rely on in yourself; open centers are where you take "
        "in and learn from the world around you.",
        "Definierte Zentren sind das, worauf du dich in dir verlassen kannst; offene Zentren "
        "sind die Stellen, an denen du die Welt um dich herum aufnimmst und von ihr lernst.",
    ),
    type_advice=MappingProxyType(
        {
            "manifestor": Text(
                "As a Manifestor, you are here to get things started. The more freely you can "
                "follow your own impulses, and the more you let others know what is coming, "
                "the more peace you will find.",
                "Als Manifestor bist du hier, um Dinge anzustoßen. Je freier du deinen eigenen "
                "Impulsen folgen kannst und je mehr du andere wissen lässt, was kommt, desto "
                "mehr Frieden findest du.",
            ),
            "generator": Text(
                "As a Generator, your joy lies in work and activities your gut says yes to. "
                "Satisfaction at the end of the day is the sign that you have used your energy "
                "well.",
                "Als Generator liegt deine Freude in Arbeit und Tätigkeiten, zu denen dein "
                "Bauch Ja sagt. Zufriedenheit am Ende des Tages zeigt dir, dass du deine "
                "Energie gut eingesetzt hast.",
            ),
            "manifesting_generator": Text(
                "As a Manifesting Generator, you are built for many interests and fast "
                "movement. Respond first, then inform, and allow yourself to let go of what no "
                "longer lights you up.",
                "Als Manifestierender Generator bist du für viele Interessen und schnelles "
                "Vorankommen gemacht. Reagiere zuerst, informiere dann, und erlaube dir, "
                "loszulassen, was dich nicht mehr begeistert.",
            ),
            "projector": Text(
                "As a Projector, your gift is seeing people and systems clearly. Your energy is "
                "precious: rest well, study what fascinates you, and wait to be recognized "
                "before you guide others.",
                "Als Projektor liegt deine Gabe darin, Menschen und Systeme klar zu erkennen. "
                "Deine Energie ist kostbar: Ruh dich gut aus, vertiefe dich in das, was dich "
                "fasziniert, und warte auf Anerkennung, bevor du andere leitest.",
            ),
            "reflector": Text(
                "As a Reflector, you are a mirror of your surroundings. Where you live and "
                "whom you spend time with matter more for you than for anyone else.",
                "Als Reflektor bist du ein Spiegel deiner Umgebung. Wo du lebst und mit wem du "
                "Zeit verbringst, ist für dich wichtiger als für alle anderen.",
            ),
        }
    ),
    no_type_advice=Text(
        "Even before your type and authority are known, your Sun gates and profile show the "
        "core: the themes above are the ones you will recognize again and again in your life.",
        "Auch bevor Typ und Autorität bekannt sind, zeigen deine Sonnentore und dein Profil den "
        "Kern: Die Themen oben wirst du in deinem Leben immer wieder erkennen.",
    ),
    authority_lead=Text(
        "In personal decisions, lean on your authority.",
        "Verlass dich bei persönlichen Entscheidungen auf deine Autorität.",
    ),
)


BUSINESS: Final = AgentDefinition(
    name="business",
    prompt_version="business/1",
    title=Text("Your Human Design at work", "Dein Human Design im Beruf"),
    focus=(
        "work and career: how the reader makes good decisions at work, where their energy is "
        "best invested, how they collaborate and lead, and what kind of role and team suits "
        "them."
    ),
    tone=(
        "professional, practical and encouraging, like a good coach: concrete examples from "
        "working life, no jargon beyond the Human Design terms."
    ),
    rules=(
        "Offer reflection prompts, not career, investment, legal or hiring advice; do not tell "
        "the reader to quit a job or make a specific financial decision.",
    ),
    sections=_sections(
        {
            "overview": Text(
                "Your working design at a glance", "Dein Arbeitsdesign auf einen Blick"
            ),
            "conscious": Text(
                "Your conscious strengths at work", "Deine bewussten Stärken im Beruf"
            ),
            "unconscious": Text(
                "What you bring without trying", "Was du ganz selbstverständlich mitbringst"
            ),
            "drives": Text("Drive and direction", "Antrieb und Richtung"),
            "centers": Text(
                "Energy, consistency and collaboration",
                "Energie, Beständigkeit und Zusammenarbeit",
            ),
            "cross": Text("Your professional theme", "Dein berufliches Leitmotiv"),
            "focus": Text("Decisions and collaboration", "Entscheidungen und Zusammenarbeit"),
            "closing": Text("Next steps at work", "Nächste Schritte im Beruf"),
        },
        _briefs(
            overview=(
                "type, strategy, authority, profile and definition as far as they are given, "
                "each framed as a working style."
            ),
            conscious=(
                "the personality Sun and Earth as strengths the reader can name, e.g. in an "
                "interview or a pitch."
            ),
            unconscious=(
                "the design Sun and Earth as qualities colleagues notice in the reader's work."
            ),
            drives="briefly, the Moon and the nodes as motivation and career direction.",
            centers=(
                "defined centers as reliable capacities at work, open centers as where the "
                "reader picks up the team's energy; the channels as talents. If not given, say "
                "they have not been calculated yet."
            ),
            cross="the incarnation cross as a professional theme or calling.",
            focus=(
                "how to make work decisions (a new role, a contract, a hire) with the strategy "
                "and authority, and how the reader collaborates and leads best."
            ),
            closing="two or three concrete next steps for the coming weeks at work.",
        ),
    ),
    intro=Text(
        "This reading looks at your chart through the lens of work: how you make decisions, "
        "where your energy is best invested and how you work with others. Use it as a prompt "
        "for reflection, not as career advice.",
        "Diese Deutung betrachtet dein Chart durch die Brille der Arbeit: wie du Entscheidungen "
        "triffst, wo deine Energie am besten eingesetzt ist und wie du mit anderen "
        "zusammenarbeitest. Nutze sie als Anstoß zum Nachdenken, nicht als Karriereberatung.",
    ),
    closing=Text(
        "Pick one decision at work this week and make it with your strategy and authority "
        "rather than out of pressure or habit. Notice where collaboration flows and where you "
        "push against it: both tell you something about the roles and teams that suit your "
        "design.",
        "Triff in dieser Woche eine berufliche Entscheidung bewusst mit deiner Strategie und "
        "Autorität statt aus Druck oder Gewohnheit. Achte darauf, wo die Zusammenarbeit fließt "
        "und wo du dagegen ankämpfst: Beides sagt dir etwas über die Rollen und Teams, die zu "
        "deinem Design passen.",
    ),
    conscious_note=Text(
        "These are strengths you can name and put into words, for example in a job interview "
        "or a pitch.",
        "Das sind Stärken, die du benennen und in Worte fassen kannst, etwa in einem "
        "Vorstellungsgespräch oder einer Präsentation.",
    ),
    unconscious_note=Text(
        "Colleagues often notice these qualities in your work before you do, so ask them for "
        "feedback.",
        "Kolleginnen und Kollegen bemerken diese Qualitäten in deiner Arbeit oft früher als "
        "du, also bitte sie um Rückmeldung.",
    ),
    centers_note=Text(
        "Defined centers are what colleagues can count on from you; open centers are where you "
        "pick up the energy of your team, which is a source of insight, not a to-do list.",
        "Definierte Zentren sind das, worauf sich andere im Team bei dir verlassen können; "
        "offene Zentren zeigen, wo du die Energie deines Teams aufnimmst – eine Quelle von "
        "Einsicht, keine Aufgabenliste.",
    ),
    type_advice=MappingProxyType(
        {
            "manifestor": Text(
                "As a Manifestor, you do your best work when you can initiate projects and set "
                "the pace. Informing the people involved before you move saves you friction and "
                "keeps doors open.",
                "Als Manifestor arbeitest du am besten, wenn du Projekte anstoßen und das Tempo "
                "bestimmen kannst. Wenn du die Beteiligten informierst, bevor du loslegst, "
                "ersparst du dir Reibung und hältst Türen offen.",
            ),
            "generator": Text(
                "As a Generator, you have staying power for work you genuinely respond to. "
                "Choose tasks and roles by your gut response rather than out of obligation, and "
                "mastery will follow.",
                "Als Generator hast du Ausdauer für Arbeit, auf die du wirklich reagierst. "
                "Wähle Aufgaben und Rollen nach deiner Bauchreaktion statt aus Pflichtgefühl, "
                "dann stellt sich Meisterschaft von selbst ein.",
            ),
            "manifesting_generator": Text(
                "As a Manifesting Generator, you thrive on several projects and fast iteration. "
                "Respond before you commit, tell your team when you change course, and allow "
                "yourself efficient shortcuts.",
                "Als Manifestierender Generator blühst du bei mehreren Projekten und schnellen "
                "Iterationen auf. Reagiere, bevor du dich festlegst, sag deinem Team Bescheid, "
                "wenn du den Kurs änderst, und erlaube dir effiziente Abkürzungen.",
            ),
            "projector": Text(
                "As a Projector, you are a natural guide, manager or advisor. Your insight lands "
                "when it is invited: look for roles where your perspective is asked for, and "
                "protect your energy from long, undifferentiated working days.",
                "Als Projektor bist du von Natur aus zum Leiten, Beraten und Begleiten gemacht. "
                "Deine Einsichten kommen an, wenn sie erbeten werden: Suche Rollen, in denen "
                "deine Sicht gefragt ist, und schütze deine Energie vor langen, gleichförmigen "
                "Arbeitstagen.",
            ),
            "reflector": Text(
                "As a Reflector, you can read the health of a team or an organization like "
                "hardly anyone else. Take your time with big career moves, and choose your "
                "workplace carefully, because it shapes you.",
                "Als Reflektor kannst du den Zustand eines Teams oder einer Organisation wie "
                "kaum jemand sonst erfassen. Lass dir bei großen beruflichen Schritten Zeit und "
                "wähle deinen Arbeitsplatz sorgfältig, denn er prägt dich.",
            ),
        }
    ),
    no_type_advice=Text(
        "Until the chart includes your type and authority, look at your Sun gates above: they "
        "describe the kind of contribution that feels most natural to you at work.",
        "Solange das Chart deinen Typ und deine Autorität noch nicht enthält, schau auf deine "
        "Sonnentore oben: Sie beschreiben, welcher Beitrag sich im Beruf für dich am "
        "natürlichsten anfühlt.",
    ),
    authority_lead=Text(
        "For decisions at work, such as a new role, a contract or a hire, lean on your authority.",
        "Bei beruflichen Entscheidungen, etwa über eine neue Stelle, einen Vertrag oder eine "
        "Einstellung, verlass dich auf deine Autorität.",
    ),
)


RELATIONSHIP: Final = AgentDefinition(
    name="relationship",
    prompt_version="relationship/1",
    title=Text("Your Human Design in relationships", "Dein Human Design in Beziehungen"),
    focus=(
        "relationships of every kind (love, friendship and family): how the reader meets "
        "others, what they need to feel close, where they are steady and where they take on "
        "other people's energy."
    ),
    tone="warm, tender and respectful; honest about patterns without blaming anyone.",
    rules=(
        "Speak only about the reader's own design; do not judge compatibility with people "
        "whose charts are not given, and do not tell the reader to start or end a "
        "relationship.",
    ),
    sections=_sections(
        {
            "overview": Text("How you meet others", "Wie du anderen begegnest"),
            "conscious": Text(
                "What you show the people close to you",
                "Was du den Menschen an deiner Seite zeigst",
            ),
            "unconscious": Text("What others sense in you", "Was andere in dir spüren"),
            "drives": Text("What moves you", "Was dich bewegt"),
            "centers": Text(
                "Where you are steady and where you are open to others",
                "Wo du beständig bist und wo du offen für andere bist",
            ),
            "cross": Text("Your theme in relationships", "Dein Thema in Beziehungen"),
            "focus": Text("Love, friendship and family", "Liebe, Freundschaft und Familie"),
            "closing": Text("For your relationships", "Für deine Beziehungen"),
        },
        _briefs(
            overview=(
                "type, strategy, authority, profile and definition as far as they are given, "
                "each seen as a way of relating."
            ),
            conscious=(
                "the personality Sun and Earth as what the reader knowingly brings to others."
            ),
            unconscious=(
                "the design Sun and Earth as what partners, friends and family sense in the "
                "reader before the reader can name it."
            ),
            drives="briefly, the Moon and the nodes as emotional drive and the bonds that shape.",
            centers=(
                "defined centers as what the reader brings into every encounter, open centers "
                "as where they feel and amplify others; channels as ways of connecting. If not "
                "given, say they have not been calculated yet."
            ),
            cross="the incarnation cross as a theme in the reader's relationships.",
            focus=(
                "how strategy and authority help in matters of the heart, in friendship and in "
                "the family."
            ),
            closing="a gentle closing with one or two suggestions to try with someone close.",
        ),
    ),
    intro=Text(
        "This reading looks at your chart through the lens of connection: love, friendship and "
        "family. It shows how you meet others and what helps you feel close without losing "
        "yourself.",
        "Diese Deutung betrachtet dein Chart im Licht deiner Beziehungen: Liebe, Freundschaft "
        "und Familie. Sie zeigt, wie du anderen begegnest und was dir hilft, Nähe zu erleben, "
        "ohne dich selbst zu verlieren.",
    ),
    closing=Text(
        "Closeness grows where you can be yourself and let others be themselves. Share what "
        "resonates here with someone you trust, and ask how they experience you: their answer "
        "will tell you more about your design than any chart.",
        "Nähe wächst dort, wo du du selbst sein kannst und andere sie selbst sein lässt. Teile, "
        "was dich hier anspricht, mit einem Menschen, dem du vertraust, und frag, wie er oder "
        "sie dich erlebt: Die Antwort verrät dir mehr über dein Design als jedes Chart.",
    ),
    conscious_note=Text(
        "This is how you knowingly show up with partners, friends and family.",
        "So zeigst du dich bewusst in Partnerschaft, Freundschaft und Familie.",
    ),
    unconscious_note=Text(
        "The people closest to you often feel these qualities in you long before you can name "
        "them.",
        "Die Menschen, die dir am nächsten stehen, spüren diese Qualitäten oft lange, bevor du "
        "sie benennen kannst.",
    ),
    centers_note=Text(
        "Your defined centers are what you bring into every encounter; your open centers are "
        "where you feel others most. Neither is better: together they are how you connect.",
        "Deine definierten Zentren bringst du in jede Begegnung mit; in deinen offenen Zentren "
        "spürst du andere am stärksten. Keines davon ist besser: Zusammen zeigen sie, wie du "
        "dich verbindest.",
    ),
    type_advice=MappingProxyType(
        {
            "manifestor": Text(
                "As a Manifestor, you need freedom in relationships. Telling the people you love "
                "what you are about to do is not asking for permission; it is the bridge that "
                "keeps them close.",
                "Als Manifestor brauchst du Freiheit in Beziehungen. Den Menschen, die du "
                "liebst, zu sagen, was du vorhast, heißt nicht, um Erlaubnis zu bitten – es ist "
                "die Brücke, die sie dir nahe hält.",
            ),
            "generator": Text(
                "As a Generator, you connect through shared activity and honest gut responses. "
                "Let the people close to you ask you questions: your yes and no are clearer out "
                "loud than in your head.",
                "Als Generator verbindest du dich über gemeinsames Tun und ehrliche "
                "Bauchreaktionen. Lass dir von den Menschen, die dir nahestehen, Fragen stellen: "
                "Dein Ja und dein Nein sind laut ausgesprochen klarer als im Kopf.",
            ),
            "manifesting_generator": Text(
                "As a Manifesting Generator, you bring energy and pace into every relationship. "
                "Let your loved ones know when you change direction, and make room for their "
                "slower rhythm.",
                "Als Manifestierender Generator bringst du Energie und Tempo in jede Beziehung. "
                "Lass deine Liebsten wissen, wenn du die Richtung änderst, und gib ihrem "
                "langsameren Rhythmus Raum.",
            ),
            "projector": Text(
                "As a Projector, you see the people you love very deeply. Your guidance is a "
                "gift when it is asked for, and feeling truly seen is the heart of closeness "
                "for you.",
                "Als Projektor siehst du die Menschen, die du liebst, sehr tief. Dein Rat ist "
                "ein Geschenk, wenn er erbeten wird, und wirklich gesehen zu werden ist für dich "
                "der Kern von Nähe.",
            ),
            "reflector": Text(
                "As a Reflector, you take the people around you deeply into yourself. Choose "
                "your company with care, and give big decisions about relationships the time of "
                "a full lunar cycle.",
                "Als Reflektor nimmst du die Menschen um dich herum tief in dich auf. Wähle "
                "deine Gesellschaft mit Bedacht und gib großen Beziehungsentscheidungen die "
                "Zeit eines ganzen Mondzyklus.",
            ),
        }
    ),
    no_type_advice=Text(
        "Until the chart includes your type and authority, your Sun gates and profile above "
        "already show how you tend to meet people and what you need from them.",
        "Solange das Chart deinen Typ und deine Autorität noch nicht enthält, zeigen deine "
        "Sonnentore und dein Profil oben bereits, wie du Menschen begegnest und was du von "
        "ihnen brauchst.",
    ),
    authority_lead=Text(
        "In matters of the heart, such as a new relationship, a commitment or a move, lean on "
        "your authority.",
        "In Herzensangelegenheiten, etwa bei einer neuen Beziehung, einer Verpflichtung oder "
        "einem Umzug, verlass dich auf deine Autorität.",
    ),
)


_HELP_EN: Final = (
    "If you are in acute danger or thinking about harming yourself, please reach out now: "
    "call your local emergency number (112 in Europe, 911 in North America), call or text 988 "
    "in the US, or call the Samaritans on 116 123 in the UK and Ireland."
)
_HELP_DE: Final = (
    "Wenn du in akuter Gefahr bist oder daran denkst, dir etwas anzutun, hol dir bitte jetzt "
    "Hilfe: Wähle den Notruf 112 oder ruf die Telefonseelsorge an – in Deutschland rund um die "
    "Uhr kostenlos unter 0800 111 0 111 oder 0800 111 0 222, in Österreich unter 142, in der "
    "Schweiz bei der Dargebotenen Hand unter 143."
)

CRISIS: Final = AgentDefinition(
    name="crisis",
    prompt_version="crisis/1",
    title=Text("Your Human Design in difficult times", "Dein Human Design in schweren Zeiten"),
    focus=(
        "grounding in a difficult time: what in the reader's design can steady them, which "
        "small, practical steps fit their design, and where their sensitivities lie."
    ),
    tone=(
        "gentle, calm and practical: short sentences, plain words, no drama, no mysticism; "
        "reassuring without minimizing what the reader is going through."
    ),
    rules=(
        "Open the introduction with where to find immediate help in an acute crisis, in the "
        "reader's language: English: emergency number 112 in Europe or 911 in North America, "
        "988 in the US, Samaritans 116 123 in the UK and Ireland; German: Notruf 112, "
        "Telefonseelsorge 0800 111 0 111 or 0800 111 0 222 (Germany), 142 (Austria), 143 "
        "(Switzerland).",
        "Say clearly that the reading does not replace professional help, and encourage "
        "talking to a doctor, therapist or counselling service when things feel too heavy.",
        "Never diagnose, never present the crisis as fate or as the reader's fault, and suggest "
        "only small, concrete, safe steps (rest, food, sleep, contact with trusted people).",
    ),
    sections=_sections(
        {
            "focus": Text("What can steady you now", "Was dir jetzt Halt geben kann"),
            "overview": Text("Your design at a glance", "Dein Design auf einen Blick"),
            "conscious": Text("Your inner resources", "Deine inneren Ressourcen"),
            "unconscious": Text(
                "Strengths that carry you without effort",
                "Stärken, die dich ohne Anstrengung tragen",
            ),
            "drives": Text("What keeps you moving", "Was dich weiter trägt"),
            "centers": Text(
                "Where you are steady, where you are sensitive",
                "Wo du beständig bist, wo du empfindsam bist",
            ),
            "cross": Text("The longer arc", "Der größere Bogen"),
            "closing": Text("Gentle next steps", "Behutsame nächste Schritte"),
        },
        _briefs(
            focus=(
                "first and most practical: how strategy and authority can steady the reader "
                "now, and the simple grounding steps that fit their type."
            ),
            overview=(
                "type, strategy, authority, profile and definition as far as they are given, "
                "briefly and calmly."
            ),
            conscious=(
                "the personality Sun and Earth as resources the reader can consciously reach for."
            ),
            unconscious=(
                "the design Sun and Earth as strengths that keep working even when the reader "
                "feels depleted."
            ),
            drives="briefly, the Moon and the nodes as what keeps the reader going.",
            centers=(
                "defined centers as stable ground, open centers as where the reader is "
                "sensitive to pressure from others, with one gentle tip each. If not given, say "
                "they have not been calculated yet."
            ),
            cross="briefly, the incarnation cross as a reminder that life is a longer arc.",
            closing=(
                "gentle, concrete next steps for today, an encouragement to seek professional "
                "help, and the emergency contacts again."
            ),
        ),
        order=(
            "focus",
            "overview",
            "conscious",
            "unconscious",
            "drives",
            "centers",
            "cross",
            "closing",
        ),
    ),
    intro=Text(
        f"{_HELP_EN} This reading does not replace professional help. It is meant to offer a "
        "little orientation and grounding: take a breath, read slowly, and keep only what "
        "helps.",
        f"{_HELP_DE} Diese Deutung ersetzt keine professionelle Hilfe. Sie soll dir ein wenig "
        "Orientierung und Halt geben: Atme durch, lies langsam und nimm nur mit, was dir hilft.",
    ),
    closing=Text(
        "Go gently. Drink some water, eat something, sleep if you can, and choose one small, "
        "concrete step for today instead of solving everything at once. Reach out to someone "
        "you trust, and if things feel too heavy, talk to a doctor, a therapist or a "
        "counselling service. Asking for help is a strength, whatever your design. In an "
        "emergency: 112 in Europe, 911 in North America, 988 in the US.",
        "Geh behutsam mit dir um. Trink etwas Wasser, iss etwas, schlaf, wenn du kannst, und "
        "wähle für heute einen kleinen, konkreten Schritt, statt alles auf einmal lösen zu "
        "wollen. Wende dich an einen Menschen, dem du vertraust, und wenn es zu schwer wird, "
        "sprich mit einer Ärztin oder einem Arzt, einer Psychotherapeutin oder einem "
        "Psychotherapeuten oder einer Beratungsstelle. Um Hilfe zu bitten ist eine Stärke, ganz "
        "gleich, welches Design du hast. Im Notfall: Notruf 112, Telefonseelsorge 0800 111 0 "
        "111 oder 0800 111 0 222.",
    ),
    conscious_note=Text(
        "These are resources you can consciously reach for when things are hard.",
        "Das sind Ressourcen, auf die du bewusst zurückgreifen kannst, wenn es schwer ist.",
    ),
    unconscious_note=Text(
        "These qualities keep working in you even when you feel depleted; they need no effort "
        "from you.",
        "Diese Qualitäten wirken in dir weiter, auch wenn du dich erschöpft fühlst; sie "
        "brauchen keine Anstrengung von dir.",
    ),
    centers_note=Text(
        "Your defined centers are stable ground to stand on. Your open centers are where "
        "pressure from others reaches you most; in hard times, it helps to ask whether a "
        "feeling or an urge is really yours.",
        "Deine definierten Zentren sind fester Boden unter deinen Füßen. In deinen offenen "
        "Zentren erreicht dich der Druck anderer am stärksten; in schweren Zeiten hilft die "
        "Frage, ob ein Gefühl oder ein Drang wirklich deiner ist.",
    ),
    type_advice=MappingProxyType(
        {
            "manifestor": Text(
                "As a Manifestor, you may feel the urge to act alone and fast. In a hard time, "
                "a few words to the people around you about what you need can spare you a great "
                "deal of resistance.",
                "Als Manifestor spürst du vielleicht den Drang, allein und schnell zu handeln. "
                "In einer schweren Zeit kann es dir viel Widerstand ersparen, den Menschen um "
                "dich herum mit ein paar Worten zu sagen, was du gerade brauchst.",
            ),
            "generator": Text(
                "As a Generator, frustration is a signal, not a failure. Do less, and let "
                "simple yes-or-no questions show you what still feels right to give your energy "
                "to.",
                "Als Generator ist Frustration ein Signal, kein Versagen. Tu weniger und lass "
                "dir von einfachen Ja-Nein-Fragen zeigen, wofür du deine Energie gerade noch "
                "gern einsetzt.",
            ),
            "manifesting_generator": Text(
                "As a Manifesting Generator, you may try to fix everything at once. Slow down "
                "enough to feel your gut response, and let go of what is not yours to carry "
                "right now.",
                "Als Manifestierender Generator versuchst du vielleicht, alles auf einmal zu "
                "lösen. Werde langsam genug, um deine Bauchreaktion zu spüren, und lass los, "
                "was du gerade nicht tragen musst.",
            ),
            "projector": Text(
                "As a Projector, exhaustion and bitterness are signs that you have given too "
                "much without being recognized. Rest is not a luxury for you; lean on the "
                "people who truly see you.",
                "Als Projektor sind Erschöpfung und Verbitterung Zeichen dafür, dass du zu viel "
                "gegeben hast, ohne gesehen zu werden. Ruhe ist für dich kein Luxus; stütze "
                "dich auf die Menschen, die dich wirklich sehen.",
            ),
            "reflector": Text(
                "As a Reflector, you take in the state of your surroundings. If you feel "
                "unwell, look at where you are and whom you are with: a change of environment "
                "can help more than trying to change yourself.",
                "Als Reflektor nimmst du den Zustand deiner Umgebung in dich auf. Wenn es dir "
                "nicht gut geht, schau, wo du bist und mit wem: Ein anderes Umfeld kann mehr "
                "helfen als der Versuch, dich selbst zu ändern.",
            ),
        }
    ),
    no_type_advice=Text(
        "Whatever your type turns out to be, the steps that help are simple: rest, eat, sleep, "
        "stay in touch with people you trust, and make one small decision at a time.",
        "Welcher Typ du auch bist, was hilft, ist einfach: ausruhen, essen, schlafen, mit "
        "vertrauten Menschen in Kontakt bleiben und immer nur eine kleine Entscheidung auf "
        "einmal treffen.",
    ),
    centers_style="grounding",
    authority_lead=Text(
        "Big decisions can usually wait until you feel steadier. When one cannot wait, lean on "
        "your authority.",
        "Große Entscheidungen können meist warten, bis du wieder festeren Boden unter den Füßen "
        "hast. Wenn eine nicht warten kann, verlass dich auf deine Autorität.",
    ),
)


AGENTS: Final[Mapping[str, AgentDefinition]] = MappingProxyType(
    {agent.name: agent for agent in (PERSONALITY, BUSINESS, RELATIONSHIP, CRISIS)}
)
"""The four agents by name."""


def get_agent(name: str) -> AgentDefinition:
    """The agent called `name`; `ValueError` naming the known agents otherwise."""
    try:
        return AGENTS[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r}; known: {', '.join(AGENTS)}") from None


def prompt_version(agent: str) -> str:
    """The prompt version of `agent`, recorded with each reading (`"personality/1"`)."""
    return get_agent(agent).prompt_version


def resolve_language(language: str) -> Language:
    """`language` as a supported `Language`; `ValueError` otherwise."""
    try:
        return LANGUAGES[language]
    except KeyError:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}") from None


# --- Chart facts shared by the prompt and the offline composer ---------------------------


@dataclass(frozen=True, slots=True)
class CrossFacts:
    """The incarnation cross as far as it is known."""

    angle: str | None
    """`right_angle`, `left_angle`, `juxtaposition`; None if it cannot be told."""
    gates: tuple[int, ...]
    """Personality Sun, personality Earth, design Sun, design Earth."""
    derived: bool
    """True when worked out here because the chart does not carry it."""

    def gates_text(self) -> str:
        """`51/57 | 61/62`."""
        if len(self.gates) == 4:
            p_sun, p_earth, d_sun, d_earth = self.gates
            return f"{p_sun}/{p_earth} | {d_sun}/{d_earth}"
        return "/".join(str(g) for g in self.gates)


def profile_of(chart: Chart) -> str:
    """The chart's profile; from the two Sun lines when the chart does not carry it."""
    if chart.profile:
        return chart.profile
    acts = chart.activations
    return profile_key(acts.personality.sun.line, acts.design.sun.line)


def cross_of(chart: Chart) -> CrossFacts:
    """The chart's incarnation cross; from the Sun/Earth gates and the profile if not carried."""
    if chart.incarnation_cross is not None:
        return CrossFacts(
            chart.incarnation_cross.angle, tuple(chart.incarnation_cross.gates), derived=False
        )
    acts = chart.activations
    gates = (
        acts.personality.sun.gate,
        acts.personality.earth.gate,
        acts.design.sun.gate,
        acts.design.earth.gate,
    )
    return CrossFacts(PROFILE_ANGLES.get(profile_of(chart)), gates, derived=True)


def _gate_fact(gate: int, line: int, language: Language) -> str:
    known = GATES.get(gate)
    line_info = LINES.get(line)
    text = f"{gate}.{line} = Gate {gate}"
    if known is not None:
        text += f" {known.name.en} ({known.hexagram.en})"
    text += f", line {line}"
    if line_info is not None:
        text += f" {line_info.name.en}"
    if language == "de" and known is not None and line_info is not None:
        text += f" [de: Tor {gate} {known.name.de}, Linie {line} {line_info.name.de}]"
    return text


def _side_facts(side: Activations, language: Language) -> list[str]:
    lines = []
    for body in BODY_KEYS:
        act = getattr(side, body)
        lines.append(f"- {BODIES[body].en}: {_gate_fact(act.gate, act.line, language)}")
    return lines


def chart_facts(chart: Chart, language: Language) -> str:
    """The chart as plain-text facts for an LLM: derived properties, then all 26 activations."""
    out: list[str] = ["Derived properties:"]
    missing: list[str] = []

    if chart.type:
        known_type = TYPES.get(chart.type)
        name = known_type.name.en if known_type else humanize(chart.type)
        out.append(f"- Type: {name}")
        if known_type is not None:
            out.append(
                f"- Signature: {known_type.signature.en}; not-self theme: {known_type.not_self.en}"
            )
    else:
        missing.append("type")
    strategy = chart.strategy or strategy_of(chart.type)
    if strategy:
        known_strategy = STRATEGIES.get(strategy)
        out.append(f"- Strategy: {known_strategy.en if known_strategy else humanize(strategy)}")
    else:
        missing.append("strategy")
    if chart.authority:
        known_auth = AUTHORITIES.get(chart.authority)
        out.append(
            f"- Authority: {known_auth.name.en if known_auth else humanize(chart.authority)}"
        )
    else:
        missing.append("authority")

    profile = profile_of(chart)
    known_profile = PROFILES.get(profile)
    notes = [known_profile.name("en")] if known_profile is not None else []
    if not chart.profile:
        notes.append("computed from the personality and design Sun lines")
    profile_text = f"- Profile: {profile}" + (f" ({'; '.join(notes)})" if notes else "")
    out.append(profile_text)

    if chart.definition:
        known_def = DEFINITIONS.get(chart.definition)
        out.append(
            f"- Definition: {known_def.name.en if known_def else humanize(chart.definition)}"
        )
    else:
        missing.append("definition")

    cross = cross_of(chart)
    angle = CROSS_ANGLES.get(cross.angle) if cross.angle else None
    cross_text = (
        f"- Incarnation cross: {angle.name.en + ', ' if angle else ''}gates {cross.gates_text()}"
    )
    if cross.derived:
        cross_text += " (from the Sun and Earth gates; angle from the profile)"
    out.append(cross_text)

    if chart.centers is not None:
        out.append(f"- Defined centers: {_center_names(chart.centers.defined) or 'none'}")
        out.append(f"- Open centers: {_center_names(chart.centers.open) or 'none'}")
    else:
        missing.append("centers")
    if chart.channels is not None:
        out.append(f"- Defined channels: {_channel_names(chart.channels) or 'none'}")
    else:
        missing.append("channels")
    if missing:
        out.append(
            f"- Not calculated in this chart version: {', '.join(missing)}. Do not guess them."
        )

    out.append("")
    out.append("Personality (conscious) activations, gate.line:")
    out.extend(_side_facts(chart.activations.personality, language))
    out.append("")
    out.append("Design (unconscious) activations, gate.line:")
    out.extend(_side_facts(chart.activations.design, language))
    return "\n".join(out)


def _center_names(keys: list[str]) -> str:
    return ", ".join(CENTERS[k].name.en if k in CENTERS else humanize(k) for k in keys)


def _channel_names(keys: list[str]) -> str:
    names = []
    for key in keys:
        channel = find_channel(key)
        if channel is None:
            names.append(key)
        else:
            centers = " - ".join(CENTERS[c].name.en for c in channel.centers)
            names.append(f"{channel.key} {CHANNELS[channel.key].name.en} ({centers})")
    return ", ".join(names)


def build_prompt(chart: Chart, agent: str, language: str) -> list[dict[str, str]]:
    """OpenAI chat messages for `agent`'s reading of `chart` in `language`: system, then user.

    The user message carries the chart facts only (no birth date, time or place: the
    reading does not need them, so they are not sent to the provider).
    """
    definition = get_agent(agent)
    lang = resolve_language(language)
    user = (
        f"Write the {definition.name} reading in {_LANGUAGE_NAMES[lang]} for this Human Design "
        "chart.\n\n"
        f"{chart_facts(chart, lang)}"
    )
    return [
        {"role": "system", "content": definition.system_prompt(lang)},
        {"role": "user", "content": user},
    ]
