"""The set-up before section 1: the two services as their bootstraps build them, and the accounts.

It shows where the services keep their data and which broker joins them, then opens the two
customers' accounts the story pays from. The thing to notice: ada and bob are opened over HTTP,
the way any client would open them; the merchant account that receives the payments is opened by
billing itself when it starts. Every request carries a bearer token: the demo speaks as the back
office, and shows that a customer's token cannot spend another's account (docs/security.md).
"""

from __future__ import annotations

from demo.narration import Narrator
from demo.sections.common import ACCOUNTS, balance_of
from demo.sections.story import Story
from demo.stack import Stack
from deploy.tokens import DEVELOPMENT_SECRET, issue, secret_in_force


async def open_accounts(narrator: Narrator, stack: Stack, story: Story) -> None:
    for account, balance in {"ada": "100.00", "bob": "5.00"}.items():
        reply = await stack.billing_http.post(
            "/accounts", json={"account_id": account, "balance": balance}
        )
        reply.raise_for_status()
    databases = sorted(path.name for path in stack.folder.glob("*.db"))
    narrator.evidence(
        "the services (built by their bootstrap.build, started with service.start())",
        [
            ("databases", f"{', '.join(databases)}  in {stack.folder}"),
            ("broker", stack.side.description),
            ("accounts", ", ".join([f"{a} {await balance_of(stack, a)}" for a in ACCOUNTS])),
            ("tokens", "verified with " + _secret_name()),
        ],
    )
    narrator.say(
        "ada and bob were opened with POST /accounts; billing opens its merchant at start."
    )
    # bob's own token: a customer, so it may spend bob's account only.
    bobs_token = issue("bob", secret=secret_in_force())
    reply = await stack.billing_http.post(
        "/transfers",
        json={"from_account": "ada", "to_account": "bob", "amount": "50.00"},
        headers={"Authorization": f"Bearer {bobs_token}"},
    )
    narrator.check(
        reply.status_code == 403 and await balance_of(stack, "ada") == 100,
        "bob's token cannot move ada's money (403): the handler checks who asked",
    )


def _secret_name() -> str:
    if secret_in_force() == DEVELOPMENT_SECRET:
        return "the development secret (AUTH_SECRET is not set; public, never deploy it)"
    return "AUTH_SECRET"
