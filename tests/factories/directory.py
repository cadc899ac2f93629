"""The directory and administration: GIAS import rows, and a client per user."""

from __future__ import annotations

from flask import g

GIAS_HEADER = ("URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,"
               "TypeOfEstablishment (name),PhaseOfEducation (name),Street,Town,Postcode\n")


def gias_row(urn, name, phase="Primary", la="Sefton", la_code="343", postcode="L20 1AA"):
    return (f'{urn},{la_code},{la},2001,"{name}",Community school,{phase},1 High St,Bootle,'
            f"{postcode}\n")


def as_user(client_for, user):
    """A client for this user. The test app context is shared by requests, and Flask-Login
    caches the signed-in user on ``g``; forget it so the next request loads this user."""
    g.pop("_login_user", None)
    return client_for(user)
