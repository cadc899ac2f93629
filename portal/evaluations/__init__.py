"""Evaluation, sign-off, quality assurance and early end of a deployment."""
