"""A supervisor validating while workers write (real gunicorn, SQLite and PostgreSQL).

Workers keep posting contacts to their shift; the shift is closed mid-load; the worker keeps editing
contacts of the closed shift (allowed until validation) while two supervisors open its summary and
validate it at the same moment. Every contact acknowledged with 201 is stored; one that happened
before the close but reached the server after it is kept and flagged late; every acknowledged edit
is kept and happened before the validation; every write after the validation is refused with 403;
the shift is validated exactly once, with the summary the supervisor read (a page made stale by an
edit is refused and read again), and the summary does not change afterwards.
"""
import http.client
import re
import threading
import time

from sqlalchemy import create_engine, text

from bench import harness

WRITERS = 6
BEFORE_CLOSE = 12  # contacts acknowledged before the shift is closed; the worker then edits them
EDIT_ROUNDS = 3  # each of them edited this many times while the supervisors read and validate


class _Writes:
    """The writers' answers, and two events on them: enough contacts acknowledged before the
    close, and a write sent after the validation answered (so the test waits for what it checks,
    however slow the machine)."""

    def __init__(self):
        self.rows, self.lock = [], threading.Lock()
        self.enough, self.validated, self.after_validation = (threading.Event(), threading.Event(),
                                                              threading.Event())

    def add(self, row, sent_after_validation):
        with self.lock:
            self.rows.append(row)
            if sum(1 for r in self.rows if r[0] == 201) >= BEFORE_CLOSE:
                self.enough.set()
        if sent_after_validation:
            self.after_validation.set()


def _writer(port, token, shift, stop, writes):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=harness.PATIENCE)
    while not stop.is_set():
        body = harness.encounter(shift)
        late = writes.validated.is_set()
        sent = time.monotonic()
        try:
            status, answer = harness.request(port, "POST", "/api/v1/encounters", body, token,
                                             conn=conn)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=harness.PATIENCE)
            status, answer = 0, repr(exc)
        writes.add((status, body["id"], answer, sent), late)
    conn.close()


def _editor(browser, ids, started, validated, out):
    """Edit ``ids`` one after the other, EDIT_ROUNDS times (a new people count each round) or
    until the shift is validated, then once more after the validation: every one of those is
    refused."""
    _, _, token = browser.csrf("/maraude")

    def edit_all(count):
        for contact_id in ids:
            sent = time.monotonic()
            status, body, _ = browser.request("POST", f"/maraude/contacts/{contact_id}", {
                "csrf_token": token or "", "kind": "anonymous", "people_count": str(count)})
            out.append((status, contact_id, count, sent, body[-300:] if status != 302 else ""))
            started.set()
    for count in range(2, 2 + EDIT_ROUNDS):
        if validated.is_set():
            break
        edit_all(count)
    validated.wait()
    edit_all(2 + EDIT_ROUNDS)


def _number(html, element_id):
    found = re.search(rf'id="{element_id}">(\d+)<', html)
    return int(found.group(1)) if found else 0


def _supervise(browser, page, barrier, out):
    """Read the summary, validate it (with the other supervisor at the same moment), and read it
    again whenever the validation answers that it changed meanwhile, until the shift is
    validated. Each such refusal needs an edit in between, and the edits are counted: the loop
    ends."""
    barrier.wait()
    for _ in range(EDIT_ROUNDS * BEFORE_CLOSE + 3):
        status, html, token = browser.csrf(page)
        if 'id="validate"' not in html:
            out.append({"answer": "already validated", "status": status, "at": time.monotonic()})
            return
        digest = re.search(r'name="summary" value="([^"]*)"', html)
        shown = {"contacts": _number(html, "kind-anonymous"), "people": _number(html, "anonymous")}
        answer, body, location = browser.request("POST", page + "/valider", {
            "csrf_token": token or "", "summary": digest.group(1) if digest else ""})
        out.append(
            {**shown, "answer": answer, "body": body, "location": location, "at": time.monotonic()})
        if answer != 422:
            return


def _stored(url, shift):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, closed_at, validated_at FROM shifts WHERE id = :s"),
                {"s": shift}).one()
            contacts = {r[0]: r[1:] for r in conn.execute(text(
                "SELECT id, created_at, people_count, is_late FROM contacts WHERE shift_id = :s"),
                                                          {"s": shift})}
            validations = conn.execute(text(
                "SELECT count(*) FROM audit_events WHERE action = 'shift.validate' AND target_id = "
                ":s"),
                {"s": shift}).scalar()
            edits = conn.execute(text(
                "SELECT occurred_at FROM audit_events WHERE action = 'contact.edit' AND target_id "
                "IN (SELECT id FROM contacts WHERE shift_id = :s)"), {"s": shift}).scalars().all()
        return row, contacts, validations, edits
    finally:
        engine.dispose()


def _as_text(value):
    return str(value)[:26]  # SQLite returns strings, PostgreSQL datetimes: compare ISO text


