"""The request procedures in the presets: who each step goes to, cited; `policy check` finds steps nobody can take."""

from __future__ import annotations

from dataclasses import replace

from routing.check import check_school
from routing.explain import explain
from routing.loader import resolve_policy
from routing.requests import approver
from routing.school import load_school
from bot.examples import EXAMPLE_SCHOOL


def test_three_presets_send_it_to_the_officer_then_the_headteacher_with_citations() -> None:
    for preset, section in (("st-leonards", "§9 Blocked content"), ("bpet", "§12.0 Blocked content"),
                            ("perryfields", "Blocked content")):
        kind = resolve_policy(preset).requests["blocked_content"]
        assert [s.role for s in kind.steps] == ["online_safety_officer", "headteacher"]
        assert [f.id for f in kind.fields] == ["url", "site_content", "reasons", "risks"]
        table = explain(resolve_policy(preset))
        assert f'{section}: "which will be approved by the headteacher"' in table
    assert "blocked_content" not in resolve_policy("principal-slt").requests
    assert resolve_policy("mersham").requests == {}
    assert "this policy sets out no request procedures" in explain(resolve_policy("mersham"))


def test_the_social_media_site_steps_follow_each_policy_with_citations() -> None:
    for preset, roles, quote in (
        ("st-leonards", ["communications_officer", "headteacher"],
         'app. C Social media site creation approval form: "I approve the aims and content of the proposed site'),
        ("bpet", ["head_of_marketing", "headteacher"], '§7.0 Staff social media use: "The Head of Marketing'),
        ("principal-slt", ["headteacher"], 'Social Networking as part of School Service: "must be approved by the '
                                           'principal or a member of the SLT first"'),
    ):
        kind = resolve_policy(preset).requests["social_media_site"]
        assert [s.role for s in kind.steps] == roles and kind.reference_prefix == "SM"
        assert kind.steps[-1].instead is not None
        table = explain(resolve_policy(preset))
        assert quote in table and "started with /socialmedia, references SM-YEAR-NNNN" in table
    steps = resolve_policy("st-leonards").requests["social_media_site"].steps
    assert "Step 1: Communications officer approves the aims, content and brand use and passes it on" in \
        explain(resolve_policy("st-leonards"))
    assert steps[0].instead == "dsl"
    for preset in ("mersham", "perryfields"):
        assert "social_media_site" not in resolve_policy(preset).requests


def test_never_to_the_requester_and_check_finds_a_step_nobody_else_can_take() -> None:
    school = load_school(EXAMPLE_SCHOOL)
    steps = school.policy.requests["blocked_content"].steps
    assert approver(school, steps[1], "cfinch").person.id == "jellis"
    head_asks = approver(school, steps[1], "jellis")
    assert (head_asks.person.id, head_asks.role, head_asks.instead_of) == ("hbrooks", "chair_of_governors", "headteacher")
    assert check_school(school) == []
    # The headteacher also chairs the governors here (a made-up config): their own request reaches nobody.
    people = tuple(replace(p, roles=(*p.roles, "chair_of_governors")) if p.id == "jellis" else
                   replace(p, roles=()) if p.id == "hbrooks" else p for p in school.people)
    findings = [str(f) for f in check_school(replace(school, people=people))]
    assert "requests.blocked_content.steps[1]: a request by jellis reaches nobody: nobody else holds headteacher " \
           "or chair_of_governors" in findings
