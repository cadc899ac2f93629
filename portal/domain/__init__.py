"""The portal's rules, free of Flask: access, policy, workflow and the commands of each aggregate.

Importing this package registers every workflow hook (``workflow.on_enter``), so the rules are
whole without any route module: drafting the agreement when a proposal is confirmed
(``agreements``), the live plan when a deployment becomes active (``plans``), and the invoices
when one completes or ends early (``finance``).
"""

from . import agreements, boards, finance, plans  # noqa: F401  (their workflow hooks)