def test_validation_racing_with_writes_loses_nothing_and_locks_the_shift(gunicorn_server):
    gun, token, shift, url = gunicorn_server
    supervisors = [harness.Browser(gun.port), harness.Browser(gun.port)]
    editor = harness.Browser(gun.port)
    assert [b.login(who) for b, who in ((supervisors[0], harness.SUPERVISOR),
                                        (supervisors[1], harness.SUPERVISOR),
                                        (editor, harness.WORKER))] == [302, 302, 302]
    writes, stop = _Writes(), threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(gun.port, token, shift, stop, writes), daemon=True)
        for _ in range(WRITERS)]
    for t in threads:
        t.start()
    assert writes.enough.wait(harness.PATIENCE), writes.rows[-3:]
    # The phone sends its close and replays it at once (a timeout): every copy answers 200, closed.
    closes = harness.load(gun.port, [("POST", f"/api/v1/shifts/{shift}/close", {})] * 4, 4,
                          token=token)
    assert [c[0] for c in closes] == [200] * 4, [c[:3] for c in closes]
    assert all('"status":"closed"' in c[2].replace(" ", "") for c in closes)
    with writes.lock:
        before_close = sorted(w[1] for w in writes.rows if w[0] == 201)[:BEFORE_CLOSE]
    edits, editing_started = [], threading.Event()
    editing = threading.Thread(
        target=_editor, args=(editor, before_close, editing_started, writes.validated, edits),
        daemon=True)
    editing.start()
    editing_started.wait(harness.PATIENCE)  # the supervisors read while the worker edits

    page, barrier, validated = f"/revue/maraude/{shift}", threading.Barrier(2), []
    sups = [threading.Thread(target=_supervise, args=(b, page, barrier, validated))
            for b in supervisors]
    for t in sups:
        t.start()
    for t in sups:
        t.join()
    writes.validated.set()
    editing.join()  # its last pass comes after the validation
    writes.after_validation.wait(harness.PATIENCE)  # and so does a writer's attempt
    stop.set()
    for t in threads:
        t.join()
    writes = writes.rows
    after_validation = time.monotonic()
    status, answer = harness.request(gun.port, "POST", "/api/v1/encounters",
                                     harness.encounter(shift), token)
    assert status == 403 and "close" in answer

    # Exactly one validation went through; every other attempt was told why (already validated, or
    # the summary changed since it was read: read it again), or found the shift validated on reading
    # it.
    answers = [v["answer"] for v in validated]
    assert answers.count(302) == 1, [(v["answer"], v.get("body", "")[-300:]) for v in validated]
    assert set(answers) <= {302, 422, "already validated"}, answers
    reasons = ("Seule une maraude clôturée peut être validée",
               "La synthèse a changé depuis son affichage")
    assert all(any(r in v["body"] for r in reasons) for v in validated if v["answer"] == 422)
    row, contacts, validations, edit_times = _stored(url, shift)
    assert row[0] == "validated" and validations == 1

    # Writers: acknowledged (201) or refused because the shift is closed (403); never an error.
    assert {w[0] for w in writes} <= {201, 403}, [w[:3] for w in writes
                                                  if w[0] not in (201, 403)][:3]
    acknowledged = {w[1] for w in writes if w[0] == 201}
    refused = [w for w in writes if w[0] == 403]
    assert len(acknowledged) >= BEFORE_CLOSE and refused, (len(acknowledged), len(refused))
    assert all("close" in w[2] for w in refused)
    validated_at = next(v["at"] for v in validated if v["answer"] == 302)
    assert any(w[3] > validated_at for w in refused), "no write was attempted after the validation"

    # No lost write: stored == acknowledged. A contact that happened before the close but reached
    # the server after it (a phone's queue) is kept and flagged late for the supervisor; none
    # unflagged.
    assert set(contacts) == acknowledged
    late = [c for c, (at, _, is_late) in contacts.items() if _as_text(at) > _as_text(row[1])]
    assert all(contacts[c][2]
               for c in late), f"{len(late)} contact(s) created after the close, not flagged"
    assert not any(is_late for c, (at, _, is_late) in contacts.items() if c not in late)
    assert _as_text(row[1]) <= _as_text(row[2])

    # Edits of the closed shift: accepted (302) until the validation, refused (403) after; none
    # lost.
    assert {e[0] for e in edits} <= {302, 403}, [e for e in edits if e[0] not in (302, 403)][:3]
    kept = [e for e in edits if e[0] == 302]
    assert kept and any(e[0] == 403 and e[3] > validated_at for e in edits), len(edits)
    # one editor, one contact after the other: the last accepted wins
    last = {e[1]: e[2] for e in kept}
    assert {c: contacts[c][1] for c in last} == last
    assert len(edit_times) >= len(kept) and all(_as_text(t) <= _as_text(row[2]) for t in edit_times)

    # The summary the supervisor read and validated is the final one: same contacts, same people
    # counts.
    winner = next(v for v in validated if v["answer"] == 302)
    assert winner["location"].endswith(page)
    assert (winner["contacts"], winner["people"]) == (len(contacts),
                                                      sum(p for _, p, _ in contacts.values()))
    _, html, _ = supervisors[0].request("GET", page)
    assert _number(html, "kind-anonymous") == len(acknowledged) == len(contacts)
    assert _number(html, "anonymous") == sum(people for _, people, _ in contacts.values())
    assert after_validation > validated_at
