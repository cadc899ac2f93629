"""Small builders for test data, one module per aggregate. Every object goes through the real
model, and every deployment past "proposed" through the real workflow (:func:`advance`).

``from tests import factories`` gives the common builders (``factories.world()``,
``factories.user(...)``, ``factories.advance(d, "active")``, ``factories.rate_card(a)`` ...);
the rest live in their module (``from tests.factories import plans as fp``):

* ``commit()``: commit and send the e-mails released, as a request does
* ``people``: ``PASSWORD``, ``user``, ``leader``
* ``alliances``: ``alliance``, ``school``, ``local_authority``, ``eip``, ``board``
* ``requests``: ``support_request``, ``specialism``, ``form_data``
* ``deployments``: ``deployment`` (a proposal), ``advance`` (the workflow)
* ``agreements``: ``sign``, ``signers``, ``ready_world``
* ``plans``: ``plan_of``, ``outcome``, ``action``, ``without_plan``, ``plans_world``
* ``evaluations``: ``live``, ``evaluations_world``, ``board_for``
* ``finance``: ``rate_card`` (the seeded cards), ``priced_deployment``
* ``directory``: ``GIAS_HEADER``, ``gias_row``, ``as_user``
* ``worlds``: ``world``, ``Side``, ``World``, and ``side_ids``/``grow`` for query budgets
* ``actions``: ``actions_world`` (something waits for every role: "Needs your action")
"""

from . import (
    agreements,
    alliances,
    deployments,
    directory,
    evaluations,
    finance,
    people,
    plans,
    requests,
    worlds,
)
from ._db import commit
from .alliances import alliance, board, eip, local_authority, school
from .deployments import advance, deployment
from .finance import priced_deployment, rate_card
from .people import PASSWORD, leader, officer, user
from .requests import specialism, support_request
from .worlds import Side, World, side, world

__all__ = [
    "PASSWORD",
    "Side",
    "World",
    "advance",
    "agreements",
    "alliance",
    "alliances",
    "board",
    "commit",
    "deployment",
    "deployments",
    "directory",
    "eip",
    "evaluations",
    "finance",
    "leader",
    "officer",
    "local_authority",
    "people",
    "plans",
    "priced_deployment",
    "rate_card",
    "requests",
    "school",
    "side",
    "specialism",
    "support_request",
    "user",
    "world",
    "worlds",
]
