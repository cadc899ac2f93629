"""In a real browser: an admin invites a user, who sets a password from the emailed link and
signs in. No Content Security Policy violation anywhere on the way."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail

pytestmark = pytest.mark.browser


def test_invite_set_password_and_sign_in(world, page, sign_in, smtp):
    admin = world.user("a", "admin")
    sign_in(page, admin.email)
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Users").first.click()
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("Email address").fill("ivy.invited@alpha.example.org")
    page.get_by_label("Full name").fill("Ivy Invited")
    page.get_by_label("Role").select_option("headteacher")
    page.get_by_label("School", exact=True).select_option(label="Alpha Other Primary")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to ivy.invited@alpha.example.org").wait_for()

    db.session.rollback()  # end the test's read transaction: see what the server committed
    mail = db.session.scalar(select(OutboxEmail).where(
        OutboxEmail.to == "ivy.invited@alpha.example.org"))
    assert "set-password/" not in mail.body  # the outbox never holds the link...
    link = smtp.link("ivy.invited@alpha.example.org")  # ...only the email really sent

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.goto(link)
    page.get_by_label("New password").fill("ivy's long new password")
    page.get_by_label("Type the password again").fill("ivy's long new password")
    page.get_by_role("button", name="Set password").click()
    page.get_by_text("Your password is set").wait_for()

    sign_in(page, "ivy.invited@alpha.example.org", "ivy's long new password")
    page.get_by_text("Ivy Invited").first.wait_for()
    assert "/login" not in page.url

    # the link is spent
    page.goto(link)
    assert page.get_by_role("heading", name="This link cannot be used").is_visible()
    assert page.csp_violations == []
