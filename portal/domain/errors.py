"""The few errors a user can meet. The domain raises these (or a subclass) and nothing else.

========================  ======  ==========================================================
error                     status  meaning
========================  ======  ==========================================================
:class:`NotVisible`       404     the object does not exist *for this user* (another school's
                                  or alliance's object looks exactly like a missing one)
:class:`Forbidden`        403     the user may see the object but their part in it does not
                                  include this action
:class:`NotNow`           409     the action exists for this user, but not in the object's
                                  current state (already done, wrong status, ...)
:class:`Invalid`          422     the input breaks a rule; ``field`` names the form field the
                                  message belongs beside (None: the form as a whole)
:class:`Conflict`         409     someone else changed the same thing at the same moment;
                                  nothing of ours was saved (stale rows, duplicates)
========================  ======  ==========================================================

``create_app`` maps every :class:`PortalError` once (``portal/error_pages.py``), htmx-aware, so a
route only catches one when it wants to answer differently (typically: ``Invalid`` to re-show its
form with the message beside the field, via :meth:`Invalid.show_on`).

A subclass may add a more specific name (``workflow.IllegalTransition``, ``plans.DaysExceeded``
...); the status comes from the class, so ``except NotNow`` catches every "not now".
"""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """Base of every error shown to a user: a status, a short title and a plain message."""

    status: int = 400
    title: str = "That could not be done"

    def __init__(self, message: str = "", *, forbidden: bool = False, **kwargs: Any) -> None:
        """``forbidden=True`` makes a "not now" error a 403 (for the older, combined error
        types such as ``workflow.IllegalTransition``); ``kwargs`` become attributes."""
        super().__init__(message)
        self.message = message
        if forbidden:
            self.status = 403
            self.title = Forbidden.title
        for name, value in kwargs.items():
            setattr(self, name, value)

    @property
    def forbidden(self) -> bool:
        """Kept for callers that used to ask ``exc.forbidden``."""
        return self.status == 403

    def __str__(self) -> str:
        return self.message


class NotVisible(PortalError, LookupError):
    """Not found for this user: another school's or alliance's object answers 404 too."""

    status = 404
    title = "Page not found"


class Forbidden(PortalError, PermissionError):
    """This user's part in the object does not include the action."""

    status = 403
    title = "You cannot do that"


class NotNow(PortalError):
    """The action is not possible in the object's current state."""

    status = 409
    title = "That cannot be done now"


class Invalid(PortalError, ValueError):
    """The input breaks a rule. ``field`` is the form field the message belongs beside."""

    status = 422
    title = "Check what you entered"

    def __init__(self, message: str, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field

    def show_on(self, form: Any) -> None:
        """Put the message beside its field of a WTForms ``form`` (or at the top of it)."""
        target = form[self.field] if self.field and self.field in form else None
        if target is not None:
            target.errors = [*list(target.errors or ()), self.message]
        else:
            form.form_errors.append(self.message)


class Conflict(PortalError):
    """Someone else changed the same thing at the same time; nothing of ours was saved."""

    status = 409
    title = "This has changed"
    default = ("Someone else changed this at the same time. Reload the page to see the latest "
               "version; nothing of yours was saved.")

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        super().__init__(message or self.default, **kwargs)
