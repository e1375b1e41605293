"""The six line archetypes and the twelve profiles, in en/de.

A profile is the personality (conscious) Sun line over the design
(unconscious) Sun line, e.g. "5/1"; only twelve combinations occur.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from services.reader.knowledge import Text
from shared.events.reading_requested import Language


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    name: Text
    keynote: Text


@dataclass(frozen=True, slots=True)
class Profile:
    key: str
    """`"5/1"`: conscious Sun line / unconscious Sun line."""
    description: Text

    @property
    def lines(self) -> tuple[int, int]:
        conscious, unconscious = self.key.split("/")
        return int(conscious), int(unconscious)

    def name(self, language: Language) -> str:
        """`Heretic / Investigator` / `Häretiker / Forscher`."""
        conscious, unconscious = self.lines
        return f"{LINES[conscious].name.get(language)} / {LINES[unconscious].name.get(language)}"


_LINES: Final[tuple[Line, ...]] = (
    Line(
        1,
        Text("Investigator", "Forscher"),
        Text(
            "You find security in a solid foundation: study something thoroughly first, then act.",
            "Du findest Sicherheit in einem soliden Fundament: erst gründlich erforschen, "
            "dann handeln.",
        ),
    ),
    Line(
        2,
        Text("Hermit", "Eremit"),
        Text(
            "Your natural gifts ripen in time alone, until the right call from others draws "
            "them out.",
            "Deine natürlichen Begabungen reifen im Rückzug, bis der richtige Ruf von außen sie "
            "hervorholt.",
        ),
    ),
    Line(
        3,
        Text("Martyr", "Märtyrer"),
        Text(
            "You learn by trial and error, and every bump along the way becomes lived wisdom.",
            "Du lernst durch Versuch und Irrtum, und jeder Stolperstein wird zu gelebter Weisheit.",
        ),
    ),
    Line(
        4,
        Text("Opportunist", "Opportunist"),
        Text(
            "You build your life through your network and open up best to people you know.",
            "Du baust dein Leben über dein Netzwerk auf und öffnest dich am ehesten Menschen, "
            "die du kennst.",
        ),
    ),
    Line(
        5,
        Text("Heretic", "Häretiker"),
        Text(
            "Others see in you someone with practical solutions, and your reputation depends "
            "on delivering them.",
            "Andere sehen in dir jemanden mit praktischen Lösungen, und dein Ruf hängt davon "
            "ab, sie auch zu liefern.",
        ),
    ),
    Line(
        6,
        Text("Role Model", "Rollenvorbild"),
        Text(
            "Your life unfolds in three phases: experimenting, stepping back to observe, then "
            "living as an example.",
            "Dein Leben entfaltet sich in drei Phasen: ausprobieren, zurücktreten und "
            "beobachten, schließlich als Vorbild leben.",
        ),
    ),
)

LINES: Final[Mapping[int, Line]] = MappingProxyType({line.number: line for line in _LINES})
"""The six line archetypes by number."""


_PROFILES: Final[tuple[Profile, ...]] = (
    Profile(
        "1/3",
        Text(
            "You need a solid foundation, and you test it in real life until you know what "
            "truly holds.",
            "Du brauchst ein solides Fundament und prüfst es im echten Leben, bis du weißt, was "
            "wirklich trägt.",
        ),
    ),
    Profile(
        "1/4",
        Text(
            "You build on thorough knowledge and pass it on through the people who already "
            "trust you.",
            "Du baust auf gründlichem Wissen auf und gibst es über die Menschen weiter, die dir "
            "bereits vertrauen.",
        ),
    ),
    Profile(
        "2/4",
        Text(
            "You need time alone with your natural gifts, and the right opportunities come "
            "through your friends.",
            "Du brauchst Zeit für dich und deine natürlichen Begabungen; die richtigen "
            "Gelegenheiten kommen über deine Freundschaften.",
        ),
    ),
    Profile(
        "2/5",
        Text(
            "You would rather be left alone with your gifts, yet others keep calling on you "
            "to solve their problems.",
            "Am liebsten würdest du mit deinen Begabungen für dich bleiben, doch andere holen "
            "dich immer wieder, damit du ihre Probleme löst.",
        ),
    ),
    Profile(
        "3/5",
        Text(
            "You learn by trying things out, and that experience makes you the practical "
            "problem-solver others turn to.",
            "Du lernst durchs Ausprobieren, und diese Erfahrung macht dich zu jemandem, der "
            "praktische Lösungen findet und an den sich andere wenden.",
        ),
    ),
    Profile(
        "3/6",
        Text(
            "Your life is a rich experiment that gradually matures into calm, lived authority.",
            "Dein Leben ist ein reiches Experiment, das allmählich zu ruhiger, gelebter "
            "Autorität heranreift.",
        ),
    ),
    Profile(
        "4/6",
        Text(
            "Your relationships carry you, and over the years you become an example for the "
            "people around you.",
            "Deine Beziehungen tragen dich, und mit den Jahren wirst du zum Vorbild für die "
            "Menschen um dich herum.",
        ),
    ),
    Profile(
        "4/1",
        Text(
            "You follow a fixed, well-founded path of your own and share it through your "
            "close network.",
            "Du gehst einen festen, gut begründeten eigenen Weg und teilst ihn über dein enges "
            "Netzwerk.",
        ),
    ),
    Profile(
        "5/1",
        Text(
            "Others expect solutions from you, and solid research is what lets you meet that "
            "expectation.",
            "Andere erwarten Lösungen von dir, und gründliche Recherche macht es dir möglich, "
            "diese Erwartung zu erfüllen.",
        ),
    ),
    Profile(
        "5/2",
        Text(
            "Others call on you for solutions, while you need retreat to let your natural "
            "gifts ripen.",
            "Andere rufen dich, wenn sie Lösungen brauchen, während du Rückzug brauchst, damit "
            "deine Begabungen reifen.",
        ),
    ),
    Profile(
        "6/2",
        Text(
            "You grow into a natural example, and your gifts shine most when you are called "
            "at the right time.",
            "Du wächst zu einem natürlichen Vorbild heran, und deine Begabungen strahlen am "
            "hellsten, wenn man dich zur rechten Zeit ruft.",
        ),
    ),
    Profile(
        "6/3",
        Text(
            "Your path to becoming an example runs through plenty of experimenting, well into "
            "later life.",
            "Dein Weg zum Vorbild führt über viel Ausprobieren, bis weit ins spätere Leben hinein.",
        ),
    ),
)

PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(
    {profile.key: profile for profile in _PROFILES}
)
"""The twelve profiles of `shared.hd.profiles` by key ("1/3" ... "6/3"), in its order."""
