"""A participant sees challenges like theirs (text only, no names or tickets) and can say "me too"."""

from __future__ import annotations

from clinic import emergent
from clinic import participants as P
from clinic.setup import Clinic

FIRST = "How do we approach local radio and TV stations to talk about Wikipedia in our language?"
SECOND = "How can we convince radio stations and TV channels to promote our local Wikipedia?"


def test_me_too_shows_similar_texts_without_names_and_counts(app, database):
    clinic = Clinic.open(database.url)
    first = P.submit_challenge(clinic, "wmcon2018", FIRST, ["en"], "Secret Name")
    app.text_area(key="challenge_text").input(SECOND)
    app.multiselect(key="languages").set_value(["en"])
    app.run()
    next(b for b in app.button if b.label == "Find my table").click()
    app.run()
    assert not app.exception
    shown = [element.value for element in app.text]
    assert FIRST in shown
    everything = " ".join(shown + [m.value for m in app.markdown] + [c.value for c in app.caption])
    assert "Secret Name" not in everything and first.ticket not in everything
    me_too = next(b for b in app.button if b.label == "Me too")
    me_too.click()
    app.run()
    assert any("You said: me too" in c.value for c in app.caption)
    event = clinic.default_event()
    with clinic.engine.connect() as connection:
        from store import challenges as challenge_store

        first_id = challenge_store.challenge_by_ticket(connection, first.ticket)["id"]
    assert emergent.me_too_counts(clinic, event["code"]).get(first_id) == 1
