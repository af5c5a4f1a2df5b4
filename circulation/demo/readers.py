"""How the readers of each kind of site behave: what they read, who they are, when they come.

The numbers are guesses a county librarian would recognise, not measurements: schools read
literature, education, history and languages and close in the holidays; a village reads
agriculture and medicine; an office reads statistics, economics and politics; everyone borrows
more in the winter and summer school holidays.
"""

from dataclasses import dataclass, field
from datetime import date

from circulation.models import Patron

Category = Patron.Category


@dataclass(frozen=True)
class Profile:
    # Multiplier over the share of a CLC top class in the collection; unnamed classes get `rest`.
    likes: dict[str, float] = field(default_factory=dict)
    rest: float = 1.0
    # Mix of reader categories among the patrons registered at such a site.
    categories: dict[str, float] = field(default_factory=dict)
    weekend: float = 1.3
    school_calendar: bool = False

    def taste(self, top: str) -> float:
        return self.likes.get(top, self.rest)


PROFILES = {
    "general": Profile(
        categories={
            Category.CHILD: 0.2,
            Category.STUDENT: 0.25,
            Category.ADULT: 0.4,
            Category.SENIOR: 0.15,
        },
    ),
    "school": Profile(
        likes={"I": 3.0, "G": 3.0, "K": 2.5, "H": 3.0, "J": 1.2, "O": 1.2},
        rest=0.2,
        categories={Category.CHILD: 0.35, Category.STUDENT: 0.58, Category.ADULT: 0.07},
        weekend=0.1,
        school_calendar=True,
    ),
    "village": Profile(
        likes={"S": 6.0, "R": 3.0, "I": 0.8, "K": 0.8, "Q": 1.2},
        rest=0.3,
        categories={
            Category.CHILD: 0.15,
            Category.STUDENT: 0.1,
            Category.ADULT: 0.45,
            Category.SENIOR: 0.3,
        },
    ),
    "office": Profile(
        likes={"C": 6.0, "F": 5.0, "D": 5.0, "B": 1.2, "Z": 1.5},
        rest=0.3,
        categories={Category.ADULT: 0.9, Category.SENIOR: 0.1},
        weekend=0.05,
    ),
    "senior": Profile(
        likes={"R": 4.0, "K": 2.5, "I": 1.5, "B": 1.5, "J": 2.0, "S": 1.2},
        rest=0.4,
        categories={Category.SENIOR: 0.85, Category.ADULT: 0.15},
        weekend=0.9,
    ),
}

# Loans per month relative to an average month, for sites open in the holidays: the winter
# holiday (with the Spring Festival) and the summer holiday bring children and students.
MONTH_FACTOR = {
    1: 1.45,
    2: 1.55,
    3: 0.8,
    4: 0.82,
    5: 0.85,
    6: 0.8,
    7: 1.6,
    8: 1.6,
    9: 0.85,
    10: 0.95,
    11: 0.85,
    12: 0.88,
}


def in_school_holiday(day: date) -> bool:
    winter = (day.month == 1 and day.day >= 18) or (day.month == 2 and day.day <= 25)
    summer = (day.month == 7 and day.day >= 5) or day.month == 8
    return winter or summer


def day_factor(profile: Profile, day: date) -> float:
    """How busy a site with this profile is on a day, relative to an average day."""
    weekend = profile.weekend if day.weekday() >= 5 else 1.0
    if profile.school_calendar:
        # A school reading room closes with the school; a few boarders and teachers still come.
        return weekend * (0.15 if in_school_holiday(day) else 1.15)
    return weekend * MONTH_FACTOR[day.month]


# Birth years by category, as ages at the anchor date.
AGES = {
    Category.CHILD: (6, 12),
    Category.STUDENT: (13, 22),
    Category.ADULT: (23, 59),
    Category.SENIOR: (60, 86),
}
