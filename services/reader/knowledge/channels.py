"""The 36 channels' conventional names and keynotes, en/de.

Keyed by the channels of `shared.hd.channels` ("10-20", low-high, as the chart contract
lists them), which holds their gates and centers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from services.reader.knowledge import Text


@dataclass(frozen=True, slots=True)
class Channel:
    key: str
    """The key of a channel of `shared.hd.channels`."""
    name: Text
    keynote: Text
    """A short phrase, lower case, no final period."""


_CHANNELS: Final[tuple[Channel, ...]] = (
    Channel(
        "1-8",
        Text("Inspiration", "Inspiration"),
        Text(
            "creative expression that sets an example", "kreativer Ausdruck, der ein Beispiel gibt"
        ),
    ),
    Channel(
        "2-14",
        Text("The Beat", "Der Taktgeber"),
        Text(
            "steady energy that follows its own direction",
            "beständige Energie, die ihrer eigenen Richtung folgt",
        ),
    ),
    Channel(
        "3-60",
        Text("Mutation", "Mutation"),
        Text("pulses of energy that bring something new", "Energieschübe, die Neues hervorbringen"),
    ),
    Channel(
        "4-63",
        Text("Logic", "Logik"),
        Text(
            "a mind that tests answers against doubt",
            "ein Verstand, der Antworten am Zweifel prüft",
        ),
    ),
    Channel(
        "5-15",
        Text("Rhythm", "Rhythmus"),
        Text("being in the flow of natural rhythms", "im Fluss natürlicher Rhythmen sein"),
    ),
    Channel(
        "6-59",
        Text("Mating", "Paarung"),
        Text(
            "emotional energy for intimacy and bonding", "emotionale Energie für Nähe und Bindung"
        ),
    ),
    Channel(
        "7-31",
        Text("The Alpha", "Das Alpha"),
        Text("leadership that shows the way forward", "Führung, die den Weg nach vorn zeigt"),
    ),
    Channel(
        "9-52",
        Text("Concentration", "Konzentration"),
        Text("calm, focused determination", "ruhige, fokussierte Entschlossenheit"),
    ),
    Channel(
        "10-20",
        Text("Awakening", "Erwachen"),
        Text("living your own principles in the now", "die eigenen Prinzipien im Jetzt leben"),
    ),
    Channel(
        "10-34",
        Text("Exploration", "Erforschung"),
        Text(
            "following your own convictions with power",
            "den eigenen Überzeugungen kraftvoll folgen",
        ),
    ),
    Channel(
        "10-57",
        Text("Perfected Form", "Vollendete Form"),
        Text(
            "intuitive self-love that serves survival",
            "intuitive Selbstliebe, die dem Überleben dient",
        ),
    ),
    Channel(
        "11-56",
        Text("Curiosity", "Neugier"),
        Text(
            "a seeker who turns ideas into stories",
            "ein Suchender, der Ideen in Geschichten verwandelt",
        ),
    ),
    Channel(
        "12-22",
        Text("Openness", "Offenheit"),
        Text(
            "social grace and emotional expression",
            "gesellschaftliche Anmut und emotionaler Ausdruck",
        ),
    ),
    Channel(
        "13-33",
        Text("The Prodigal", "Der verlorene Sohn"),
        Text("a witness who remembers and tells", "ein Zeuge, der sich erinnert und erzählt"),
    ),
    Channel(
        "16-48",
        Text("The Wavelength", "Die Wellenlänge"),
        Text("talent deepened through practice", "Talent, das durch Übung Tiefe gewinnt"),
    ),
    Channel(
        "17-62",
        Text("Acceptance", "Akzeptanz"),
        Text("organizing opinions into clear details", "Meinungen in klare Details ordnen"),
    ),
    Channel(
        "18-58",
        Text("Judgment", "Urteil"),
        Text("the joy of correcting and improving", "die Freude am Korrigieren und Verbessern"),
    ),
    Channel(
        "19-49",
        Text("Synthesis", "Synthese"),
        Text("sensitivity to needs and principles", "Feingefühl für Bedürfnisse und Prinzipien"),
    ),
    Channel(
        "20-34",
        Text("Charisma", "Charisma"),
        Text("busy, powerful action in the now", "kraftvolles, geschäftiges Handeln im Jetzt"),
    ),
    Channel(
        "20-57",
        Text("The Brainwave", "Die Gehirnwelle"),
        Text("penetrating, intuitive awareness", "durchdringende, intuitive Wahrnehmung"),
    ),
    Channel(
        "21-45",
        Text("Money", "Geld"),
        Text("managing resources for the community", "Ressourcen für die Gemeinschaft verwalten"),
    ),
    Channel(
        "23-43",
        Text("Structuring", "Strukturierung"),
        Text("individual insight put into words", "eigenständige Einsicht, in Worte gefasst"),
    ),
    Channel(
        "24-61",
        Text("Awareness", "Bewusstheit"),
        Text("a thinker drawn to inner truth", "ein Denker, den es zur inneren Wahrheit zieht"),
    ),
    Channel(
        "25-51",
        Text("Initiation", "Initiation"),
        Text("the courage to go first", "der Mut, voranzugehen"),
    ),
    Channel(
        "26-44",
        Text("Surrender", "Hingabe"),
        Text("passing on the lessons of the past", "Lehren aus der Vergangenheit weitergeben"),
    ),
    Channel(
        "27-50",
        Text("Preservation", "Bewahrung"),
        Text("caring for others and their values", "Fürsorge für andere und ihre Werte"),
    ),
    Channel(
        "28-38",
        Text("Struggle", "Kampf"),
        Text(
            "stubborn struggle for a meaningful life", "beharrlicher Kampf für ein sinnvolles Leben"
        ),
    ),
    Channel(
        "29-46",
        Text("Discovery", "Entdeckung"),
        Text("succeeding by committing fully", "Erfolg durch volle Hingabe an eine Erfahrung"),
    ),
    Channel(
        "30-41",
        Text("Recognition", "Erkennen"),
        Text("focused desire for new experience", "gebündeltes Verlangen nach neuer Erfahrung"),
    ),
    Channel(
        "32-54",
        Text("Transformation", "Transformation"),
        Text("ambition that wants to build what lasts", "Ehrgeiz, der Dauerhaftes schaffen will"),
    ),
    Channel(
        "34-57",
        Text("Power", "Kraft"),
        Text("intuitive power to respond in the moment", "intuitive Kraft, im Moment zu reagieren"),
    ),
    Channel(
        "35-36",
        Text("Transitoriness", "Vergänglichkeit"),
        Text("a versatile appetite for experience", "vielseitiger Hunger nach Erfahrung"),
    ),
    Channel(
        "37-40",
        Text("Community", "Gemeinschaft"),
        Text(
            "the bargain that holds a community together",
            "die Abmachung, die eine Gemeinschaft zusammenhält",
        ),
    ),
    Channel(
        "39-55",
        Text("Emoting", "Emotionalität"),
        Text("moods as a source of spirit", "Stimmungen als Quelle von Inspiration"),
    ),
    Channel(
        "42-53",
        Text("Maturation", "Reifung"),
        Text("seeing cycles through to maturity", "Zyklen bis zur Reife durchlaufen"),
    ),
    Channel(
        "47-64",
        Text("Abstraction", "Abstraktion"),
        Text("making sense of past experience", "Sinn aus vergangenen Erfahrungen gewinnen"),
    ),
)

CHANNELS: Final[Mapping[str, Channel]] = MappingProxyType({c.key: c for c in _CHANNELS})
"""The 36 channels by key ("1-8" ... "47-64")."""
