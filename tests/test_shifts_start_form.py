"""The start form remembers the worker's last team and sectors (read from their last shift on the
server; no cookie holds them) and lists the sectors under their team (issue 16 item 8)."""
import re

from outreach.extensions import db
from outreach.models import Shift, User

WORKER = "worker@aurore.demo"  # two teams: Maraude Nord and Maraude Est


def _form(client):
    html = client.get("/maraude").get_data(as_text=True)
    return html.split('id="shift-form"')[1].split("</form>")[0]


def _checked(form, name):
    return re.findall(rf'name="{name}" value="([^"]+)" checked', form)


def _groups(form):
    """{team name: [sector codes]} of the sectors' fieldsets."""
    return {legend: re.findall(r'name="sectors" value="([^"]+)"', body) for legend, body in
            re.findall(r'<fieldset class="chips '
                       r'sector-group"><legend>([^<]+)</legend>(.*?)</fieldset>', form,
                       re.DOTALL)}


def _teams(app):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=WORKER)).scalar_one()
        return [(t.code, t.name, [s.code for s in t.sectors if s.is_active]) for t in user.teams]


def test_the_start_form_remembers_the_last_team_and_sectors_grouped_by_team(app, client, login):
    teams = _teams(app)
    (first, first_name, first_sectors), (second, second_name, second_sectors) = teams[:2]
    login(WORKER)
    form = _form(client)
    # never started a shift: the first team, nothing ticked
    assert _checked(form, "team") == [first]
    assert _checked(form, "sectors") == []
    groups = _groups(form)
    assert list(groups) == [first_name, second_name]
    assert groups[first_name] == first_sectors
    assert set(groups[second_name]) <= set(second_sectors)
    chosen = groups[second_name][-1]
    response = client.post("/maraude",
                           data={"team": second, "sectors": [chosen], "staff_count": "2"})
    assert response.status_code == 302
    with app.app_context():
        shift_id = db.session.execute(db.select(Shift.id)).scalar_one()
    assert client.post(f"/maraude/{shift_id}/close", data={}).status_code == 302
    form = _form(client)
    assert _checked(form, "team") == [second]
    assert _checked(form, "sectors") == [chosen]
    # remembered by the server, not a cookie
    assert [c.key for c in client._cookies.values()] == ["session"]


def test_a_team_taken_away_is_not_proposed_again(app, client, login):
    (first, _n, _s), (second, _n2, _s2) = _teams(app)[:2]
    login(WORKER)
    client.post("/maraude", data={"team": second, "staff_count": "1"})
    with app.app_context():
        shift_id = db.session.execute(db.select(Shift.id)).scalar_one()
        client.post(f"/maraude/{shift_id}/close", data={})
        user = db.session.execute(db.select(User).filter_by(email=WORKER)).scalar_one()
        user.teams = [t for t in user.teams if t.code != second]
        db.session.commit()
    form = _form(client)
    assert _checked(form, "team") == [first]
    assert second not in form
