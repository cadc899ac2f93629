"""Forms for step 6. Outcome ratings are built per deployment: one rating (and evidence) field
per intended outcome of its action plan."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..domain.evaluations import SCORES, Rating
from ..idempotency import OneTimeKey
from ..models import RATINGS
from ..validators import PlausibleDate, UKDateField, years

TEXT = 5000
IMPACT_CHOICES = [("", "Choose a rating")] + [(str(k), f"{k}: {v}") for k, v in RATINGS.items()]
SCORE_CHOICES = [("", "Choose a score")] + [(str(k), f"{k}: {v}") for k, v in SCORES.items()]


class VersionedForm(FlaskForm):
    """Carries the deployment version the user saw, so a stale or repeated action is refused."""

    version = HiddenField()

    def seen_version(self) -> int | None:
        """The version the form was sent with; None when it was sent without one (the version
        the form was built with for drawing is not what the user saw)."""
        sent = self.version.raw_data
        try:
            return int(sent[0]) if sent else None
        except (TypeError, ValueError):
            return None


def _with_outcomes(base: type[FlaskForm], outcomes, *, evidence_required: bool):
    attrs = {}
    for i, o in enumerate(outcomes, start=1):
        attrs[f"rating_{o.id}"] = SelectField(
            f"Impact on outcome {i}", choices=IMPACT_CHOICES,
            validators=[DataRequired(message=f"Choose the impact on outcome {i}.")])
        attrs[f"evidence_{o.id}"] = TextAreaField(
            f"Evidence for outcome {i}" if evidence_required else f"Comments on outcome {i}",
            validators=[DataRequired(message=f"Give the evidence for outcome {i}."),
                        Length(max=TEXT)] if evidence_required
            else [Optional(), Length(max=TEXT)])
    form_class = type(f"{base.__name__}WithOutcomes", (base,), attrs)
    form_class.outcomes = list(outcomes)  # type: ignore[attr-defined]
    return form_class


def ratings_from(form) -> dict[int, Rating]:
    return {o.id: Rating(int(form[f"rating_{o.id}"].data), form[f"evidence_{o.id}"].data or "")
            for o in form.outcomes}


class LeaderEvaluationBase(OneTimeKey, VersionedForm):
    summary = TextAreaField("Overall impact of the deployment",
                            validators=[DataRequired(message="Summarise the overall impact."),
                                        Length(max=TEXT)])
    changes_for_teachers = TextAreaField(
        "What changed for the teacher or teachers",
        validators=[DataRequired(message="Say what changed for the teachers."),
                    Length(max=TEXT)])
    changes_for_pupils = TextAreaField(
        "What changed for the pupils",
        validators=[DataRequired(message="Say what changed for the pupils."), Length(max=TEXT)])
    recommendations = TextAreaField("Recommendations", validators=[
        DataRequired(message="Give your recommendations."), Length(max=TEXT)])
    exit_arrangements = TextAreaField("Exit arrangements", validators=[
        DataRequired(message="Describe the exit arrangements."), Length(max=TEXT)])


def leader_form(outcomes, **kw):
    return _with_outcomes(LeaderEvaluationBase, outcomes, evidence_required=True)(**kw)


class SchoolEvaluationBase(VersionedForm):
    support_quality = SelectField("Quality of the system leader's support", choices=SCORE_CHOICES,
                                  validators=[DataRequired(message="Score the quality of the "
                                                                   "support.")])
    value_for_money = SelectField("Value for money", choices=SCORE_CHOICES, validators=[
        DataRequired(message="Score the value for money.")])
    would_use_again = SelectField(
        "Would you use this system leader again?",
        choices=[("", "Choose an answer"), ("yes", "Yes"), ("no", "No")],
        validators=[DataRequired(message="Say whether you would use this system leader again.")])
    summary = TextAreaField("Your school's comments", validators=[Optional(), Length(max=TEXT)])


def school_form(outcomes, people=(), **kw):
    """The school's questions; on a commission (``people``, the deployments under it) also a
    rating and comment of each person deployed, for the commission as a whole."""
    form_class = _with_outcomes(SchoolEvaluationBase, outcomes, evidence_required=False)
    attrs = {}
    for p in people:
        name = p.leader.name
        attrs[f"person_{p.id}_rating"] = SelectField(
            f"Quality of {name}'s support", choices=SCORE_CHOICES,
            validators=[DataRequired(message=f"Score the quality of {name}'s support.")])
        attrs[f"person_{p.id}_comment"] = TextAreaField(
            f"Comments on {name}'s work", validators=[Optional(), Length(max=TEXT)])
    if attrs:
        form_class = type(f"{form_class.__name__}WithPeople", (form_class,), attrs)
    form_class.people = list(people)
    return form_class(**kw)


def people_from(form) -> dict[int, Rating]:
    return {p.id: Rating(int(form[f"person_{p.id}_rating"].data),
                         form[f"person_{p.id}_comment"].data or "")
            for p in getattr(form, "people", [])}


class ReturnForm(VersionedForm):
    reason = TextAreaField("Why are you returning the evaluation?", validators=[
        DataRequired(message="Say why you are returning the evaluation."), Length(max=2000)])


class ForwardForm(VersionedForm):
    pass


class QANoteForm(OneTimeKey, VersionedForm):
    is_working = TextAreaField("Is it working?", validators=[
        DataRequired(message="Say whether the support is working."), Length(max=TEXT)])
    changes = TextAreaField("Changes needed", validators=[Optional(), Length(max=TEXT)])
    next_steps = TextAreaField("Next steps", validators=[Optional(), Length(max=TEXT)])
    exit_strategy = TextAreaField("Exit strategy", validators=[Optional(), Length(max=TEXT)])


class FinalQAForm(VersionedForm):
    notes = TextAreaField("Quality-assurance notes", validators=[
        DataRequired(message="Record your quality-assurance judgement."), Length(max=TEXT)])


class EndEarlyForm(OneTimeKey, VersionedForm):
    reason = TextAreaField("Why can the system leader not complete?", validators=[
        DataRequired(message="Say why the deployment is ending early."), Length(max=2000)])
    last_day_delivered = UKDateField("Last day delivered", validators=[
        InputRequired(message="Give the last day delivered as a date."),
        PlausibleDate(past=years(3), future=timedelta(0),
                      too_early="Give the last day delivered, on or after {earliest}.",
                      too_late="The last day delivered cannot be in the future.")])
    half_days_delivered = IntegerField("Half days delivered in all", validators=[
        InputRequired(message="Give the number of half days delivered."),
        NumberRange(min=0, message="Half days delivered cannot be negative.")])
