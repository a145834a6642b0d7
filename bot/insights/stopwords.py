"""Words that carry no meaning in an incident report, and English function words: left out
when the vocabulary compares texts (`bot.insights.vocabulary`). Data, kept by hand."""

from __future__ import annotations

_WORDS = """
a about above affected after again against all also am an and any approximately are as at be because
been before being below between both but by can could customer customers did do does doing during
each engineer engineers experienced experiencing few for from further had has have having he her
here hers him his how i identified if impact impacted in into is issue issues it its itself just may
me might more most my no nor not now of off on once only onto or other our ours out over own pdt per
pst pt same she should so some subset such than that the their theirs them then there these they
this those through to too under until up upon us utc very via was we were what when where which
while who whom why will with within without would you your yours
"""
STOPWORDS = frozenset(_WORDS.split())
