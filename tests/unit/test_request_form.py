"""A request form's field kinds (routing.request_form): ticked options, names, a date, a field asked only
when an earlier answer ticks an option; a preset that gets them wrong is refused in one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dialogs.request import answer, begin
from routing.loader import load_policy, resolve_policy
from routing.request_form import FieldKind
from routing.yamlfields import InputError

PRESETS = Path(__file__).resolve().parents[2] / "routing" / "presets"


def with_form(tmp_path: Path, fields: object, **kind: object) -> Path:
    """St Leonard's preset with its social media form's fields (and any other key of the kind) replaced."""
    data = yaml.safe_load((PRESETS / "st-leonards.yaml").read_text(encoding="utf-8"))
    data["requests"]["social_media_site"]["fields"] = fields
    data["requests"]["social_media_site"].update(kind)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_preset_form_reads_its_kinds_options_minimum_and_conditions() -> None:
    form = {f.id: f for f in resolve_policy("st-leonards").requests["social_media_site"].fields}
    assert form["audience"].kind is FieldKind.CHOICES and [o.id for o in form["audience"].options][:2] == \
        ["pupils", "staff"]
    assert form["administrators"].kind is FieldKind.NAMES and form["administrators"].minimum == 2
    assert form["go_live"].kind is FieldKind.DATE
    consent = form["consent"]
    assert not consent.applies({"contributors": "staff,public"}) and consent.applies({"contributors": "staff,pupils"})
    assert form["contributors"].shown("pupils,other") == "Pupils of the school; Other"
    assert form["go_live"].shown("2027-01-11") == "11 January 2027"


@pytest.mark.parametrize(("fields", "kind", "problem"), [
    ({"a": {"label": "A", "kind": "checkbox"}}, {}, "fields.a.kind: unknown field kind 'checkbox'; allowed: url, text, "
                                                     "choices, names, date"),
    ({"a": {"label": "A", "kind": "choices"}}, {}, "fields.a.options: missing"),
    ({"a": {"label": "A", "kind": "choices", "options": {"x": "X"}}}, {},
     "fields.a.options: a choices field needs at least two options"),
    ({"a": {"label": "A", "options": {"x": "X", "y": "Y"}}}, {}, "fields.a.options: only a choices field has options"),
    ({"a": {"label": "A", "minimum": 2}}, {}, "fields.a.minimum: only a names field has a minimum"),
    ({"a": {"label": "A", "kind": "names", "minimum": 0}}, {}, "fields.a.minimum: expected a whole number of at least 1"),
    ({"a": {"label": "A", "asked_if": {"b": "x"}}, "b": {"label": "B", "kind": "choices", "options": {"x": "X", "y": "Y"}}},
     {}, "fields.a.asked_if: 'b' is not an earlier choices field of this form"),
    ({"b": {"label": "B", "kind": "choices", "options": {"x": "X", "y": "Y"}}, "a": {"label": "A", "asked_if": {"b": "z"}}},
     {}, "fields.a.asked_if.b: b has no option 'z'"),
    ({"a": {"label": "A"}}, {"reference_prefix": "SG"}, "reference_prefix: 'SG' is not a reference prefix"),
    ({"a": {"label": "A"}}, {"reference_prefix": "sm"}, "reference_prefix: 'sm' is not a reference prefix"),
    ({}, {}, "fields: a form needs at least one field"),
])
def test_a_wrong_form_is_refused_in_one_line_naming_the_field(
    tmp_path: Path, fields: object, kind: dict[str, object], problem: str
) -> None:
    with pytest.raises(InputError) as refused:
        load_policy(with_form(tmp_path, fields, **kind))
    assert f"requests.social_media_site.{problem}" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_endorse_step_names_its_part_and_only_it_does(tmp_path: Path) -> None:
    path = with_form(tmp_path, {"a": {"label": "A"}})
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["requests"]["social_media_site"]["steps"][0]["approves"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"steps\[0\]\.approves: missing"):
        load_policy(path)
    data["requests"]["social_media_site"]["steps"][1]["approves"] = "it all"
    data["requests"]["social_media_site"]["steps"][0]["approves"] = "part"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"steps\[1\]\.approves: only an endorse step names the part it approves"):
        load_policy(path)


def test_two_kinds_with_one_prefix_are_a_check_finding(tmp_path: Path) -> None:
    from routing.check import check_policy

    policy = load_policy(with_form(tmp_path, {"a": {"label": "A"}}, reference_prefix="AR"))
    assert any("AR is blocked_content's prefix too" in str(f) for f in check_policy(policy))


def test_ticks_toggle_a_list_ticks_exactly_and_the_condition_follows_them() -> None:
    kind = resolve_policy("principal-slt").requests["social_media_site"]
    turn = begin(kind)
    for typed in ("Art", "Mr Hale", "Gallery", "Show work", "Paintings"):
        turn = answer(kind, turn.state, typed)
    turn = answer(kind, turn.state, "pupils")
    assert turn.replies[0].choices[0].label == "[x] Pupils of the school"
    turn = answer(kind, turn.state, "1")  # by number: unticked again
    assert turn.replies[0].choices[0].label == "[ ] Pupils of the school" and turn.state["index"] == 5
    turn = answer(kind, turn.state, "9")  # Back, by the number the console shows
    assert turn.state["index"] == 4
    for typed in ("Paintings", "staff, families"):  # a list ticks exactly those and moves on
        turn = answer(kind, turn.state, typed)
    assert turn.state["answers"]["audience"] == "staff,families" and "contributors" in turn.replies[0].text.lower()
    turn = answer(kind, turn.state, "1,2")
    assert turn.replies[0].field == "contributor_ages"
    turn = answer(kind, turn.state, "8 to 9")
    turn = answer(kind, turn.state, "back")
    turn = answer(kind, turn.state, "back")  # at the contributors again: untick pupils, so no ages and no consent
    assert answer(kind, turn.state, ",").replies[0].text == "Please tick at least one option, then press Done."
    turn = answer(kind, turn.state, "2,7,")
    assert turn.replies[0].field == "contributor_other"
    for typed in ("Governors", "Ann Lee; Bo Chan", "Mr Hale, teacher", "Us", "2027-02-01", "Newsletter", "Locked"):
        turn = answer(kind, turn.state, typed)
    assert "consent" not in turn.replies[0].text
    sent = answer(kind, turn.state, "Send").sent
    assert sent is not None and "contributor_ages" not in sent and sent["administrators"] == "Ann Lee\nBo Chan"
    assert sent["go_live"] == "2027-02-01" and sent["contributors"] == "staff,other"


@pytest.mark.parametrize(("typed", "problem"), [
    ("31/02/2027", "There is no such date as 31/02/2027. Please type it as dd/mm/yyyy."),
    ("soon", "Please type the date as dd/mm/yyyy, for example 11/01/2027."),
])
def test_a_date_that_is_not_one_is_refused_in_one_line(typed: str, problem: str) -> None:
    kind = resolve_policy("principal-slt").requests["social_media_site"]
    state = {**begin(kind).state, "index": [f.id for f in kind.fields].index("go_live")}
    assert answer(kind, state, typed).replies[0].text == problem
