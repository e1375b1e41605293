"""Chart-level terms in en/de: types, strategies, authorities, definitions, centers, crosses.

Text keyed by the values of `shared.hd` (the chart contract's, `SPEC.md` sections 5 and 6):
`manifesting_generator`, `wait_for_the_invitation`, `solar_plexus`, `left_angle`, ...
Which strategy a type follows, a center's gates and a profile's cross angle are
`shared.hd`'s, not repeated here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from services.reader.knowledge import Text


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    name: Text
    description: Text


@dataclass(frozen=True, slots=True)
class ChartType:
    key: str
    name: Text
    description: Text
    signature: Text
    """How it feels when the type lives its strategy."""
    not_self: Text
    """The signal that it does not."""


@dataclass(frozen=True, slots=True)
class Authority:
    key: str
    name: Text
    description: Text
    practice: Text
    """One concrete, imperative sentence on how to decide with it."""


@dataclass(frozen=True, slots=True)
class Center:
    key: str
    name: Text
    defined: Text
    open: Text


STRATEGIES: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "to_inform": Text("To inform", "Informieren"),
        "to_respond": Text("To respond", "Reagieren"),
        "wait_for_the_invitation": Text("Wait for the invitation", "Auf die Einladung warten"),
        "wait_a_lunar_cycle": Text("Wait a lunar cycle", "Einen Mondzyklus abwarten"),
    }
)
"""Strategy keys of the chart contract to their names."""


_TYPES: Final[tuple[ChartType, ...]] = (
    ChartType(
        "manifestor",
        Text("Manifestor", "Manifestor"),
        Text(
            "You can initiate on your own; informing the people affected before you act takes "
            "resistance out of your way.",
            "Du kannst aus dir selbst heraus etwas in Gang setzen; wenn du die Betroffenen "
            "informierst, bevor du handelst, räumst du Widerstände aus dem Weg.",
        ),
        Text("peace", "Frieden"),
        Text("anger", "Ärger"),
    ),
    ChartType(
        "generator",
        Text("Generator", "Generator"),
        Text(
            "You have sustainable life energy; your gut response to what life brings you shows "
            "you where to put it.",
            "Du hast nachhaltige Lebensenergie; deine Bauchreaktion auf das, was das Leben dir "
            "bringt, zeigt dir, wofür du sie einsetzt.",
        ),
        Text("satisfaction", "Zufriedenheit"),
        Text("frustration", "Frustration"),
    ),
    ChartType(
        "manifesting_generator",
        Text("Manifesting Generator", "Manifestierender Generator"),
        Text(
            "You combine sustainable energy with speed: respond first, then inform, and skip "
            "the steps that do not matter.",
            "Du verbindest nachhaltige Energie mit Tempo: erst reagieren, dann informieren – "
            "und Schritte überspringen, die nicht zählen.",
        ),
        Text("satisfaction", "Zufriedenheit"),
        Text("frustration and anger", "Frustration und Ärger"),
    ),
    ChartType(
        "projector",
        Text("Projector", "Projektor"),
        Text(
            "You see others deeply and guide them well when you are recognized and invited, "
            "above all for the big things in life.",
            "Du erkennst andere sehr tief und kannst sie gut leiten, wenn du anerkannt und "
            "eingeladen wirst – vor allem bei den großen Dingen im Leben.",
        ),
        Text("success", "Erfolg"),
        Text("bitterness", "Verbitterung"),
    ),
    ChartType(
        "reflector",
        Text("Reflector", "Reflektor"),
        Text(
            "You mirror the health of your surroundings; important decisions ripen over about "
            "a month, as the Moon moves through all the gates.",
            "Du spiegelst, wie gesund dein Umfeld ist; wichtige Entscheidungen reifen über "
            "etwa einen Monat, während der Mond alle Tore durchläuft.",
        ),
        Text("surprise", "Überraschung"),
        Text("disappointment", "Enttäuschung"),
    ),
)

TYPES: Final[Mapping[str, ChartType]] = MappingProxyType({t.key: t for t in _TYPES})
"""The five types by key."""


_AUTHORITIES: Final[tuple[Authority, ...]] = (
    Authority(
        "emotional",
        Text("Emotional (solar plexus)", "Emotional (Solarplexus)"),
        Text(
            "Your clarity comes in waves; there is no truth in the moment, so give decisions time.",
            "Deine Klarheit kommt in Wellen; im Augenblick liegt keine Wahrheit, also gib "
            "Entscheidungen Zeit.",
        ),
        Text(
            "Sleep on it, and wait until you feel calm about the choice across your highs and "
            "lows.",
            "Schlaf darüber und warte, bis du dich über deine Hochs und Tiefs hinweg ruhig mit "
            "der Entscheidung fühlst.",
        ),
    ),
    Authority(
        "sacral",
        Text("Sacral", "Sakral"),
        Text(
            "Your gut answers in the moment with a sound or a felt yes or no, before the mind "
            "gets involved.",
            "Dein Bauch antwortet im Moment mit einem Laut oder einem spürbaren Ja oder Nein, "
            "bevor sich der Verstand einmischt.",
        ),
        Text(
            "Let someone ask you yes-or-no questions, and trust your gut response more than "
            "your reasons.",
            "Lass dir Ja-Nein-Fragen stellen und vertraue deiner Bauchantwort mehr als deinen "
            "Begründungen.",
        ),
    ),
    Authority(
        "splenic",
        Text("Splenic", "Milz"),
        Text(
            "Your intuition speaks quietly and only once, in the moment, about what is healthy "
            "and safe.",
            "Deine Intuition spricht leise und nur einmal, im Moment, darüber, was gesund und "
            "sicher ist.",
        ),
        Text(
            "Notice the first quiet instinct, and act on it before the mind talks you out of it.",
            "Achte auf den ersten leisen Impuls und folge ihm, bevor der Verstand ihn dir "
            "ausredet.",
        ),
    ),
    Authority(
        "ego_manifested",
        Text("Ego (manifested)", "Ego (manifestiert)"),
        Text(
            "Your truth lies in what you spontaneously say you want, in your own words, in the "
            "moment.",
            "Deine Wahrheit liegt in dem, was du spontan sagst, dass du willst – in deinen "
            "eigenen Worten, im Moment.",
        ),
        Text(
            "Listen to what you hear yourself say you want, and ask whether your heart is "
            "really in it.",
            "Hör darauf, was du selbst sagst, dass du willst, und frag dich, ob dein Herz "
            "wirklich dabei ist.",
        ),
    ),
    Authority(
        "ego_projected",
        Text("Ego (projected)", "Ego (projiziert)"),
        Text(
            "Your heart knows what it wants; saying it out loud to people who invite you makes "
            "it clear.",
            "Dein Herz weiß, was es will; wenn du es Menschen gegenüber aussprichst, die dich "
            "einladen, wird es klar.",
        ),
        Text(
            "Talk it through with someone you trust, and listen for what your heart says it wants.",
            "Sprich die Sache mit einem vertrauten Menschen durch und hör hin, was dein Herz "
            "sagt, dass es will.",
        ),
    ),
    Authority(
        "self_projected",
        Text("Self-projected", "Selbst-projiziert"),
        Text(
            "Your direction becomes clear when you hear yourself talk about who you are and "
            "where you are going.",
            "Deine Richtung wird klar, wenn du dich selbst darüber sprechen hörst, wer du bist "
            "und wohin du gehst.",
        ),
        Text(
            "Talk your options through out loud with people you trust, without asking for "
            "their advice.",
            "Sprich deine Möglichkeiten laut mit vertrauten Menschen durch, ohne sie um Rat zu "
            "bitten.",
        ),
    ),
    Authority(
        "mental",
        Text("Mental (environment)", "Mental (Umfeld)"),
        Text(
            "There is no inner authority below the throat; clarity comes from the right "
            "environment and good sounding boards.",
            "Unterhalb der Kehle gibt es keine innere Autorität; Klarheit entsteht durch das "
            "richtige Umfeld und gute Gesprächspartner.",
        ),
        Text(
            "Talk decisions through in different places with different people, and notice "
            "where it feels right.",
            "Besprich Entscheidungen an verschiedenen Orten mit verschiedenen Menschen und "
            "achte darauf, wo es sich stimmig anfühlt.",
        ),
    ),
    Authority(
        "lunar",
        Text("Lunar", "Lunar"),
        Text(
            "Your clarity grows over a full lunar cycle of about 28 days, as you experience "
            "life from many angles.",
            "Deine Klarheit wächst über einen ganzen Mondzyklus von etwa 28 Tagen, während du "
            "das Leben aus vielen Blickwinkeln erfährst.",
        ),
        Text(
            "Give big decisions about a month, and talk them over with people you trust along "
            "the way.",
            "Gib großen Entscheidungen etwa einen Monat Zeit und sprich unterwegs mit Menschen "
            "darüber, denen du vertraust.",
        ),
    ),
)

AUTHORITIES: Final[Mapping[str, Authority]] = MappingProxyType({a.key: a for a in _AUTHORITIES})
"""The eight authorities by key, in the order of the rules that assign them."""


_DEFINITIONS: Final[tuple[Term, ...]] = (
    Term(
        "none",
        Text("No definition", "Keine Definition"),
        Text(
            "All your centers are open: you take in your surroundings and reflect them back.",
            "Alle deine Zentren sind offen: Du nimmst dein Umfeld auf und spiegelst es wider.",
        ),
    ),
    Term(
        "single",
        Text("Single definition", "Einfache Definition"),
        Text(
            "All your defined centers are connected, so you process life in one consistent flow.",
            "Alle deine definierten Zentren sind miteinander verbunden, daher verarbeitest du "
            "das Leben in einem beständigen Fluss.",
        ),
    ),
    Term(
        "split",
        Text("Split definition", "Gespaltene Definition"),
        Text(
            "Two separate areas of definition: other people can bridge them, and you may feel "
            "drawn to those who do.",
            "Zwei getrennte Bereiche: Andere Menschen können sie verbinden, und du fühlst dich "
            "oft zu ihnen hingezogen.",
        ),
    ),
    Term(
        "triple_split",
        Text("Triple split definition", "Dreifach gespaltene Definition"),
        Text(
            "Three separate areas: you take time to process and benefit from meeting many "
            "different people.",
            "Drei getrennte Bereiche: Du brauchst Zeit zum Verarbeiten und profitierst davon, "
            "vielen verschiedenen Menschen zu begegnen.",
        ),
    ),
    Term(
        "quadruple_split",
        Text("Quadruple split definition", "Vierfach gespaltene Definition"),
        Text(
            "Four separate areas: a rare design that needs time and its own pace to come together.",
            "Vier getrennte Bereiche: ein seltenes Design, das Zeit und sein eigenes Tempo "
            "braucht, um zusammenzufinden.",
        ),
    ),
)

DEFINITIONS: Final[Mapping[str, Term]] = MappingProxyType({d.key: d for d in _DEFINITIONS})
"""The five kinds of definition by key."""


_CENTERS: Final[tuple[Center, ...]] = (
    Center(
        "head",
        Text("Head center", "Kopfzentrum"),
        Text(
            "You have a steady pressure of your own questions and inspiration.",
            "Du hast einen beständigen eigenen Druck aus Fragen und Inspiration.",
        ),
        Text(
            "You pick up other people's questions; not every one of them is yours to answer.",
            "Du nimmst die Fragen anderer auf; nicht jede davon musst du beantworten.",
        ),
    ),
    Center(
        "ajna",
        Text("Ajna center", "Ajna-Zentrum"),
        Text(
            "You have a consistent way of thinking and of processing ideas.",
            "Du hast eine beständige Art zu denken und Ideen zu verarbeiten.",
        ),
        Text(
            "Your mind is flexible and open to many views; you do not have to be certain.",
            "Dein Denken ist flexibel und offen für viele Sichtweisen; du musst dir nicht "
            "sicher sein.",
        ),
    ),
    Center(
        "throat",
        Text("Throat center", "Kehlzentrum"),
        Text(
            "You have a consistent way of speaking and of getting things done.",
            "Du hast eine beständige Art, zu sprechen und Dinge umzusetzen.",
        ),
        Text(
            "Your voice is versatile and carries furthest when you do not push for attention.",
            "Deine Stimme ist wandelbar und trägt am weitesten, wenn du nicht um "
            "Aufmerksamkeit kämpfst.",
        ),
    ),
    Center(
        "g",
        Text("G center", "G-Zentrum"),
        Text(
            "You have a fixed sense of identity, love and direction.",
            "Du hast ein festes Gespür für Identität, Liebe und Richtung.",
        ),
        Text(
            "Your sense of self is fluid; the right places and people show you the way.",
            "Dein Selbstbild ist fließend; die richtigen Orte und Menschen zeigen dir den Weg.",
        ),
    ),
    Center(
        "heart",
        Text("Heart center", "Herzzentrum"),
        Text(
            "You have consistent willpower and can make and keep promises.",
            "Du hast beständige Willenskraft und kannst Versprechen geben und halten.",
        ),
        Text(
            "You have nothing to prove; be careful with promises made to prove your worth.",
            "Du musst niemandem etwas beweisen; sei vorsichtig mit Versprechen, die deinen Wert "
            "beweisen sollen.",
        ),
    ),
    Center(
        "spleen",
        Text("Spleen center", "Milzzentrum"),
        Text(
            "You have a steady immune system and a reliable intuition for what keeps you well.",
            "Du hast ein stabiles Immunsystem und eine verlässliche Intuition dafür, was dir "
            "guttut.",
        ),
        Text(
            "You sense other people's wellbeing keenly; notice what you hold on to only because "
            "it feels safe.",
            "Du spürst das Befinden anderer sehr fein; achte darauf, woran du nur festhältst, "
            "weil es sich sicher anfühlt.",
        ),
    ),
    Center(
        "solar_plexus",
        Text("Solar plexus", "Solarplexus"),
        Text(
            "You have your own emotional wave, with its own highs and lows.",
            "Du hast deine eigene emotionale Welle mit eigenen Hochs und Tiefs.",
        ),
        Text(
            "You feel other people's emotions strongly; you need not make them your own or "
            "avoid conflict at any cost.",
            "Du spürst die Gefühle anderer stark; du musst sie weder zu deinen eigenen machen "
            "noch Konflikte um jeden Preis meiden.",
        ),
    ),
    Center(
        "sacral",
        Text("Sacral center", "Sakralzentrum"),
        Text(
            "You have sustainable energy for life and work when you respond to what is right "
            "for you.",
            "Du hast nachhaltige Energie für Leben und Arbeit, wenn du auf das reagierst, was "
            "für dich stimmt.",
        ),
        Text(
            "Your energy is not built for nonstop work; knowing when enough is enough is your "
            "wisdom.",
            "Deine Energie ist nicht für Dauerarbeit gemacht; zu wissen, wann es genug ist, ist "
            "deine Weisheit.",
        ),
    ),
    Center(
        "root",
        Text("Root center", "Wurzelzentrum"),
        Text(
            "You handle pressure and stress in your own steady rhythm.",
            "Du gehst in deinem eigenen, beständigen Rhythmus mit Druck und Stress um.",
        ),
        Text(
            "You feel the pressure around you amplified; not everything has to be done in a hurry.",
            "Du spürst den Druck um dich herum verstärkt; nicht alles muss sofort erledigt werden.",
        ),
    ),
)

CENTERS: Final[Mapping[str, Center]] = MappingProxyType({c.key: c for c in _CENTERS})
"""The nine centers by key, in the order of `SPEC.md` section 4."""


_CROSS_ANGLES: Final[tuple[Term, ...]] = (
    Term(
        "right_angle",
        Text("Right Angle Cross", "Rechtswinkel-Kreuz"),
        Text(
            "A personal destiny: your life theme unfolds mainly through your own path and "
            "your own experience.",
            "Ein persönliches Schicksal: Dein Lebensthema entfaltet sich vor allem über deinen "
            "eigenen Weg und deine eigenen Erfahrungen.",
        ),
    ),
    Term(
        "left_angle",
        Text("Left Angle Cross", "Linkswinkel-Kreuz"),
        Text(
            "A transpersonal destiny: your life theme unfolds through encounters and bonds "
            "with other people.",
            "Ein transpersonales Schicksal: Dein Lebensthema entfaltet sich über Begegnungen "
            "und Verbindungen mit anderen Menschen.",
        ),
    ),
    Term(
        "juxtaposition",
        Text("Juxtaposition Cross", "Juxtapositions-Kreuz"),
        Text(
            "A fixed fate: a very particular, steady path that is yours alone to walk.",
            "Ein festgelegtes Schicksal: ein ganz eigener, beständiger Weg, den nur du so "
            "gehen kannst.",
        ),
    ),
)

CROSS_ANGLES: Final[Mapping[str, Term]] = MappingProxyType({a.key: a for a in _CROSS_ANGLES})
"""The three angles of the incarnation cross by key."""

BODIES: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "sun": Text("Sun", "Sonne"),
        "earth": Text("Earth", "Erde"),
        "moon": Text("Moon", "Mond"),
        "north_node": Text("North Node", "Nordknoten"),
        "south_node": Text("South Node", "Südknoten"),
        "mercury": Text("Mercury", "Merkur"),
        "venus": Text("Venus", "Venus"),
        "mars": Text("Mars", "Mars"),
        "jupiter": Text("Jupiter", "Jupiter"),
        "saturn": Text("Saturn", "Saturn"),
        "uranus": Text("Uranus", "Uranus"),
        "neptune": Text("Neptune", "Neptun"),
        "pluto": Text("Pluto", "Pluto"),
    }
)
"""The 13 activated bodies, in the chart contract's order."""

SIDES: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "personality": Text("Personality (conscious)", "Persönlichkeit (bewusst)"),
        "design": Text("Design (unconscious)", "Design (unbewusst)"),
    }
)
"""The two sides of the chart: the birth moment and the moment 88 degrees of Sun before."""


def humanize(key: str) -> str:
    """A readable fallback for a key the knowledge base does not know: `some_key` -> `some key`."""
    return key.replace("_", " ")
