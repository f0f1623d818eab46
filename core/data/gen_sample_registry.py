#!/usr/bin/env python3
"""Writes the synthetic sample registry core/data/sample-registry.jsonl (stdlib only).

The output is deterministic: the same script always writes the same bytes, so the committed
file can be checked with `python3 core/data/gen_sample_registry.py --check`. Every person,
mobile number and dose is invented; the numbers are made by a fixed arithmetic sequence, not
taken from anywhere.
"""

import datetime
import json
import pathlib
import random
import sys
import unicodedata

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "sample-registry.jsonl"
PEOPLE = 300

# (script, given names, family names)
NAMES = [
    ("Latin",
     ["Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rohan",
      "Meera", "Aditya", "Ishita", "Karan", "Pooja", "Siddharth", "Neha", "Amit", "Divya"],
     ["Sharma", "Patel", "Verma", "Iyer", "Singh", "Reddy", "Nair", "Menon", "Gupta",
      "Joshi", "Rao", "Das", "Mehta", "Kulkarni", "Bose", "D'Souza", "Fernandes"]),
    ("Devanagari",
     ["राहुल", "प्रिया", "अमित", "सुनीता", "विक्रम", "अनीता", "संजय", "पूजा", "ज़ोया", "क़ासिम"],
     ["शर्मा", "वर्मा", "कुमार", "देवी", "सिंह", "गुप्ता", "यादव", "मिश्रा"]),
    ("Bengali",
     ["অমিত", "সুমিতা", "রাজেশ", "মৌমিতা", "অরিন্দম", "তনুশ্রী"],
     ["দাস", "বসু", "চক্রবর্তী", "সেন", "ঘোষ", "মুখার্জি"]),
    ("Tamil",
     ["முருகன்", "லட்சுமி", "கார்த்திக்", "பிரியா", "அருண்", "மீனா"],
     ["செல்வம்", "ராமன்", "சுப்பிரமணியன்", "கண்ணன்", "குமார்", "சுந்தரம்"]),
    ("Telugu",
     ["వెంకట", "లక్ష్మి", "శ్రీనివాస", "సాయి", "పద్మ", "రవి"],
     ["రమణ", "దేవి", "రావు", "కృష్ణ", "రెడ్డి", "తేజ"]),
    ("Gujarati",
     ["હાર્દિક", "નિશા", "કિરણ", "મીના", "જય"],
     ["પટેલ", "શાહ", "દેસાઈ", "મહેતા", "ભટ્ટ"]),
    ("Kannada",
     ["ರಮೇಶ್", "ಸುಮಾ", "ಮಂಜುನಾಥ", "ಕಾವ್ಯ", "ಅನಿತಾ"],
     ["ಗೌಡ", "ಹೆಗ್ಡೆ", "ಶೆಟ್ಟಿ", "ರಾವ್"]),
    ("Malayalam",
     ["അനിൽ", "ശ്രീദേവി", "ജോസഫ്", "ലക്ഷ്മി", "രാജേഷ്"],
     ["നായർ", "മേനോൻ", "വർഗീസ്", "പിള്ള"]),
    ("Gurmukhi",
     ["ਗੁਰਪ੍ਰੀਤ", "ਹਰਪ੍ਰੀਤ", "ਮਨਜੀਤ", "ਜਸਵਿੰਦਰ", "ਅਮਨਦੀਪ"],
     ["ਸਿੰਘ", "ਕੌਰ", "ਸਿੱਧੂ"]),
    ("Odia",
     ["ସୁଭାଷ", "ପ୍ରିୟଙ୍କା", "ବିଜୟ", "ସୁଜାତା", "ଅଜୟ"],
     ["ମହାନ୍ତି", "ଦାସ", "ସାହୁ"]),
]

TWO_DOSE = ["Covishield", "Covaxin", "Sputnik V", "Corbevax", "Covovax", "Spikevax (Moderna)"]
ONE_DOSE = ["Janssen", "Sputnik Light"]
PRECAUTION = ["Covishield", "Covaxin", "Corbevax", "Covovax"]
FIRST_DAY = datetime.date(2021, 1, 16)


def key(name):
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def mobiles(rng):
    seen = set()
    while True:
        number = str(rng.choice("6789")) + "".join(rng.choice("0123456789") for _ in range(9))
        if number not in seen:
            seen.add(number)
            yield number


def dates(rng, count):
    day = FIRST_DAY + datetime.timedelta(days=rng.randrange(0, 300))
    out = []
    for _ in range(count):
        out.append(day.isoformat())
        day += datetime.timedelta(days=rng.randrange(28, 120))
    return out


def doses(rng, plan):
    """plan: (kind, products...) -> dose list."""
    series = []
    kind, products = plan
    when = dates(rng, len(products))
    for i, (product, date) in enumerate(zip(products, when)):
        series.append({
            "product": product,
            "dose": i + 1,
            "date": date,
            "kind": kind[i],
        })
    return series


def plan_for(rng, n):
    """Cycles through every status and every shape of record."""
    shape = n % 12
    two = TWO_DOSE[rng.randrange(len(TWO_DOSE))]
    one = ONE_DOSE[rng.randrange(len(ONE_DOSE))]
    if shape == 0:
        return ("", [])                                     # not vaccinated
    if shape == 1:
        return ("p", [two])                                 # partially
    if shape == 2:
        return ("pp", [two, two])                           # fully
    if shape == 3:
        return ("p", [one])                                 # fully, one-dose product
    if shape == 4:
        return ("ppp", ["ZyCoV-D"] * 3)                     # fully, three-dose product
    if shape == 5:
        return ("pp", ["ZyCoV-D"] * 2)                      # partially, three-dose product
    if shape == 6:
        return ("ppc", [two, two, PRECAUTION[rng.randrange(len(PRECAUTION))]])  # booster
    if shape == 7:
        other = [p for p in TWO_DOSE if p != two][rng.randrange(len(TWO_DOSE) - 1)]
        return ("pp", [two, other])                         # mixed series, fully
    if shape == 8:
        return ("pc", [one, PRECAUTION[rng.randrange(len(PRECAUTION))]])
    if shape == 9:
        return ("", [])
    if shape == 10:
        return ("p", [two])
    if n % 120 == 11:
        return ("pp", ["Sinopharm BBIBP", "Sinopharm BBIBP"])  # not in the default table
    return ("pp", [two, two])


def main():
    rng = random.Random(20210116)
    numbers = mobiles(rng)
    lines = []
    n = 0
    while n < PEOPLE:
        household = min(rng.choices([1, 2, 3, 4], weights=[55, 22, 13, 10])[0], PEOPLE - n)
        mobile = next(numbers)
        script, given, family = NAMES[rng.randrange(len(NAMES))]
        surname = family[rng.randrange(len(family))]
        taken = set()
        for _ in range(household):
            # A household shares a script and a family name; members differ by given name.
            while True:
                name = given[rng.randrange(len(given))] + " " + surname
                if key(name) not in taken:
                    break
            taken.add(key(name))
            n += 1
            record = {
                "id": "B%06d" % n,
                "mobile": mobile,
                "name": name,
                "doses": doses(rng, plan_for(rng, n)),
            }
            for dose in record["doses"]:
                dose["kind"] = {"p": "primary", "c": "precaution"}[dose["kind"]]
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    text = "\n".join(lines) + "\n"
    if sys.argv[1:] == ["--check"]:
        if OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT} differs from a fresh run of {pathlib.Path(__file__).name}")
        return
    OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
