"""Impact reports for the director and the Boards, and Board-targeted requests."""
