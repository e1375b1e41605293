"""The 64 gates: conventional Human Design name, I Ching hexagram and a keynote, in en/de.

The names follow Human Design convention ("Gate of Self-Expression", hexagram
"The Creative"); the German hexagram names follow Richard Wilhelm's I Ging.
The keynotes are this project's own one-sentence summaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from services.reader.knowledge import Text
from shared.events.reading_requested import Language


@dataclass(frozen=True, slots=True)
class Gate:
    number: int
    name: Text
    hexagram: Text
    keynote: Text

    def label(self, language: Language) -> str:
        """`Gate 51, Shock (The Arousing)` / `Tor 51, Schock (Das Erregende)`."""
        word = "Tor" if language == "de" else "Gate"
        return f"{word} {self.number}, {self.name.get(language)} ({self.hexagram.get(language)})"


_GATES: Final[tuple[Gate, ...]] = (
    Gate(
        1,
        Text("Self-Expression", "Selbstausdruck"),
        Text("The Creative", "Das Schöpferische"),
        Text(
            "The creative urge to express your own individuality and inspire others by example.",
            "Der schöpferische Drang, die eigene Individualität auszudrücken und durch das "
            "eigene Beispiel zu inspirieren.",
        ),
    ),
    Gate(
        2,
        Text("Direction of the Self", "Richtung des Selbst"),
        Text("The Receptive", "Das Empfangende"),
        Text(
            "A quiet inner knowing of where life wants to go, and the openness to be led there.",
            "Ein stilles inneres Wissen um die Richtung, in die das Leben will, und die "
            "Offenheit, sich dorthin führen zu lassen.",
        ),
    ),
    Gate(
        3,
        Text("Ordering", "Ordnung"),
        Text("Difficulty at the Beginning", "Die Anfangsschwierigkeit"),
        Text(
            "The energy to bring order out of chaos and push something genuinely new into being.",
            "Die Kraft, aus dem Chaos Ordnung zu schaffen und wirklich Neues ins Leben zu bringen.",
        ),
    ),
    Gate(
        4,
        Text("Formulization", "Formulierung"),
        Text("Youthful Folly", "Die Jugendtorheit"),
        Text(
            "A gift for answers and formulas, which are best tested before they are trusted.",
            "Eine Gabe für Antworten und Formeln, die man am besten prüft, bevor man ihnen "
            "vertraut.",
        ),
    ),
    Gate(
        5,
        Text("Fixed Rhythms", "Feste Rhythmen"),
        Text("Waiting", "Das Warten"),
        Text(
            "A need for steady routines and natural timing that keep life in its own flow.",
            "Das Bedürfnis nach verlässlichen Routinen und natürlichem Timing, die das Leben im "
            "Fluss halten.",
        ),
    ),
    Gate(
        6,
        Text("Friction", "Reibung"),
        Text("Conflict", "Der Streit"),
        Text(
            "Emotional sensitivity that decides how close others may come, for intimacy or "
            "for conflict.",
            "Emotionale Empfindsamkeit, die regelt, wie nah andere kommen dürfen – für Nähe "
            "oder für Konflikt.",
        ),
    ),
    Gate(
        7,
        Text("The Role of the Self", "Die Rolle des Selbst"),
        Text("The Army", "Das Heer"),
        Text(
            "Leadership through direction: seeing where a group should go and guiding it there.",
            "Führung durch Richtung: erkennen, wohin eine Gruppe gehen sollte, und sie dorthin "
            "lenken.",
        ),
    ),
    Gate(
        8,
        Text("Contribution", "Beitrag"),
        Text("Holding Together", "Das Zusammenhalten"),
        Text(
            "The urge to contribute something individual that sets an example for the group.",
            "Der Drang, etwas ganz Eigenes beizutragen, das der Gemeinschaft als Beispiel dient.",
        ),
    ),
    Gate(
        9,
        Text("Focus", "Fokus"),
        Text("The Taming Power of the Small", "Des Kleinen Zähmungskraft"),
        Text(
            "The energy to concentrate on details and stay with one thing until it is done.",
            "Die Energie, sich auf Details zu konzentrieren und bei einer Sache zu bleiben, "
            "bis sie erledigt ist.",
        ),
    ),
    Gate(
        10,
        Text("Behavior of the Self", "Verhalten des Selbst"),
        Text("Treading", "Das Auftreten"),
        Text(
            "Loving and accepting yourself, and behaving in a way that is true to who you are.",
            "Sich selbst zu lieben und anzunehmen und sich so zu verhalten, wie es dem eigenen "
            "Wesen entspricht.",
        ),
    ),
    Gate(
        11,
        Text("Ideas", "Ideen"),
        Text("Peace", "Der Friede"),
        Text(
            "A mind full of ideas and images, best shared as inspiration rather than as a plan.",
            "Ein Kopf voller Ideen und Bilder, die man am besten als Inspiration teilt, nicht "
            "als Plan.",
        ),
    ),
    Gate(
        12,
        Text("Caution", "Vorsicht"),
        Text("Standstill", "Die Stockung"),
        Text(
            "Careful, mood-dependent expression that moves others when the timing is right.",
            "Vorsichtiger, stimmungsabhängiger Ausdruck, der andere berührt, wenn der "
            "Zeitpunkt stimmt.",
        ),
    ),
    Gate(
        13,
        Text("The Listener", "Der Zuhörer"),
        Text("The Fellowship of Man", "Gemeinschaft mit Menschen"),
        Text(
            "A listener who draws out other people's stories and keeps the lessons of the past.",
            "Ein Zuhörer, dem andere ihre Geschichten anvertrauen und der die Lehren der "
            "Vergangenheit bewahrt.",
        ),
    ),
    Gate(
        14,
        Text("Power Skills", "Kraftvolle Fähigkeiten"),
        Text("Possession in Great Measure", "Der Besitz von Großem"),
        Text(
            "Sustained energy for work that builds resources when it goes into what feels right.",
            "Anhaltende Arbeitskraft, die Ressourcen aufbaut, wenn sie in das Richtige fließt.",
        ),
    ),
    Gate(
        15,
        Text("Extremes", "Extreme"),
        Text("Modesty", "Die Bescheidenheit"),
        Text(
            "Ease with the full range of human rhythms, carried by a natural love of humanity.",
            "Die Fähigkeit, die ganze Bandbreite menschlicher Rhythmen zu leben, getragen "
            "von Liebe zur Menschheit.",
        ),
    ),
    Gate(
        16,
        Text("Skills", "Fertigkeiten"),
        Text("Enthusiasm", "Die Begeisterung"),
        Text(
            "Enthusiasm for mastering a skill through practice and repetition.",
            "Begeisterung dafür, eine Fähigkeit durch Übung und Wiederholung zu meistern.",
        ),
    ),
    Gate(
        17,
        Text("Opinions", "Meinungen"),
        Text("Following", "Die Nachfolge"),
        Text(
            "A mind that orders the world into opinions and patterns, worth sharing when asked.",
            "Ein Verstand, der die Welt in Meinungen und Muster ordnet, die man teilen sollte, "
            "wenn man gefragt wird.",
        ),
    ),
    Gate(
        18,
        Text("Correction", "Korrektur"),
        Text("Work on What Has Been Spoilt", "Die Arbeit am Verdorbenen"),
        Text(
            "An eye for what could be better, and the urge to correct and improve it.",
            "Ein Blick dafür, was besser sein könnte, und der Drang, es zu korrigieren und zu "
            "verbessern.",
        ),
    ),
    Gate(
        19,
        Text("Wanting", "Wollen"),
        Text("Approach", "Die Annäherung"),
        Text(
            "Sensitivity to the basic needs of others: food, shelter, belonging and closeness.",
            "Feinfühligkeit für die Grundbedürfnisse anderer: Nahrung, Geborgenheit, "
            "Zugehörigkeit und Nähe.",
        ),
    ),
    Gate(
        20,
        Text("The Now", "Das Jetzt"),
        Text("Contemplation", "Die Betrachtung"),
        Text(
            "Presence in the moment, expressed as awareness and spontaneous action.",
            "Präsenz im Augenblick, die sich als Bewusstheit und spontanes Handeln ausdrückt.",
        ),
    ),
    Gate(
        21,
        Text("The Hunter/Huntress", "Jäger/Jägerin"),
        Text("Biting Through", "Das Durchbeißen"),
        Text(
            "The will to be in control of your own resources, territory and way of working.",
            "Der Wille, über die eigenen Ressourcen, das eigene Revier und die eigene "
            "Arbeitsweise selbst zu bestimmen.",
        ),
    ),
    Gate(
        22,
        Text("Openness", "Offenheit"),
        Text("Grace", "Die Anmut"),
        Text(
            "Emotional grace and charm that open doors when the mood is right.",
            "Emotionale Anmut und Charme, die Türen öffnen, wenn die Stimmung stimmt.",
        ),
    ),
    Gate(
        23,
        Text("Assimilation", "Assimilation"),
        Text("Splitting Apart", "Die Zersplitterung"),
        Text(
            "The gift of putting complex insight into simple words once others are ready to hear.",
            "Die Gabe, komplexe Einsichten in einfache Worte zu fassen, sobald andere bereit "
            "sind, sie zu hören.",
        ),
    ),
    Gate(
        24,
        Text("Rationalization", "Rationalisierung"),
        Text("Returning", "Die Wiederkehr"),
        Text(
            "A mind that returns to a question again and again until it finally makes sense.",
            "Ein Verstand, der immer wieder zu einer Frage zurückkehrt, bis sie endlich einen "
            "Sinn ergibt.",
        ),
    ),
    Gate(
        25,
        Text("Spirit of the Self", "Geist des Selbst"),
        Text("Innocence", "Die Unschuld"),
        Text(
            "An innocent, universal love that meets life without conditions.",
            "Eine unschuldige, universelle Liebe, die dem Leben ohne Bedingungen begegnet.",
        ),
    ),
    Gate(
        26,
        Text("The Egoist", "Der Egoist"),
        Text("The Taming Power of the Great", "Des Großen Zähmungskraft"),
        Text(
            "The talent to persuade, sell and present things in their best light.",
            "Das Talent, zu überzeugen, zu verkaufen und Dinge ins beste Licht zu rücken.",
        ),
    ),
    Gate(
        27,
        Text("Caring", "Fürsorge"),
        Text("Nourishment", "Die Mundwinkel"),
        Text(
            "The energy to nurture and protect others, balanced by caring for yourself.",
            "Die Energie, andere zu nähren und zu schützen – im Gleichgewicht mit der Sorge "
            "für sich selbst.",
        ),
    ),
    Gate(
        28,
        Text("The Game Player", "Der Spieler"),
        Text("Preponderance of the Great", "Des Großen Übergewicht"),
        Text(
            "The search for what makes life worth living, and the courage to struggle for it.",
            "Die Suche nach dem, was das Leben lebenswert macht, und der Mut, dafür zu kämpfen.",
        ),
    ),
    Gate(
        29,
        Text("Perseverance", "Ausdauer"),
        Text("The Abysmal", "Das Abgründige"),
        Text(
            "The capacity to say yes and see an experience through to its end.",
            "Die Fähigkeit, Ja zu sagen und eine Erfahrung bis zum Ende durchzustehen.",
        ),
    ),
    Gate(
        30,
        Text("Feelings", "Gefühle"),
        Text("The Clinging, Fire", "Das Haftende, das Feuer"),
        Text(
            "A burning desire for new experiences, and for the feelings that come with them.",
            "Ein brennendes Verlangen nach neuen Erfahrungen und den Gefühlen, die sie mit "
            "sich bringen.",
        ),
    ),
    Gate(
        31,
        Text("Leading", "Führung"),
        Text("Influence", "Die Einwirkung"),
        Text(
            "A voice of leadership that works best when others have chosen it.",
            "Eine führende Stimme, die am besten wirkt, wenn andere sie gewählt haben.",
        ),
    ),
    Gate(
        32,
        Text("Continuity", "Kontinuität"),
        Text("Duration", "Die Dauer"),
        Text(
            "An instinct for what will last and what is worth preserving through change.",
            "Ein Gespür dafür, was Bestand hat und was es wert ist, durch alle Veränderungen "
            "bewahrt zu werden.",
        ),
    ),
    Gate(
        33,
        Text("Privacy", "Zurückgezogenheit"),
        Text("Retreat", "Der Rückzug"),
        Text(
            "The need to withdraw and reflect before sharing what has been lived and learned.",
            "Das Bedürfnis, sich zurückzuziehen und nachzusinnen, bevor man Erlebtes und "
            "Gelerntes teilt.",
        ),
    ),
    Gate(
        34,
        Text("Power", "Kraft"),
        Text("The Power of the Great", "Des Großen Macht"),
        Text(
            "Pure, independent life force, at its best when busy with what truly fits.",
            "Reine, unabhängige Lebenskraft, die am stärksten ist, wenn sie mit dem "
            "Richtigen beschäftigt ist.",
        ),
    ),
    Gate(
        35,
        Text("Change", "Wandel"),
        Text("Progress", "Der Fortschritt"),
        Text(
            "A hunger for new experience, and the wisdom that comes from having tried a lot.",
            "Hunger nach neuer Erfahrung – und die Weisheit, die entsteht, wenn man vieles "
            "ausprobiert hat.",
        ),
    ),
    Gate(
        36,
        Text("Crisis", "Krise"),
        Text("Darkening of the Light", "Die Verfinsterung des Lichts"),
        Text(
            "Emotional courage to go through the unknown and grow from what it brings.",
            "Emotionaler Mut, durch das Unbekannte zu gehen und an dem zu wachsen, was es mit "
            "sich bringt.",
        ),
    ),
    Gate(
        37,
        Text("Friendship", "Freundschaft"),
        Text("The Family", "Die Sippe"),
        Text(
            "Warmth and loyalty that hold a family or community together through fair bargains.",
            "Wärme und Loyalität, die eine Familie oder Gemeinschaft durch faire Abmachungen "
            "zusammenhalten.",
        ),
    ),
    Gate(
        38,
        Text("The Fighter", "Der Kämpfer"),
        Text("Opposition", "Der Gegensatz"),
        Text(
            "The stubborn energy to fight for what gives your life meaning.",
            "Die beharrliche Energie, für das zu kämpfen, was dem eigenen Leben Sinn gibt.",
        ),
    ),
    Gate(
        39,
        Text("Provocation", "Provokation"),
        Text("Obstruction", "Das Hemmnis"),
        Text(
            "The energy to provoke others, and yourself, into finding out what truly moves them.",
            "Die Energie, andere und sich selbst herauszufordern, um zu entdecken, was wirklich "
            "bewegt.",
        ),
    ),
    Gate(
        40,
        Text("Aloneness", "Alleinsein"),
        Text("Deliverance", "Die Befreiung"),
        Text(
            "The will to work hard for others, balanced by a real need for rest and time alone.",
            "Der Wille, hart für andere zu arbeiten, im Gleichgewicht mit einem echten "
            "Bedürfnis nach Ruhe und Alleinsein.",
        ),
    ),
    Gate(
        41,
        Text("Contraction", "Verdichtung"),
        Text("Decrease", "Die Minderung"),
        Text(
            "The pressure of fantasy and longing that starts every new cycle of experience.",
            "Der Druck von Fantasie und Sehnsucht, der jeden neuen Erfahrungszyklus in Gang setzt.",
        ),
    ),
    Gate(
        42,
        Text("Growth", "Wachstum"),
        Text("Increase", "Die Mehrung"),
        Text(
            "The energy to bring a cycle to its natural completion and to grow from it.",
            "Die Energie, einen Zyklus zu seinem natürlichen Abschluss zu bringen und daran zu "
            "wachsen.",
        ),
    ),
    Gate(
        43,
        Text("Insight", "Einsicht"),
        Text("Breakthrough", "Der Durchbruch"),
        Text(
            "Sudden, individual insight that can change how others think, if explained well.",
            "Plötzliche, eigenständige Einsicht, die das Denken anderer verändern kann, wenn "
            "sie gut erklärt wird.",
        ),
    ),
    Gate(
        44,
        Text("Alertness", "Wachsamkeit"),
        Text("Coming to Meet", "Das Entgegenkommen"),
        Text(
            "An instinctive memory for patterns from the past and for people's potential.",
            "Ein instinktives Gedächtnis für Muster aus der Vergangenheit und für das "
            "Potenzial von Menschen.",
        ),
    ),
    Gate(
        45,
        Text("The Gatherer", "Der Sammler"),
        Text("Gathering Together", "Die Sammlung"),
        Text(
            "The voice of the one who gathers people and resources and shares them out.",
            "Die Stimme dessen, der Menschen und Ressourcen zusammenbringt und sie verteilt.",
        ),
    ),
    Gate(
        46,
        Text("Determination of the Self", "Entschlossenheit des Selbst"),
        Text("Pushing Upward", "Das Empordringen"),
        Text(
            "Love of the body and a knack for being in the right place at the right time.",
            "Liebe zum eigenen Körper und das Geschick, zur rechten Zeit am rechten Ort zu sein.",
        ),
    ),
    Gate(
        47,
        Text("Realization", "Erkenntnis"),
        Text("Oppression", "Die Bedrängnis"),
        Text(
            "A mind that turns confusing experiences into sudden understanding over time.",
            "Ein Verstand, der verwirrende Erfahrungen mit der Zeit in plötzliches Verstehen "
            "verwandelt.",
        ),
    ),
    Gate(
        48,
        Text("Depth", "Tiefe"),
        Text("The Well", "Der Brunnen"),
        Text(
            "Depth of talent and knowledge, and the worry of never knowing quite enough.",
            "Tiefe von Talent und Wissen – und die Sorge, nie ganz genug zu wissen.",
        ),
    ),
    Gate(
        49,
        Text("Principles", "Prinzipien"),
        Text("Revolution", "Die Umwälzung"),
        Text(
            "A feel for principles, and the readiness to reject or renew what no longer serves.",
            "Ein feines Gespür für Prinzipien und die Bereitschaft, abzulehnen oder zu "
            "erneuern, was nicht mehr dient.",
        ),
    ),
    Gate(
        50,
        Text("Values", "Werte"),
        Text("The Cauldron", "Der Tiegel"),
        Text(
            "A sense of responsibility for the values and rules that protect a community.",
            "Verantwortungsgefühl für die Werte und Regeln, die eine Gemeinschaft schützen.",
        ),
    ),
    Gate(
        51,
        Text("Shock", "Schock"),
        Text("The Arousing", "Das Erregende"),
        Text(
            "The courage to meet shock and surprise, and to wake others up with it.",
            "Der Mut, Schock und Überraschung zu begegnen und andere damit wachzurütteln.",
        ),
    ),
    Gate(
        52,
        Text("Stillness", "Stille"),
        Text("Keeping Still, Mountain", "Das Stillehalten, der Berg"),
        Text(
            "The ability to stay still and focused, gathering energy before it is used.",
            "Die Fähigkeit, still und konzentriert zu bleiben und Energie zu sammeln, bevor sie "
            "eingesetzt wird.",
        ),
    ),
    Gate(
        53,
        Text("Beginnings", "Anfänge"),
        Text("Development", "Die Entwicklung"),
        Text(
            "The pressure to start new things and set a process of development in motion.",
            "Der Druck, Neues zu beginnen und einen Entwicklungsprozess in Gang zu setzen.",
        ),
    ),
    Gate(
        54,
        Text("Ambition", "Ehrgeiz"),
        Text("The Marrying Maiden", "Das heiratende Mädchen"),
        Text(
            "The drive to rise, materially and spiritually, and to be recognized on the way.",
            "Der Antrieb, materiell wie spirituell aufzusteigen und auf dem Weg dorthin "
            "anerkannt zu werden.",
        ),
    ),
    Gate(
        55,
        Text("Spirit", "Geist"),
        Text("Abundance", "Die Fülle"),
        Text(
            "Emotional abundance that moves between highs and lows and finds spirit in both.",
            "Emotionale Fülle, die zwischen Höhen und Tiefen schwingt und in beiden Sinn findet.",
        ),
    ),
    Gate(
        56,
        Text("Stimulation", "Anregung"),
        Text("The Wanderer", "Der Wanderer"),
        Text(
            "The storyteller who turns ideas and experiences into stimulating stories.",
            "Der Erzähler, der Ideen und Erlebnisse in anregende Geschichten verwandelt.",
        ),
    ),
    Gate(
        57,
        Text("Intuitive Clarity", "Intuitive Klarheit"),
        Text("The Gentle", "Das Sanfte"),
        Text(
            "A fine intuition that hears, in the moment, what is safe and what is not.",
            "Eine feine Intuition, die im Augenblick wahrnimmt, was sicher ist und was nicht.",
        ),
    ),
    Gate(
        58,
        Text("Vitality", "Vitalität"),
        Text("The Joyous", "Das Heitere"),
        Text(
            "Joyful vitality that wants to improve life and make it more alive.",
            "Freudige Vitalität, die das Leben verbessern und lebendiger machen will.",
        ),
    ),
    Gate(
        59,
        Text("Sexuality", "Sexualität"),
        Text("Dispersion", "Die Auflösung"),
        Text(
            "The power to break down barriers and create intimacy, in work as in love.",
            "Die Kraft, Barrieren aufzulösen und Nähe entstehen zu lassen – in der Arbeit wie "
            "in der Liebe.",
        ),
    ),
    Gate(
        60,
        Text("Acceptance", "Akzeptanz"),
        Text("Limitation", "Die Beschränkung"),
        Text(
            "Accepting limitation as the ground from which something truly new can grow.",
            "Grenzen anzunehmen als Boden, aus dem etwas wirklich Neues wachsen kann.",
        ),
    ),
    Gate(
        61,
        Text("Mystery", "Mysterium"),
        Text("Inner Truth", "Innere Wahrheit"),
        Text(
            "The pressure to know the unknowable and to find an inner truth.",
            "Der Druck, das Unergründliche zu verstehen und eine innere Wahrheit zu finden.",
        ),
    ),
    Gate(
        62,
        Text("Details", "Details"),
        Text("Preponderance of the Small", "Des Kleinen Übergewicht"),
        Text(
            "The ability to name facts and details precisely, so that others can follow.",
            "Die Fähigkeit, Fakten und Details genau zu benennen, sodass andere folgen können.",
        ),
    ),
    Gate(
        63,
        Text("Doubt", "Zweifel"),
        Text("After Completion", "Nach der Vollendung"),
        Text(
            "Healthy doubt that questions patterns until they can be trusted.",
            "Gesunder Zweifel, der Muster hinterfragt, bis man ihnen vertrauen kann.",
        ),
    ),
    Gate(
        64,
        Text("Confusion", "Verwirrung"),
        Text("Before Completion", "Vor der Vollendung"),
        Text(
            "A mind full of images from the past that fall into place when it stops forcing.",
            "Ein Kopf voller Bilder aus der Vergangenheit, die sich ordnen, sobald man aufhört, "
            "Sinn zu erzwingen.",
        ),
    ),
)

GATES: Final[Mapping[int, Gate]] = MappingProxyType({gate.number: gate for gate in _GATES})
"""The 64 gates by number."""


def gate(number: int) -> Gate:
    """The gate `number` (1-64); `KeyError` for anything else."""
    return GATES[number]
