"""The 36 channels: the two gates, the two centers, the conventional name and a keynote, en/de.

Keys are written low-high ("10-20"), as the chart contract lists them.
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
    centers: tuple[str, str]
    """Center keys, in the order of the gates in `key`."""
    name: Text
    keynote: Text
    """A short phrase, lower case, no final period."""

    @property
    def gates(self) -> tuple[int, int]:
        low, high = self.key.split("-")
        return int(low), int(high)


def _channel(key: str, centers: str, name: Text, keynote: Text) -> Channel:
    first, second = centers.split("-")
    return Channel(key, (first, second), name, keynote)


_CHANNELS: Final[tuple[Channel, ...]] = (
    _channel(
        "1-8",
        "g-throat",
        Text("Inspiration", "Inspiration"),
        Text(
            "creative expression that sets an example", "kreativer Ausdruck, der ein Beispiel gibt"
        ),
    ),
    _channel(
        "2-14",
        "g-sacral",
        Text("The Beat", "Der Taktgeber"),
        Text(
            "steady energy that follows its own direction",
            "beständige Energie, die ihrer eigenen Richtung folgt",
        ),
    ),
    _channel(
        "3-60",
        "sacral-root",
        Text("Mutation", "Mutation"),
        Text("pulses of energy that bring something new", "Energieschübe, die Neues hervorbringen"),
    ),
    _channel(
        "4-63",
        "ajna-head",
        Text("Logic", "Logik"),
        Text(
            "a mind that tests answers against doubt",
            "ein Verstand, der Antworten am Zweifel prüft",
        ),
    ),
    _channel(
        "5-15",
        "sacral-g",
        Text("Rhythm", "Rhythmus"),
        Text("being in the flow of natural rhythms", "im Fluss natürlicher Rhythmen sein"),
    ),
    _channel(
        "6-59",
        "solar_plexus-sacral",
        Text("Mating", "Paarung"),
        Text(
            "emotional energy for intimacy and bonding", "emotionale Energie für Nähe und Bindung"
        ),
    ),
    _channel(
        "7-31",
        "g-throat",
        Text("The Alpha", "Das Alpha"),
        Text("leadership that shows the way forward", "Führung, die den Weg nach vorn zeigt"),
    ),
    _channel(
        "9-52",
        "sacral-root",
        Text("Concentration", "Konzentration"),
        Text("calm, focused determination", "ruhige, fokussierte Entschlossenheit"),
    ),
    _channel(
        "10-20",
        "g-throat",
        Text("Awakening", "Erwachen"),
        Text("living your own principles in the now", "die eigenen Prinzipien im Jetzt leben"),
    ),
    _channel(
        "10-34",
        "g-sacral",
        Text("Exploration", "Erforschung"),
        Text(
            "following your own convictions with power",
            "den eigenen Überzeugungen kraftvoll folgen",
        ),
    ),
    _channel(
        "10-57",
        "g-spleen",
        Text("Perfected Form", "Vollendete Form"),
        Text(
            "intuitive self-love that serves survival",
            "intuitive Selbstliebe, die dem Überleben dient",
        ),
    ),
    _channel(
        "11-56",
        "ajna-throat",
        Text("Curiosity", "Neugier"),
        Text(
            "a seeker who turns ideas into stories",
            "ein Suchender, der Ideen in Geschichten verwandelt",
        ),
    ),
    _channel(
        "12-22",
        "throat-solar_plexus",
        Text("Openness", "Offenheit"),
        Text(
            "social grace and emotional expression",
            "gesellschaftliche Anmut und emotionaler Ausdruck",
        ),
    ),
    _channel(
        "13-33",
        "g-throat",
        Text("The Prodigal", "Der verlorene Sohn"),
        Text("a witness who remembers and tells", "ein Zeuge, der sich erinnert und erzählt"),
    ),
    _channel(
        "16-48",
        "throat-spleen",
        Text("The Wavelength", "Die Wellenlänge"),
        Text("talent deepened through practice", "Talent, das durch Übung Tiefe gewinnt"),
    ),
    _channel(
        "17-62",
        "ajna-throat",
        Text("Acceptance", "Akzeptanz"),
        Text("organizing opinions into clear details", "Meinungen in klare Details ordnen"),
    ),
    _channel(
        "18-58",
        "spleen-root",
        Text("Judgment", "Urteil"),
        Text("the joy of correcting and improving", "die Freude am Korrigieren und Verbessern"),
    ),
    _channel(
        "19-49",
        "root-solar_plexus",
        Text("Synthesis", "Synthese"),
        Text("sensitivity to needs and principles", "Feingefühl für Bedürfnisse und Prinzipien"),
    ),
    _channel(
        "20-34",
        "throat-sacral",
        Text("Charisma", "Charisma"),
        Text("busy, powerful action in the now", "kraftvolles, geschäftiges Handeln im Jetzt"),
    ),
    _channel(
        "20-57",
        "throat-spleen",
        Text("The Brainwave", "Die Gehirnwelle"),
        Text("penetrating, intuitive awareness", "durchdringende, intuitive Wahrnehmung"),
    ),
    _channel(
        "21-45",
        "heart-throat",
        Text("Money", "Geld"),
        Text("managing resources for the community", "Ressourcen für die Gemeinschaft verwalten"),
    ),
    _channel(
        "23-43",
        "throat-ajna",
        Text("Structuring", "Strukturierung"),
        Text("individual insight put into words", "eigenständige Einsicht, in Worte gefasst"),
    ),
    _channel(
        "24-61",
        "ajna-head",
        Text("Awareness", "Bewusstheit"),
        Text("a thinker drawn to inner truth", "ein Denker, den es zur inneren Wahrheit zieht"),
    ),
    _channel(
        "25-51",
        "g-heart",
        Text("Initiation", "Initiation"),
        Text("the courage to go first", "der Mut, voranzugehen"),
    ),
    _channel(
        "26-44",
        "heart-spleen",
        Text("Surrender", "Hingabe"),
        Text("passing on the lessons of the past", "Lehren aus der Vergangenheit weitergeben"),
    ),
    _channel(
        "27-50",
        "sacral-spleen",
        Text("Preservation", "Bewahrung"),
        Text("caring for others and their values", "Fürsorge für andere und ihre Werte"),
    ),
    _channel(
        "28-38",
        "spleen-root",
        Text("Struggle", "Kampf"),
        Text(
            "stubborn struggle for a meaningful life", "beharrlicher Kampf für ein sinnvolles Leben"
        ),
    ),
    _channel(
        "29-46",
        "sacral-g",
        Text("Discovery", "Entdeckung"),
        Text("succeeding by committing fully", "Erfolg durch volle Hingabe an eine Erfahrung"),
    ),
    _channel(
        "30-41",
        "solar_plexus-root",
        Text("Recognition", "Erkennen"),
        Text("focused desire for new experience", "gebündeltes Verlangen nach neuer Erfahrung"),
    ),
    _channel(
        "32-54",
        "spleen-root",
        Text("Transformation", "Transformation"),
        Text("ambition that wants to build what lasts", "Ehrgeiz, der Dauerhaftes schaffen will"),
    ),
    _channel(
        "34-57",
        "sacral-spleen",
        Text("Power", "Kraft"),
        Text("intuitive power to respond in the moment", "intuitive Kraft, im Moment zu reagieren"),
    ),
    _channel(
        "35-36",
        "throat-solar_plexus",
        Text("Transitoriness", "Vergänglichkeit"),
        Text("a versatile appetite for experience", "vielseitiger Hunger nach Erfahrung"),
    ),
    _channel(
        "37-40",
        "solar_plexus-heart",
        Text("Community", "Gemeinschaft"),
        Text(
            "the bargain that holds a community together",
            "die Abmachung, die eine Gemeinschaft zusammenhält",
        ),
    ),
    _channel(
        "39-55",
        "root-solar_plexus",
        Text("Emoting", "Emotionalität"),
        Text("moods as a source of spirit", "Stimmungen als Quelle von Inspiration"),
    ),
    _channel(
        "42-53",
        "sacral-root",
        Text("Maturation", "Reifung"),
        Text("seeing cycles through to maturity", "Zyklen bis zur Reife durchlaufen"),
    ),
    _channel(
        "47-64",
        "ajna-head",
        Text("Abstraction", "Abstraktion"),
        Text("making sense of past experience", "Sinn aus vergangenen Erfahrungen gewinnen"),
    ),
)

CHANNELS: Final[Mapping[str, Channel]] = MappingProxyType({c.key: c for c in _CHANNELS})
"""The 36 channels by key ("1-8" ... "47-64")."""


def channel_key(first: int, second: int) -> str:
    """The key of the channel between two gates, low-high, whatever their order."""
    low, high = sorted((first, second))
    return f"{low}-{high}"


def find_channel(key: str) -> Channel | None:
    """The channel written `key` ("10-20", also "20-10"); None if there is no such channel."""
    first, sep, second = key.partition("-")
    if not sep or not first.strip().isdigit() or not second.strip().isdigit():
        return None
    return CHANNELS.get(channel_key(int(first), int(second)))
